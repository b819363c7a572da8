package tenant_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
	"github.com/roundtable-lms/roundtable/internal/tenant"
)

// clock is a registry clock a test moves by hand.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time          { return c.now }
func (c *clock) advance(d time.Duration) { c.now = c.now.Add(d) }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func dynamic(clientID, status string) tenant.Platform {
	p := canvas(clientID)
	p.Status, p.Deployments = status, nil
	return p
}

func TestPendingRegistrationsExpire(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		reg := tenant.NewRegistry(db)
		c := &clock{now: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)}
		reg.Now = c.Now
		old, err := reg.AddDynamic(ctx, dynamic("old", tenant.StatusPending))
		must(t, err)
		must(t, reg.AddDeployment(ctx, old.ID, "d-1"))
		approved, err := reg.AddDynamic(ctx, dynamic("approved", tenant.StatusActive))
		must(t, err)
		byHand, err := reg.Add(ctx, tenant.Platform{Name: "By hand", Issuer: "https://lms.example.edu", ClientID: "m",
			AuthURL: "https://lms.example.edu/auth", JWKSURL: "https://lms.example.edu/jwks", Status: tenant.StatusPending})
		must(t, err)
		c.advance(tenant.PendingLifetime - time.Hour)
		young, err := reg.AddDynamic(ctx, dynamic("young", tenant.StatusPending))
		must(t, err)

		if n, err := reg.DeleteExpiredPending(ctx); err != nil || n != 0 {
			t.Fatalf("before a week: %d removed, %v", n, err)
		}
		c.advance(2 * time.Hour)
		if n, err := reg.DeleteExpiredPending(ctx); err != nil || n != 1 {
			t.Fatalf("after a week: %d removed, %v", n, err)
		}
		ps, err := reg.List(ctx)
		must(t, err)
		left := map[string]bool{}
		for _, p := range ps {
			left[p.ID] = true
		}
		if len(left) != 3 || left[old.ID] || !left[approved.ID] || !left[byHand.ID] || !left[young.ID] {
			t.Fatalf("left %v", left)
		}
		var deps int64
		must(t, db.Table("deployments").Where("platform_id = ?", old.ID).Count(&deps).Error)
		if deps != 0 {
			t.Errorf("%d deployments of the removed platform", deps)
		}
	})
}

func TestDynamicSinceCountsTheLastHour(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		reg := tenant.NewRegistry(db)
		c := &clock{now: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)}
		reg.Now = c.Now
		_, err := reg.AddDynamic(ctx, dynamic("a", tenant.StatusPending))
		must(t, err)
		c.advance(30 * time.Minute)
		_, err = reg.AddDynamic(ctx, dynamic("b", tenant.StatusActive))
		must(t, err)
		_, err = reg.Add(ctx, canvas("by-hand"))
		must(t, err)
		c.advance(20 * time.Minute)
		n, oldest, err := reg.DynamicSince(ctx, c.now.Add(-time.Hour))
		if err != nil || n != 2 || !oldest.Equal(time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)) {
			t.Fatalf("%d since an hour ago, oldest %v, %v", n, oldest, err)
		}
		c.advance(15 * time.Minute)
		if n, oldest, _ := reg.DynamicSince(ctx, c.now.Add(-time.Hour)); n != 1 || !oldest.Equal(time.Date(2025, 3, 1, 9, 30, 0, 0, time.UTC)) {
			t.Fatalf("%d, oldest %v", n, oldest)
		}
	})
}

func TestGrantedScopesGather(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		reg := tenant.NewRegistry(db)
		p, err := reg.Add(ctx, canvas("1"))
		must(t, err)
		must(t, reg.NoteGrantedScopes(ctx, p.ID, []string{"score", "lineitem"}))
		must(t, reg.NoteGrantedScopes(ctx, p.ID, []string{"membership", "score"}))
		must(t, reg.NoteGrantedScopes(ctx, "no-such-platform", []string{"x"}))
		got, err := reg.Get(ctx, p.ID)
		must(t, err)
		if got.GrantedScopes != "lineitem membership score" || got.ScopesGrantedAt == nil {
			t.Fatalf("granted %q at %v", got.GrantedScopes, got.ScopesGrantedAt)
		}
	})
}

func TestRegistrationFailuresKeptCleanAndPruned(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		reg := tenant.NewRegistry(db)
		c := &clock{now: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)}
		reg.Now = c.Now
		// What an LMS or a visitor sends may hold NUL bytes and invalid
		// UTF-8, which Postgres refuses.
		must(t, reg.RecordRegistrationFailure(ctx, tenant.RegistrationFailure{Reference: "ref-1", ClientIP: "203.0.113.9",
			OpenIDConfiguration: "https://lms.example/\x00\xff", Reason: "registration_refused", Message: "Your LMS refused the registration (HTTP 401).",
			AnswerStatus: 401, AnswerSaid: "invalid_token", AnswerBody: "<b>no</b>\x00" + strings.Repeat("é", 3000)}))
		fs, err := reg.RegistrationFailures(ctx, 10)
		must(t, err)
		if len(fs) != 1 || fs[0].Reference != "ref-1" || fs[0].AnswerStatus != 401 || fs[0].AnswerSaid != "invalid_token" {
			t.Fatalf("%+v", fs)
		}
		if f := fs[0]; !utf8.ValidString(f.OpenIDConfiguration) || strings.ContainsRune(f.AnswerBody, 0) || len(f.AnswerBody) > 4010 ||
			!strings.HasPrefix(f.AnswerBody, "<b>no</b>") {
			t.Errorf("kept %q / %d bytes", f.OpenIDConfiguration, len(f.AnswerBody))
		}
		for i := range 3 {
			c.advance(time.Hour)
			must(t, reg.RecordRegistrationFailure(ctx, tenant.RegistrationFailure{Reference: fmt.Sprint("later-", i), Reason: "r", Message: "m"}))
		}
		c.advance(30*24*time.Hour - time.Hour)
		if n, err := reg.PruneRegistrationFailures(ctx); err != nil || n != 2 {
			t.Fatalf("pruned %d, %v", n, err)
		}
		fs, _ = reg.RegistrationFailures(ctx, 10)
		if len(fs) != 2 || fs[0].Reference != "later-2" {
			t.Fatalf("left %+v", fs)
		}
	})
}
