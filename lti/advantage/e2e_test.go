package advantage_test

import (
	"context"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/roundtable-lms/roundtable/internal/apptest"
	"github.com/roundtable-lms/roundtable/internal/egress"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
	"github.com/roundtable-lms/roundtable/lti"
	"github.com/roundtable-lms/roundtable/lti/advantage"
)

// The registration's own keys (toolkey) sign the assertions, its JWKS URL
// publishes them, and the platform trusts a rotated key at once.
func TestRoundtableKeysAuthenticateToTheLMS(t *testing.T) {
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			env := apptest.Start(t, kind)
			ctx := context.Background()
			p := env.Platform
			// The platform is on loopback, which a guarded client reaches
			// only when allowed.
			hc := egress.NewClient(egress.Config{Allow: egress.Loopback})
			tokens := advantage.NewTokenSource(hc, func(ctx context.Context, reg lti.Registration) (jwk.Key, error) {
				return env.App.Keys.Signing(ctx, reg.ID)
			})
			client := &advantage.Client{HTTP: hc, Tokens: tokens}
			reg := env.Registered.Registration()

			members, err := client.Members(ctx, reg, p.MembershipsURL(apptest.CourseID), apptest.LinkID)
			must(t, err)
			if len(members) != 4 {
				t.Errorf("%d members, want the seeded 4", len(members))
			}
			li, err := client.FindOrCreateLineItem(ctx, reg, p.LineItemsURL(apptest.CourseID), advantage.LineItem{
				Label: "Week 1 discussion", ScoreMaximum: 3, ResourceID: "e2e-activity", ResourceLinkID: apptest.LinkID})
			must(t, err)
			given := 2.0
			must(t, client.PublishScore(ctx, reg, li.ID, advantage.Score{UserID: apptest.Learner, ScoreGiven: &given, ScoreMaximum: 3,
				ActivityProgress: advantage.ActivityCompleted, GradingProgress: advantage.GradingFullyGraded, Timestamp: time.Now()}))
			if s, ok := p.LatestScore(platformID(t, li.ID), apptest.Learner); !ok || *s.ScoreGiven != 2 {
				t.Errorf("score on the LMS: %+v %v", s, ok)
			}

			old, err := env.App.Keys.Signing(ctx, reg.ID)
			must(t, err)
			_, err = env.App.Keys.Rotate(ctx, reg.ID)
			must(t, err)
			next, err := env.App.Keys.Signing(ctx, reg.ID)
			must(t, err)
			if next.KeyID() == old.KeyID() {
				t.Fatal("rotation kept the kid")
			}
			tokens.Invalidate(reg, []string{lti.NRPSScopeMembershipReadOnly})
			// The platform refetches a tool's JWKS for an unknown kid at most
			// once a second, on its clock.
			p.AdvanceClock(1100 * time.Millisecond)
			if _, err := client.Members(ctx, reg, p.MembershipsURL(apptest.CourseID), ""); err != nil {
				t.Errorf("after rotating to %s: %v", next.KeyID(), err)
			}
		})
	}
}
