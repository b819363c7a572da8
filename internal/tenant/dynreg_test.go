package tenant_test

import (
	"context"
	"sync"
	"testing"

	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
	"github.com/roundtable-lms/roundtable/internal/tenant"
	"github.com/roundtable-lms/roundtable/lti"
)

func canvasConfiguration() *lti.PlatformConfiguration {
	return &lti.PlatformConfiguration{
		Issuer: "https://canvas.instructure.com", AuthorizationEndpoint: "https://sso.canvaslms.com/api/lti/authorize_redirect",
		TokenEndpoint: "https://sso.canvaslms.com/login/oauth2/token", JWKSURI: "https://sso.canvaslms.com/api/lti/security/jwks",
		LTI: &lti.PlatformConfigurationClaim{ProductFamilyCode: "canvas", Version: "OpenSource"},
	}
}

func TestFromDynamicRegistration(t *testing.T) {
	p := tenant.FromDynamicRegistration(canvasConfiguration(), &lti.ClientRegistration{ClientID: "170000000000001", Scope: "a"}, "a b", tenant.StatusPending)
	if p.Name != "Canvas (canvas.instructure.com)" || p.LMSFamily != "canvas" || p.ProductVersion != "OpenSource" ||
		p.AnnouncedScopes != "a" || p.Status != tenant.StatusPending || p.RegisteredBy != tenant.RegisteredDynamically || len(p.Deployments) != 0 {
		t.Errorf("%+v", p)
	}
	// Newer Canvas answers its root account's deployment at the top, and
	// the scopes asked for plus openid.
	p = tenant.FromDynamicRegistration(canvasConfiguration(), &lti.ClientRegistration{ClientID: "170000000000001",
		Scope: "a b openid", AnsweredDeploymentID: "9:8865aa05"}, "a b", tenant.StatusPending)
	if p.AnnouncedScopes != "a b" || len(p.Deployments) != 1 || p.Deployments[0] != "9:8865aa05" {
		t.Errorf("announced %q, deployments %v", p.AnnouncedScopes, p.Deployments)
	}
}

func TestAcceptDeploymentOnlyOnceAndOnlyForDynamic(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		reg := tenant.NewRegistry(db)
		manual, err := reg.Add(ctx, canvas("1"))
		if err != nil {
			t.Fatal(err)
		}
		if manual.RegisteredBy != tenant.RegisteredManually {
			got, _ := reg.Get(ctx, manual.ID)
			if got.RegisteredBy != tenant.RegisteredManually {
				t.Errorf("registered by %q", got.RegisteredBy)
			}
		}
		dyn, err := reg.AddDynamic(ctx, tenant.FromDynamicRegistration(canvasConfiguration(), &lti.ClientRegistration{ClientID: "2"}, "", tenant.StatusActive))
		if err != nil {
			t.Fatal(err)
		}
		if ok, _ := reg.AwaitsFirstDeployment(ctx, dyn.ID); !ok {
			t.Error("a deployment-less dynamic registration does not await its first deployment")
		}
		if ok, _ := reg.AwaitsFirstDeployment(ctx, manual.ID); ok {
			t.Error("a manual registration awaits a deployment")
		}
		// Two first launches race with different deployments: one wins.
		var wg sync.WaitGroup
		won := make([]bool, 8)
		for i := range won {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, err := reg.AcceptDeployment(ctx, dyn.ID, []string{"d-a", "d-b"}[i%2])
				if err != nil {
					t.Error(err)
				}
				won[i] = ok
			}()
		}
		wg.Wait()
		got, err := reg.Get(ctx, dyn.ID)
		if err != nil || len(got.Deployments) != 1 {
			t.Fatalf("deployments %v %v", got.Deployments, err)
		}
		for i, ok := range won {
			if want := []string{"d-a", "d-b"}[i%2] == got.Deployments[0]; ok != want {
				t.Errorf("attempt %d accepted=%v, deployment kept %s", i, ok, got.Deployments[0])
			}
		}
		if ok, _ := reg.AwaitsFirstDeployment(ctx, dyn.ID); ok {
			t.Error("still awaiting after the first deployment")
		}
		if ok, _ := reg.AcceptDeployment(ctx, manual.ID, "x"); ok {
			t.Error("manual registration accepted a deployment")
		}
	})
}
