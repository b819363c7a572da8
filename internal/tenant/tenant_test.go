package tenant_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
	"github.com/roundtable-lms/roundtable/internal/tenant"
	"github.com/roundtable-lms/roundtable/lti"
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
			// Issue 9: this host went into every page's frame-ancestors.
			"semicolon in auth host": func(p *tenant.Platform) { p.AuthURL = "https://lms6.example;sandbox/auth" },
			"semicolon in issuer":    func(p *tenant.Platform) { p.Issuer = "https://lms6.example;sandbox" },
			"space in JWKS host":     func(p *tenant.Platform) { p.JWKSURL = "https://lms6.example sandbox/jwks" },
			"user info in token URL": func(p *tenant.Platform) { p.TokenURL = "https://a:b@lms6.example/token" },
			"port out of range":      func(p *tenant.Platform) { p.AuthURL = "https://lms6.example:70000/auth" },
			"bad registration URI":   func(p *tenant.Platform) { p.RegistrationClientURI = "https://lms6.example;sandbox/reg/1" },
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

// Each platform's pages are framed by its own LMS only: its issuer, its
// authorization host, its family's course hosts and, from its signed
// launches, the host the course is on; never another platform's.
func TestFrameOriginsAreThePlatformsOwn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		reg := tenant.NewRegistry(db)
		cv, err := reg.Add(ctx, canvas("1"))
		if err != nil {
			t.Fatal(err)
		}
		moodle := tenant.Platform{Name: "Moodle", Issuer: "https://moodle.example.edu", ClientID: "m",
			AuthURL: "https://moodle.example.edu/mod/lti/auth.php", JWKSURL: "https://moodle.example.edu/mod/lti/certs.php", Status: tenant.StatusPending}
		md, err := reg.Add(ctx, moodle)
		if err != nil {
			t.Fatal(err)
		}
		got, err := reg.PlatformFrameOrigins(ctx, cv.ID)
		if want := []string{"https://canvas.instructure.com", "https://sso.canvaslms.com", "https://*.instructure.com"}; err != nil || !slices.Equal(got, want) {
			t.Errorf("Canvas frame origins %v, %v; want %v", got, err, want)
		}
		// A pending platform shows the page that says so in its own frame.
		got, err = reg.PlatformFrameOrigins(ctx, md.ID)
		if want := []string{"https://moodle.example.edu"}; err != nil || !slices.Equal(got, want) {
			t.Errorf("Moodle frame origins %v, %v; want %v", got, err, want)
		}
		if got, err := reg.PlatformFrameOrigins(ctx, "no-such-platform"); err != nil || len(got) != 0 {
			t.Errorf("unknown platform: %v, %v", got, err)
		}
	})
	// A Canvas school on its own domain: the launch's return URL names it.
	got := tenant.FrameOrigins("https://canvas.instructure.com", "https://sso.canvaslms.com/api/lti/authorize_redirect",
		"https://canvas.school.edu/courses/1/external_content/success/external_tool_redirect", "https://lms6.example;sandbox/return", "")
	if want := []string{"https://canvas.instructure.com", "https://sso.canvaslms.com", "https://canvas.school.edu", "https://*.instructure.com"}; !slices.Equal(got, want) {
		t.Errorf("Canvas launch frame origins %v, want %v", got, want)
	}
	// A bad value already stored is left out, never pasted.
	if got := tenant.FrameOrigins("https://lms6.example", "https://lms6.example;sandbox/auth"); !slices.Equal(got, []string{"https://lms6.example"}) {
		t.Errorf("stored bad auth URL gives %v", got)
	}
}
