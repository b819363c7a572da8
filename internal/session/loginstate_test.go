package session_test

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable/internal/session"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
)

const testSecret = "a secret of sufficient length for tests"

// A login state comes back from the platform as it was sealed; any change
// to it, a state sealed under another secret, an expired state and other
// values this server signs are refused.
func TestLoginStateIsSealedAndChecked(t *testing.T) {
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	s := session.NewStore(nil, []byte(testSecret))
	s.Now = func() time.Time { return now }
	ls, err := s.NewLoginState("p1", browserHash, "_parent")
	if err != nil {
		t.Fatal(err)
	}
	if ls.ID == "" || ls.Nonce == "" || ls.Nonce == ls.ID || !ls.ExpiresAt.Equal(now.Add(session.LoginStateTTL)) {
		t.Fatalf("new state %+v", ls)
	}
	if other, _ := s.NewLoginState("p1", browserHash, "_parent"); other.ID == ls.ID || other.Nonce == ls.Nonce || other.State == ls.State {
		t.Fatal("two logins share an id or nonce")
	}
	got, err := s.OpenLoginState(ls.State)
	if err != nil || got != ls {
		t.Fatalf("opened %+v %v, want %+v", got, err, ls)
	}

	raw, _ := base64.RawURLEncoding.DecodeString(ls.State)
	for i := range raw {
		for _, bit := range []byte{0x01, 0x80} {
			b := append([]byte(nil), raw...)
			b[i] ^= bit
			if _, err := s.OpenLoginState(base64.RawURLEncoding.EncodeToString(b)); !errors.Is(err, session.ErrBadLoginState) {
				t.Fatalf("byte %d altered: %v", i, err)
			}
		}
	}
	for name, forged := range map[string]string{
		"empty":      "",
		"truncated":  ls.State[:len(ls.State)-4],
		"extended":   ls.State + "AAAA",
		"not base64": strings.Repeat("!", 120),
		"padded":     ls.State + "=",
		"huge":       strings.Repeat("A", 100000),
	} {
		if _, err := s.OpenLoginState(forged); !errors.Is(err, session.ErrBadLoginState) {
			t.Errorf("%s state: %v", name, err)
		}
	}

	// Another server's secret.
	other := session.NewStore(nil, []byte("another secret of sufficient length"))
	other.Now = s.Now
	if _, err := other.OpenLoginState(ls.State); !errors.Is(err, session.ErrBadLoginState) {
		t.Errorf("a state sealed under another secret: %v", err)
	}
	// A link token, signed by the same server for another purpose.
	if _, err := s.OpenLoginState(s.Token(session.Session{IDHash: strings.Repeat("a", 64), ExpiresAt: now.Add(time.Hour)})); !errors.Is(err, session.ErrBadLoginState) {
		t.Errorf("a link token opens as a login state: %v", err)
	}

	now = ls.ExpiresAt.Add(-time.Second)
	if _, err := s.OpenLoginState(ls.State); err != nil {
		t.Errorf("a state a second before its expiry: %v", err)
	}
	now = ls.ExpiresAt
	if _, err := s.OpenLoginState(ls.State); !errors.Is(err, session.ErrBadLoginState) {
		t.Errorf("an expired state: %v", err)
	}

	if _, err := s.NewLoginState(strings.Repeat("p", 256), browserHash, ""); err == nil {
		t.Error("a platform id longer than a state carries is sealed")
	}
	if _, err := s.NewLoginState("p1", "not a hash", ""); err == nil {
		t.Error("a browser hash that is not one is sealed")
	}
}

// A state is spent once: the second spending, and the spending of an
// expired state, find nothing; spent states are forgotten once expired.
func TestLoginStateIsSpentOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
		s := session.NewStore(db, []byte(testSecret))
		s.Now = func() time.Time { return now }
		spend := func(ls session.LoginState) bool {
			var used bool
			if err := db.Tx(ctx, func(tx *gorm.DB) (err error) {
				used, err = s.ConsumeLoginState(ctx, tx, ls)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return used
		}
		a, _ := s.NewLoginState("p1", browserHash, "")
		b, _ := s.NewLoginState("p1", browserHash, "")
		if !spend(a) || spend(a) {
			t.Fatal("a state is not spent exactly once")
		}
		now = now.Add(session.LoginStateTTL)
		if spend(b) {
			t.Fatal("an expired state is spent")
		}
		c, _ := s.NewLoginState("p1", browserHash, "")
		if !spend(c) {
			t.Fatal("a fresh state is not spent")
		}
		now = now.Add(time.Hour)
		if n, err := s.DeleteExpiredLoginStates(ctx); err != nil || n != 2 {
			t.Fatalf("deleted %d spent states, want 2: %v", n, err)
		}
		if n := count(t, db, "used_login_states"); n != 0 {
			t.Fatalf("%d spent states left", n)
		}
	})
}

func count(t *testing.T, db *store.DB, table string) int64 {
	t.Helper()
	var n int64
	if err := db.Raw(`SELECT COUNT(*) FROM ` + table).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// FuzzOpenLoginState: whatever a platform or an attacker posts as the
// state, opening it never panics, and only a state this store sealed opens.
func FuzzOpenLoginState(f *testing.F) {
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	s := session.NewStore(nil, []byte(testSecret))
	s.Now = func() time.Time { return now }
	ls, _ := s.NewLoginState("p1", browserHash, "_parent")
	f.Add(ls.State)
	f.Add(ls.State[:len(ls.State)-1])
	f.Add("")
	f.Add("AQ")
	f.Add(strings.Repeat("A", session.MaxLoginStateLen))
	f.Fuzz(func(t *testing.T, state string) {
		got, err := s.OpenLoginState(state)
		if err != nil {
			if !errors.Is(err, session.ErrBadLoginState) {
				t.Fatalf("error %v", err)
			}
			return
		}
		// Every state this key sealed names p1, this browser and "_parent"
		// (the fuzzing workers seal their own: the seed above is theirs).
		if got.State != state || got.PlatformID != "p1" || got.BrowserHash != browserHash || got.StorageTarget != "_parent" ||
			!now.Before(got.ExpiresAt) || len(got.ID) != 22 || len(got.Nonce) != 32 {
			t.Fatalf("%q opened as %+v", state, got)
		}
	})
}
