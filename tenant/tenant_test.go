package tenant_test

import (
	"context"
	"errors"
	"testing"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/lti"
	"github.com/roundtable-lms/roundtable/store"
	"github.com/roundtable-lms/roundtable/store/storetest"
	"github.com/roundtable-lms/roundtable/tenant"
)

func canvas(clientID string) tenant.Platform {
	return tenant.Platform{
		Name: "Canvas " + clientID, Issuer: "https://canvas.instructure.com", ClientID: clientID,
		AuthURL: "https://sso.canvaslms.com/api/lti/authorize_redirect", TokenURL: "https://sso.canvaslms.com/login/oauth2/token",
		JWKSURL: "https://sso.canvaslms.com/api/lti/security/jwks", Deployments: []string{"1:abc"},
	}
}

func reason(err error) lti.Reason {
	var le *lti.Error
	if errors.As(err, &le) {
		return le.Reason
	}
	return ""
}

func TestSameIssuerDifferentClientsAreTwoRegistrations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		reg := tenant.NewRegistry(db)
		a, err := reg.Add(ctx, canvas("10000000000001"))
		if err != nil {
			t.Fatal(err)
		}
		b, err := reg.Add(ctx, canvas("10000000000002"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := reg.Add(ctx, canvas("10000000000001")); roundtable.ErrorCode(err) != roundtable.ECONFLICT {
			t.Fatalf("duplicate registration: %v", err)
		}
		got, err := reg.FindRegistration(ctx, "https://canvas.instructure.com", "10000000000002")
		if err != nil || got.ID != b.ID {
			t.Fatalf("find by client id: %+v %v", got, err)
		}
		if _, err := reg.FindRegistration(ctx, "https://canvas.instructure.com", ""); reason(err) != lti.ReasonAmbiguousPlatform {
			t.Fatalf("no client id with two registrations: %v", err)
		}
		if err := reg.Remove(ctx, b.ID); err != nil {
			t.Fatal(err)
		}
		// With one registration left, a login without client_id finds it.
		got, err = reg.FindRegistration(ctx, "https://canvas.instructure.com", "")
		if err != nil || got.ID != a.ID {
			t.Fatalf("single registration without client id: %+v %v", got, err)
		}
		ok, _ := reg.HasDeployment(ctx, a.ID, "1:abc")
		other, _ := reg.HasDeployment(ctx, a.ID, "2:def")
		if !ok || other {
			t.Fatalf("deployments: registered %v, unregistered %v", ok, other)
		}
		if _, err := reg.FindRegistration(ctx, "https://unknown.example", "x"); reason(err) != lti.ReasonUnknownPlatform {
			t.Fatalf("unknown platform: %v", err)
		}
	})
}

func TestRegistrationsAreValidated(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		reg := tenant.NewRegistry(db)
		for name, edit := range map[string]func(p *tenant.Platform){
			"no name":         func(p *tenant.Platform) { p.Name = " " },
			"no client id":    func(p *tenant.Platform) { p.ClientID = "" },
			"relative issuer": func(p *tenant.Platform) { p.Issuer = "/lms" },
			"http auth URL":   func(p *tenant.Platform) { p.AuthURL = "http://lms.example.edu/auth" },
			"no JWKS URL":     func(p *tenant.Platform) { p.JWKSURL = "" },
			"bad status":      func(p *tenant.Platform) { p.Status = "maybe" },
			"ftp token URL":   func(p *tenant.Platform) { p.TokenURL = "ftp://lms.example.edu/token" },
		} {
			p := canvas("1")
			edit(&p)
			if _, err := reg.Add(context.Background(), p); roundtable.ErrorCode(err) != roundtable.EINVALID {
				t.Errorf("%s: got %v, want an invalid-input error", name, err)
			}
		}
		p := canvas("1")
		p.AuthURL = "http://127.0.0.1:8081/auth" // a local LMS may use plain http
		if _, err := reg.Add(context.Background(), p); err != nil {
			t.Errorf("loopback http: %v", err)
		}
		list, _ := reg.List(context.Background())
		if len(list) != 1 {
			t.Fatalf("invalid registrations were stored: %d", len(list))
		}
	})
}

func TestFrameOriginsIncludeWhereEachLMSShowsCourses(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		reg := tenant.NewRegistry(db)
		if _, err := reg.Add(ctx, canvas("1")); err != nil {
			t.Fatal(err)
		}
		moodle := tenant.Platform{Name: "Moodle", Issuer: "https://moodle.example.edu", ClientID: "m",
			AuthURL: "https://moodle.example.edu/mod/lti/auth.php", JWKSURL: "https://moodle.example.edu/mod/lti/certs.php", Status: tenant.StatusDisabled}
		if _, err := reg.Add(ctx, moodle); err != nil {
			t.Fatal(err)
		}
		got, err := reg.FrameOrigins(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]bool{"https://canvas.instructure.com": true, "https://sso.canvaslms.com": true, "https://*.instructure.com": true}
		if len(got) != len(want) {
			t.Fatalf("frame origins %v, want %v (a disabled platform may not embed the tool)", got, want)
		}
		for _, o := range got {
			if !want[o] {
				t.Errorf("unexpected frame origin %q", o)
			}
		}
	})
}
