package session_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable/internal/course"
	"github.com/roundtable-lms/roundtable/internal/session"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
)

func TestSessionSecretsAndLinkTokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
		storetest.AddPlatform(t, db, "p1", "https://lms.example")
		s := session.NewStore(db, []byte("a secret of sufficient length for tests"))
		s.Now = func() time.Time { return now }
		var secret string
		var sess session.Session
		err := db.Tx(ctx, func(tx *gorm.DB) (err error) {
			secret, sess, err = s.Create(ctx, tx, session.Session{OrgID: "p1", PlatformID: "p1", UserID: "u1", CourseID: "c1", LinkID: "l1", CohortID: "co1", Roles: course.Roles{course.Learner}})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		var stored string
		db.Raw(`SELECT id_hash FROM sessions`).Scan(&stored)
		if stored == secret || stored != sess.IDHash {
			t.Fatal("the session secret itself is stored")
		}
		got, err := s.FromSecret(ctx, secret)
		if err != nil || got.UserID != "u1" || got.LinkID != "l1" || !got.Roles.Has(course.Learner) {
			t.Fatalf("from secret: %+v %v", got, err)
		}
		tok := s.Token(sess)
		if got, err := s.FromToken(ctx, tok); err != nil || got.IDHash != sess.IDHash {
			t.Fatalf("from token: %+v %v", got, err)
		}
		for name, bad := range map[string]string{"empty": "", "no dot": "abc", "bad signature": tok[:len(tok)-2] + "AA", "secret as token": secret} {
			if _, err := s.FromToken(ctx, bad); !errors.Is(err, session.ErrNoSession) {
				t.Errorf("%s: %v", name, err)
			}
		}
		// Another deployment's key cannot mint tokens for this one.
		other := session.NewStore(db, []byte("another secret of sufficient length!!"))
		other.Now = s.Now
		if _, err := s.FromToken(ctx, other.Token(sess)); !errors.Is(err, session.ErrNoSession) {
			t.Errorf("token signed with another key: %v", err)
		}
		// A token lives minutes; the session twelve hours.
		now = now.Add(session.DefaultTokenTTL + time.Minute)
		if _, err := s.FromToken(ctx, tok); !errors.Is(err, session.ErrNoSession) {
			t.Errorf("expired token accepted: %v", err)
		}
		if _, err := s.FromSecret(ctx, secret); err != nil {
			t.Errorf("session ended with its token: %v", err)
		}
		// Past the session's end neither the cache nor the database serves it.
		now = now.Add(12 * time.Hour)
		if _, err := s.FromSecret(ctx, secret); !errors.Is(err, session.ErrNoSession) {
			t.Errorf("expired session served: %v", err)
		}
		if n, err := s.DeleteExpired(ctx); err != nil || n != 1 {
			t.Errorf("delete expired: %d %v", n, err)
		}
	})
}

// A link token copied out of a URL is worthless within minutes, while the
// fresh token each page hands out keeps an active person going; signing
// out ends the session for its cookie and every token at once.
func TestLinkTokensExpireInMinutesAndSignOutEndsTheSession(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
		start := now
		storetest.AddPlatform(t, db, "p1", "https://lms.example")
		s := session.NewStore(db, []byte("a secret of sufficient length for tests"))
		s.Now = func() time.Time { return now }
		if s.TokenTTL > 30*time.Minute || session.RefreshEvery >= s.TokenTTL/2 {
			t.Fatalf("token lifetime %s refreshed every %s: not minutes, or refreshed too late", s.TokenTTL, session.RefreshEvery)
		}
		frames := []string{"https://lms.example", "https://school.example.edu"}
		secret, _, used, err := s.ConsumeAndCreate(ctx, session.LoginState{}, session.Session{OrgID: "p1", PlatformID: "p1"})
		if err != nil || used || secret != "" {
			t.Fatalf("a session without a login state: %v %v", used, err)
		}
		var sess session.Session
		err = db.Tx(ctx, func(tx *gorm.DB) (err error) {
			secret, sess, err = s.Create(ctx, tx, session.Session{OrgID: "p1", PlatformID: "p1", UserID: "u1", CourseID: "c1", LinkID: "l1", CohortID: "co1",
				Roles: course.Roles{course.Learner}, FrameOrigins: frames})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		copied := s.Token(sess)
		// The person keeps working: each page (or the page's script) takes
		// a fresh token before the one it has expires.
		fresh := copied
		for i := 0; i < 6; i++ {
			now = now.Add(session.RefreshEvery)
			got, err := s.FromToken(ctx, fresh)
			if err != nil {
				t.Fatalf("after %s the page's token is refused: %v", now.Sub(start), err)
			}
			fresh = s.Token(got)
		}
		if _, err := s.FromToken(ctx, copied); !errors.Is(err, session.ErrNoSession) {
			t.Errorf("a token copied %s ago still opens the session: %v", now.Sub(start), err)
		}
		// The refusal of a stale token is still framed by the session's LMS.
		if got, err := s.FromStaleToken(ctx, copied); err != nil || strings.Join(got.FrameOrigins, " ") != strings.Join(frames, " ") {
			t.Errorf("stale token: %+v %v", got, err)
		}
		if _, err := s.FromStaleToken(ctx, copied[:len(copied)-2]+"AA"); !errors.Is(err, session.ErrNoSession) {
			t.Errorf("a forged stale token names a session: %v", err)
		}
		// A fresh store reads the origins back from the database.
		other := session.NewStore(db, []byte("a secret of sufficient length for tests"))
		other.Now = s.Now
		if got, err := other.FromSecret(ctx, secret); err != nil || strings.Join(got.FrameOrigins, " ") != strings.Join(frames, " ") {
			t.Errorf("stored frame origins: %+v %v", got, err)
		}

		if err := s.End(ctx, sess); err != nil {
			t.Fatal(err)
		}
		for name, find := range map[string]func() (session.Session, error){
			"cookie":      func() (session.Session, error) { return s.FromSecret(ctx, secret) },
			"token":       func() (session.Session, error) { return s.FromToken(ctx, fresh) },
			"stale token": func() (session.Session, error) { return s.FromStaleToken(ctx, fresh) },
		} {
			if _, err := find(); !errors.Is(err, session.ErrNoSession) {
				t.Errorf("after sign-out the %s still finds the session: %v", name, err)
			}
		}
	})
}

func TestConsumeAndCreateUsesTheStateOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		storetest.AddPlatform(t, db, "p1", "https://lms.example")
		s := session.NewStore(db, []byte("a secret of sufficient length for tests"))
		st, err := s.NewLoginState("p1", browserHash, "")
		if err != nil {
			t.Fatal(err)
		}
		want := session.Session{OrgID: "p1", PlatformID: "p1", UserID: "u1", CourseID: "c1", LinkID: "l1", CohortID: "co1", Roles: course.Roles{course.Instructor},
			FrameOrigins: []string{"https://lms.example"}}
		secret, got, used, err := s.ConsumeAndCreate(ctx, st, want)
		if err != nil || !used || secret == "" || got.UserID != "u1" || !got.Roles.Has(course.Instructor) {
			t.Fatalf("first use: %+v used=%v err=%v", got, used, err)
		}
		if found, err := session.NewStore(db, []byte("a secret of sufficient length for tests")).FromSecret(ctx, secret); err != nil || found.IDHash != got.IDHash ||
			strings.Join(found.FrameOrigins, " ") != "https://lms.example" {
			t.Fatalf("the created session is not found as created: %+v %v", found, err)
		}
		_, _, used, err = s.ConsumeAndCreate(ctx, st, want)
		if err != nil || used {
			t.Fatalf("second use: used=%v err=%v", used, err)
		}
		var n int64
		db.Raw(`SELECT COUNT(*) FROM sessions`).Scan(&n)
		if n != 1 {
			t.Fatalf("%d sessions after a replayed state, want 1", n)
		}
	})
}

func TestConsumeAndCreateWritesAlsoOnlyWithTheState(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		storetest.AddPlatform(t, db, "p1", "https://lms.example")
		s := session.NewStore(db, []byte("a secret of sufficient length for tests"))
		st, err := s.NewLoginState("p1", browserHash, "")
		if err != nil {
			t.Fatal(err)
		}
		touch := func(at time.Time) store.Stmt {
			return store.Stmt{SQL: `UPDATE platforms SET last_launch_at = ? WHERE id = ?`, Args: []any{at, "p1"}}
		}
		lastLaunch := func() time.Time {
			var at time.Time
			if err := db.QueryRow(ctx, `SELECT last_launch_at FROM platforms WHERE id = ?`, "p1").Scan(&at); err != nil {
				t.Fatal(err)
			}
			return at.UTC()
		}
		first := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
		sess := session.Session{OrgID: "p1", PlatformID: "p1", UserID: "u1", CourseID: "c1", LinkID: "l1", CohortID: "co1", Roles: course.Roles{course.Learner}}
		if _, _, used, err := s.ConsumeAndCreate(ctx, st, sess, touch(first)); err != nil || !used {
			t.Fatalf("first use: used=%v err=%v", used, err)
		}
		if got := lastLaunch(); !got.Equal(first) {
			t.Fatalf("the launch's own write is %v, want %v", got, first)
		}
		if _, _, used, err := s.ConsumeAndCreate(ctx, st, sess, touch(first.Add(time.Hour))); err != nil || used {
			t.Fatalf("replayed state: used=%v err=%v", used, err)
		}
		if got := lastLaunch(); !got.Equal(first) {
			t.Fatalf("a replayed state wrote %v", got)
		}
	})
}

func TestCSRFTokenIsBoundToTheSessionAndKey(t *testing.T) {
	a := session.NewStore(nil, []byte("a secret of sufficient length for tests"))
	b := session.NewStore(nil, []byte("another secret of sufficient length"))
	s1 := session.Session{IDHash: strings.Repeat("a", 64)}
	s2 := session.Session{IDHash: strings.Repeat("b", 64)}
	tok := a.CSRFToken(s1)
	if !a.CheckCSRF(s1, tok) {
		t.Fatal("a session's own token is refused")
	}
	if a.CheckCSRF(s2, tok) || a.CheckCSRF(s1, "") || a.CheckCSRF(s1, tok+"x") || b.CheckCSRF(s1, tok) {
		t.Error("a token of another session, key or form is accepted")
	}
}

var browserHash = strings.Repeat("ab", 32)
