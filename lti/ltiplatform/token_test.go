package ltiplatform_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/roundtable-lms/roundtable/lti"
	"github.com/roundtable-lms/roundtable/lti/ltiplatform"
)

func decodeToken(t *testing.T, token string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q", token)
	}
	for i, dst := range []*map[string]any{&header, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		must(t, err)
		must(t, json.Unmarshal(b, dst))
	}
	return header, claims
}

// Tokens forged with Tamper must be refused by a correct verifier: these
// are the security cases of the LTI certification suite.
func TestTamperedTokensAreRejected(t *testing.T) {
	e := newEnv(t)
	claims, err := e.p.LaunchClaims(e.launch("u-ana", "rl-1"), "n-1")
	must(t, err)
	cases := []struct {
		name   string
		tamper *ltiplatform.Tamper
		reason string
	}{
		{"no kid", &ltiplatform.Tamper{OmitKID: true}, "no kid"},
		{"incorrect kid", &ltiplatform.Tamper{KID: "not-our-kid"}, "unknown kid"},
		{"foreign key", &ltiplatform.Tamper{SigningKey: ltiplatform.NewForeignKey()}, "bad signature"},
		{"foreign key, bad kid", &ltiplatform.Tamper{SigningKey: ltiplatform.NewForeignKey(), KID: "theirs"}, "unknown kid"},
		{"HS256 with the public key", &ltiplatform.Tamper{Algorithm: "HS256"}, "algorithm"},
		{"alg none", &ltiplatform.Tamper{Algorithm: "none"}, "algorithm"},
		{"RS512", &ltiplatform.Tamper{Algorithm: "RS512"}, "algorithm"},
		{"alg header says RS256 over a PS256 signature", &ltiplatform.Tamper{Algorithm: "PS256",
			Header: func(h map[string]any) { h["alg"] = "RS256" }}, "bad signature"},
		{"wrong iss", &ltiplatform.Tamper{Claims: func(c map[string]any) { c["iss"] = "https://evil.example" }}, "iss"},
		{"wrong aud", &ltiplatform.Tamper{Claims: func(c map[string]any) { c["aud"] = "someone-else" }}, "aud"},
		{"aud array without azp", &ltiplatform.Tamper{Claims: func(c map[string]any) {
			c["aud"] = []any{clientID, "other"}
			delete(c, "azp")
		}}, "azp"},
		{"expired", &ltiplatform.Tamper{Claims: func(c map[string]any) {
			c["exp"] = time.Now().Add(-time.Hour).Unix()
		}}, "timestamps"},
		{"issued in the future", &ltiplatform.Tamper{Claims: func(c map[string]any) {
			c["iat"] = time.Now().Add(time.Hour).Unix()
		}}, "timestamps"},
	}
	good, err := e.p.SignIDToken(claims, nil)
	must(t, err)
	if _, err := verifyIDToken(t.Context(), e.p.JWKSURL(), good, e.p.Issuer(), clientID, time.Now()); err != nil {
		t.Fatalf("untampered token refused: %v", err)
	}
	if err := jwxVerify(t.Context(), e.p.JWKSURL(), good, e.p.Issuer(), clientID, time.Now()); err != nil {
		t.Fatalf("untampered token refused by jwx: %v", err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := e.p.SignIDToken(claims, tc.tamper)
			must(t, err)
			_, err = verifyIDToken(t.Context(), e.p.JWKSURL(), tok, e.p.Issuer(), clientID, time.Now())
			if err == nil || !strings.Contains(err.Error(), tc.reason) {
				t.Fatalf("err = %v, want it about %q", err, tc.reason)
			}
			// azp is LTI's rule, not JWT's: jwx alone accepts that token.
			if tc.reason != "azp" {
				if err := jwxVerify(t.Context(), e.p.JWKSURL(), tok, e.p.Issuer(), clientID, time.Now()); err == nil {
					t.Error("jwx accepted it")
				}
			}
		})
	}
}

func TestTamperShapesToken(t *testing.T) {
	e := newEnv(t)
	claims, err := e.p.LaunchClaims(e.launch("u-ana", "rl-1"), "n-1")
	must(t, err)

	tok, err := e.p.SignIDToken(claims, nil)
	must(t, err)
	h, _ := decodeToken(t, tok)
	if h["alg"] != "RS256" || h["kid"] != e.p.KID() || h["typ"] != "JWT" {
		t.Errorf("header %v", h)
	}

	tok, err = e.p.SignIDToken(claims, &ltiplatform.Tamper{Algorithm: "none", OmitKID: true})
	must(t, err)
	if !strings.HasSuffix(tok, ".") {
		t.Errorf("alg none token has a signature: %s", tok)
	}
	if h, _ := decodeToken(t, tok); h["alg"] != "none" || h["kid"] != nil {
		t.Errorf("header %v", h)
	}

	// Certification cases that a tool checks after the signature: claims
	// removed or changed, nested ones too.
	tok, err = e.p.SignIDToken(claims, &ltiplatform.Tamper{Claims: func(c map[string]any) {
		delete(c, lti.ClaimVersion)
		delete(c, lti.ClaimRoles)
		delete(c, "sub")
		delete(c[lti.ClaimResourceLink].(map[string]any), "id")
		c[lti.ClaimMessageType] = "LtiBogusRequest"
	}})
	must(t, err)
	_, c := decodeToken(t, tok)
	for _, k := range []string{lti.ClaimVersion, lti.ClaimRoles, "sub"} {
		if _, ok := c[k]; ok {
			t.Errorf("claim %s still present", k)
		}
	}
	if _, ok := c[lti.ClaimResourceLink].(map[string]any)["id"]; ok {
		t.Error("resource_link id still present")
	}
	if c[lti.ClaimMessageType] != "LtiBogusRequest" || c[lti.ClaimDeploymentID] != deploymentID {
		t.Errorf("claims %v", c)
	}
	// The caller's claims are left alone.
	if _, ok := claims[lti.ClaimVersion]; !ok {
		t.Error("Tamper.Claims changed the caller's map")
	}
}

// A tampered launch goes through the whole flow and the tool refuses it.
func TestTamperedLaunchRefusedByTool(t *testing.T) {
	e := newEnv(t)
	for name, tamper := range map[string]*ltiplatform.Tamper{
		"no kid":       {OmitKID: true},
		"foreign key":  {SigningKey: ltiplatform.NewForeignKey()},
		"HS256 pubkey": {Algorithm: "HS256"},
		"wrong nonce":  {Claims: func(c map[string]any) { c["nonce"] = "replayed" }},
	} {
		req := e.launch("u-ben", "rl-1")
		req.Tamper = tamper
		res, err := ltiplatform.NewBrowser().Launch(t.Context(), e.p, req)
		must(t, err)
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("%s: tool answered %d %s", name, res.StatusCode, res.Body)
		}
	}
}
