package advantage_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"

	"github.com/roundtable-lms/roundtable/lti"
	"github.com/roundtable-lms/roundtable/lti/advantage"
)

// capturedAssertion is a client assertion a token endpoint received.
type capturedAssertion struct {
	kid string
	tok jwt.Token
}

// assertionCatcher is a token endpoint that keeps every client assertion
// it receives and answers with a token.
func assertionCatcher(t *testing.T) (*httptest.Server, func() []capturedAssertion) {
	t.Helper()
	var mu sync.Mutex
	var got []capturedAssertion
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw := r.PostFormValue("client_assertion")
		msg, err := jws.Parse([]byte(raw))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		tok, err := jwt.Parse([]byte(raw), jwt.WithVerify(false), jwt.WithValidate(false))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		got = append(got, capturedAssertion{kid: msg.Signatures()[0].ProtectedHeaders().KeyID(), tok: tok})
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": "t-" + r.PostFormValue("scope"), "token_type": "Bearer", "expires_in": 3600})
	}))
	t.Cleanup(srv.Close)
	return srv, func() []capturedAssertion {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(got)
	}
}

func TestClientAssertionClaims(t *testing.T) {
	srv, captured := assertionCatcher(t)
	tokenURL := srv.URL + "/login/oauth2/token"
	// Each registration has its own key; the signer is asked for the
	// registration's.
	keyOf := map[string]string{}
	signer := func(_ context.Context, reg lti.Registration) (jwk.Key, error) {
		k := toolKey(t)
		kid := "key-of-" + reg.ID
		_ = k.Set(jwk.KeyIDKey, kid)
		keyOf[reg.ID] = kid
		return k, nil
	}
	ts := advantage.NewTokenSource(srv.Client(), signer) // the test endpoint is on loopback

	for _, c := range []struct {
		name string
		reg  lti.Registration
		aud  []string
	}{
		{"the token URL alone", lti.Registration{ID: "moodle", ClientID: "c-moodle", TokenURL: tokenURL}, []string{tokenURL}},
		// Brightspace wants its OAuth2 audience: it comes second.
		{"Brightspace's audience second", lti.Registration{ID: "d2l", ClientID: "c-d2l", TokenURL: tokenURL,
			TokenAudience: "https://api.brightspace.com/auth/token"}, []string{tokenURL, "https://api.brightspace.com/auth/token"}},
		// A bare host such as Canvas's authorization_server is never the
		// only audience: the assertion names where it is posted.
		{"a bare host never alone", lti.Registration{ID: "canvas", ClientID: "c-canvas", TokenURL: tokenURL,
			TokenAudience: "sso.canvaslms.com"}, []string{tokenURL, "sso.canvaslms.com"}},
		{"no duplicate", lti.Registration{ID: "dup", ClientID: "c-dup", TokenURL: tokenURL, TokenAudience: tokenURL}, []string{tokenURL}},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := len(captured())
			if _, err := ts.Token(context.Background(), c.reg, []string{lti.AGSScopeScore}); err != nil {
				t.Fatal(err)
			}
			all := captured()
			if len(all) != before+1 {
				t.Fatalf("%d assertions sent, want 1", len(all)-before)
			}
			a := all[len(all)-1]
			if !slices.Equal(a.tok.Audience(), c.aud) {
				t.Errorf("aud %q, want %q", a.tok.Audience(), c.aud)
			}
			if a.tok.Audience()[0] != tokenURL {
				t.Errorf("the first audience %q is not the token URL the assertion was posted to", a.tok.Audience()[0])
			}
			if a.tok.Issuer() != c.reg.ClientID || a.tok.Subject() != c.reg.ClientID || a.tok.JwtID() == "" ||
				a.tok.IssuedAt().IsZero() || !a.tok.Expiration().After(a.tok.IssuedAt()) {
				t.Errorf("claims iss %q sub %q jti %q iat %v exp %v", a.tok.Issuer(), a.tok.Subject(), a.tok.JwtID(), a.tok.IssuedAt(), a.tok.Expiration())
			}
			if a.kid != keyOf[c.reg.ID] {
				t.Errorf("signed with %q, want the registration's key %q", a.kid, keyOf[c.reg.ID])
			}
		})
	}
	if got := advantage.AssertionAudience(lti.Registration{TokenURL: tokenURL, TokenAudience: " "}); !slices.Equal(got, []string{tokenURL}) {
		t.Errorf("blank audience: %q", got)
	}
}
