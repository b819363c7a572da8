package tenant_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
	"github.com/roundtable-lms/roundtable/internal/tenant"
	"github.com/roundtable-lms/roundtable/lti"
)

// fakeKeys records which registrations have keys.
type fakeKeys struct {
	mu   sync.Mutex
	have map[string]bool
}

func (k *fakeKeys) EnsureKey(_ context.Context, id string) (bool, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.have[id] {
		return false, nil
	}
	k.have[id] = true
	return true, nil
}

func (k *fakeKeys) Forget(_ context.Context, id string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.have, id)
	return nil
}

func (k *fakeKeys) holds(id string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.have[id]
}

// A client id names one registration of an issuer: a second registration
// claiming it, by hand or by editing another, is refused with a message
// that says so, and keeps no key. The same client id under another issuer
// is another LMS's and is accepted.
func TestAClientIDHeldByAnotherRegistrationOfTheIssuerIsRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		keys := &fakeKeys{have: map[string]bool{}}
		reg := tenant.NewRegistry(db)
		reg.Keys = keys
		victim, err := reg.Add(ctx, canvas("10000000000001"))
		if err != nil {
			t.Fatal(err)
		}
		if !keys.holds(victim.ID) {
			t.Fatal("the new registration got no key")
		}
		claim := canvas("10000000000001")
		claim.ID = store.NewID()
		claim.Name = "Hostile"
		_, err = reg.Add(ctx, claim)
		if roundtable.ErrorCode(err) != roundtable.ECONFLICT || !tenant.IsClientIDTaken(err) ||
			!strings.Contains(roundtable.ErrorMessage(err), "already holds client id 10000000000001") {
			t.Fatalf("second registration with the victim's client id: %v", err)
		}
		if keys.holds(claim.ID) {
			t.Error("the refused registration kept its key")
		}
		if _, err := reg.Get(ctx, claim.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the refused registration was saved: %v", err)
		}

		// Editing another registration onto the victim's client id.
		other, err := reg.Add(ctx, canvas("10000000000002"))
		if err != nil {
			t.Fatal(err)
		}
		other.ClientID = "10000000000001"
		if _, err := reg.Update(ctx, other); roundtable.ErrorCode(err) != roundtable.ECONFLICT ||
			!strings.Contains(roundtable.ErrorMessage(err), "already holds client id") {
			t.Fatalf("edit onto the victim's client id: %v", err)
		}

		// Another issuer may use the same client id.
		elsewhere := canvas("10000000000001")
		elsewhere.Issuer = "https://lms.example.org"
		if _, err := reg.Add(ctx, elsewhere); err != nil {
			t.Errorf("same client id under another issuer: %v", err)
		}

		// A registration's id may be chosen beforehand, once.
		chosen := canvas("10000000000003")
		chosen.ID = store.NewID()
		saved, err := reg.Add(ctx, chosen)
		if err != nil || saved.ID != chosen.ID || !keys.holds(chosen.ID) {
			t.Fatalf("chosen id: %+v %v", saved, err)
		}
		again := canvas("10000000000004")
		again.ID = chosen.ID
		if _, err := reg.Add(ctx, again); roundtable.ErrorCode(err) != roundtable.ECONFLICT || tenant.IsClientIDTaken(err) || !keys.holds(chosen.ID) {
			t.Errorf("saving a chosen id twice: %v; the first registration keeps its key: %v", err, keys.holds(chosen.ID))
		}
		bad := canvas("10000000000005")
		bad.ID = "../../etc"
		if _, err := reg.Add(ctx, bad); roundtable.ErrorCode(err) != roundtable.EINVALID {
			t.Errorf("a malformed id: %v", err)
		}

		// Removing a registration takes its keys away.
		if err := reg.Remove(ctx, saved.ID); err != nil {
			t.Fatal(err)
		}
		if keys.holds(saved.ID) {
			t.Error("a removed registration kept its keys")
		}
	})
}

// A client assertion is addressed to the token URL it is posted to; the
// declared token audience comes second, and only for the LMS families
// whose token endpoint wants it (Brightspace) or when an administrator
// entered it by hand. Canvas's bare-host authorization_server is never
// used.
func TestTheAssertionAudienceOfEachLMSFamily(t *testing.T) {
	canvasCfg := canvasConfiguration()
	canvasCfg.AuthorizationServer = "sso.canvaslms.com"
	brightspace := &lti.PlatformConfiguration{Issuer: "https://school.brightspace.com",
		AuthorizationEndpoint: "https://school.brightspace.com/d2l/lti/authenticate", TokenEndpoint: "https://auth.brightspace.com/core/connect/token",
		AuthorizationServer: "https://api.brightspace.com/auth/token", JWKSURI: "https://school.brightspace.com/d2l/.well-known/jwks",
		LTI: &lti.PlatformConfigurationClaim{ProductFamilyCode: "desire2learn"}}
	moodle := &lti.PlatformConfiguration{Issuer: "https://moodle.example.edu", TokenEndpoint: "https://moodle.example.edu/mod/lti/token.php",
		AuthorizationServer: "https://elsewhere.example.org/token", LTI: &lti.PlatformConfigurationClaim{ProductFamilyCode: "moodle"}}
	answer := &lti.ClientRegistration{ClientID: "c"}

	for name, c := range map[string]struct {
		p    tenant.Platform
		want string
	}{
		"canvas":      {tenant.FromDynamicRegistration(canvasCfg, answer, "", tenant.StatusActive), ""},
		"brightspace": {tenant.FromDynamicRegistration(brightspace, answer, "", tenant.StatusActive), "https://api.brightspace.com/auth/token"},
		"moodle":      {tenant.FromDynamicRegistration(moodle, answer, "", tenant.StatusActive), ""},
		"by hand":     {tenant.Platform{RegisteredBy: tenant.RegisteredManually, TokenURL: "https://auth.example/token", TokenAudience: "https://api.example/aud"}, "https://api.example/aud"},
		"same as URL": {tenant.Platform{RegisteredBy: tenant.RegisteredManually, TokenURL: "https://auth.example/token", TokenAudience: "https://auth.example/token"}, ""},
	} {
		if got := c.p.Registration().TokenAudience; got != c.want {
			t.Errorf("%s: extra audience %q, want %q", name, got, c.want)
		}
	}
}
