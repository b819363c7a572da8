package admin_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/internal/admin"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
)

// fast hashing keeps the tests quick; production uses DefaultParams.
var fast = admin.Params{Memory: 1024, Time: 1, Threads: 1}

type clock struct{ t time.Time }

func (c *clock) now() time.Time      { return c.t }
func (c *clock) add(d time.Duration) { c.t = c.t.Add(d) }
func newStore(db *store.DB) (*admin.Store, *clock) {
	c := &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	s := admin.NewStore(db)
	s.Now, s.Params = c.now, fast
	return s, c
}

func TestPasswordHash(t *testing.T) {
	h, err := admin.HashPassword("correct horse battery", admin.DefaultParams)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("not a PHC argon2id string: %s", h)
	}
	if ok, err := admin.CheckPassword(h, "correct horse battery"); !ok || err != nil {
		t.Errorf("right password refused: %v", err)
	}
	if ok, _ := admin.CheckPassword(h, "correct horse batterY"); ok {
		t.Error("wrong password accepted")
	}
	h2, _ := admin.HashPassword("correct horse battery", admin.DefaultParams)
	if h == h2 {
		t.Error("two hashes of one password are equal: no salt")
	}
	for _, bad := range []string{"", "$2a$10$abc", "$argon2id$v=19$m=0,t=1,p=1$AAAA$AAAA", "$argon2i$v=19$m=1024,t=1,p=1$AAAA$AAAA"} {
		if _, err := admin.CheckPassword(bad, "x"); err == nil {
			t.Errorf("malformed hash %q accepted", bad)
		}
	}
}

func TestCreateValidates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, _ := newStore(db)
		u, err := s.Create(ctx, "  Ada@Example.EDU ", "a long enough password")
		if err != nil {
			t.Fatal(err)
		}
		if u.Email != "ada@example.edu" {
			t.Errorf("email stored as %q, want lower-cased", u.Email)
		}
		if _, err := s.Create(ctx, "ADA@example.edu", "another long password"); roundtable.ErrorCode(err) != roundtable.ECONFLICT {
			t.Errorf("same email in other case: %v", err)
		}
		for _, email := range []string{"", "ada", "ada@", "@example.edu", "ada@localhost", "Ada <ada@example.edu>", "a b@example.edu"} {
			if _, err := s.Create(ctx, email, "a long enough password"); roundtable.ErrorCode(err) != roundtable.EINVALID {
				t.Errorf("email %q: %v", email, err)
			}
		}
		if _, err := s.Create(ctx, "bob@example.edu", "short pass"); roundtable.ErrorCode(err) != roundtable.EINVALID || !strings.Contains(err.Error(), "12") {
			t.Errorf("short password: %v", err)
		}
		var hash string
		db.Raw(`SELECT password_hash FROM admin_users WHERE email = ?`, "ada@example.edu").Scan(&hash)
		if !strings.HasPrefix(hash, "$argon2id$") || strings.Contains(hash, "long enough") {
			t.Errorf("stored hash %q", hash)
		}
		list, err := s.List(ctx)
		if err != nil || len(list) != 1 {
			t.Errorf("list: %v %v", list, err)
		}
	})
}

func TestSessions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, clk := newStore(db)
		u, err := s.Create(ctx, "ada@example.edu", "a long enough password")
		if err != nil {
			t.Fatal(err)
		}
		secret, sess, err := s.CreateSession(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if sess.Email != u.Email || len(sess.CSRFToken) < 40 || strings.Contains(sess.IDHash, secret) {
			t.Errorf("session %+v", sess)
		}
		var n int64
		db.Raw(`SELECT COUNT(*) FROM admin_sessions WHERE id_hash = ?`, secret).Scan(&n)
		if n != 0 {
			t.Error("the secret itself is stored")
		}
		if _, err := s.FindSession(ctx, "not-a-session"); !errors.Is(err, admin.ErrNoSession) {
			t.Errorf("unknown secret: %v", err)
		}
		// Activity keeps it alive for up to 24 hours...
		for i := 0; i < 3; i++ {
			clk.add(7 * time.Hour)
			if got, err := s.FindSession(ctx, secret); err != nil || got.CSRFToken != sess.CSRFToken {
				t.Fatalf("after %d×7h of activity: %v", i+1, err)
			}
		}
		clk.add(3*time.Hour + time.Second)
		if _, err := s.FindSession(ctx, secret); !errors.Is(err, admin.ErrNoSession) {
			t.Errorf("past 24 hours: %v", err)
		}
		// ...and 8 idle hours end it.
		secret, _, _ = s.CreateSession(ctx, u.ID)
		clk.add(8*time.Hour + time.Second)
		if _, err := s.FindSession(ctx, secret); !errors.Is(err, admin.ErrNoSession) {
			t.Errorf("after 8 idle hours: %v", err)
		}
		if n, err := s.DeleteExpired(ctx); err != nil || n != 2 {
			t.Errorf("delete expired: %d %v", n, err)
		}
		secret, _, _ = s.CreateSession(ctx, u.ID)
		if err := s.DeleteSession(ctx, secret); err != nil {
			t.Fatal(err)
		}
		if _, err := s.FindSession(ctx, secret); !errors.Is(err, admin.ErrNoSession) {
			t.Errorf("after sign out: %v", err)
		}
	})
}
