package lti

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
)

func toolKey(t *testing.T) (jwk.Key, *rsa.PrivateKey) {
	t.Helper()
	raw, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	k, err := jwk.FromRaw(raw)
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(k.Set(jwk.KeyIDKey, "tool-key-1"))
	must(k.Set(jwk.AlgorithmKey, jwa.RS256))
	return k, raw
}

// decodeVerified checks an RS256 compact JWS with the standard library
// alone and returns its header and claims.
func decodeVerified(t *testing.T, token string, pub *rsa.PublicKey) (map[string]any, map[string]any) {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWS: %q", token)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig); err != nil {
		t.Fatalf("signature: %v", err)
	}
	var hdr, claims map[string]any
	for i, v := range []*map[string]any{&hdr, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatal(err)
		}
	}
	return hdr, claims
}

func TestSignDeepLinkingResponse(t *testing.T) {
	key, raw := toolKey(t)
	now := time.Unix(1_800_000_000, 0)
	resp := DeepLinkingResponse{
		ClientID: "client-7", PlatformIssuer: "https://lms.example.edu", DeploymentID: "dep-3", Data: "opaque-42",
		Msg: "Placed one activity.", Log: "placement p1",
		Items: []ContentItem{{
			Type: ContentTypeLTIResourceLink, Title: "Week 3 discussion", Text: "Share a source.",
			URL: "https://tool.example.com/lti/launch", Custom: map[string]string{"rt_placement": "p1"},
			LineItem: &LineItemSpec{ScoreMaximum: 20, Label: "Week 3 discussion", ResourceID: "p1", Tag: "roundtable"},
		}},
	}
	token, err := SignDeepLinkingResponse(resp, key, now)
	if err != nil {
		t.Fatal(err)
	}
	hdr, c := decodeVerified(t, token, &raw.PublicKey)
	if hdr["alg"] != "RS256" || hdr["kid"] != "tool-key-1" {
		t.Errorf("header %v", hdr)
	}
	for claim, want := range map[string]any{
		"iss": "client-7", "aud": "https://lms.example.edu", "iat": float64(now.Unix()),
		"exp":                float64(now.Add(DeepLinkingResponseTTL).Unix()),
		ClaimDeploymentID:    "dep-3",
		ClaimMessageType:     MessageDeepLinkingResponse,
		ClaimVersion:         Version,
		ClaimDeepLinkingData: "opaque-42",
		ClaimDeepLinkingMsg:  "Placed one activity.",
		ClaimDeepLinkingLog:  "placement p1",
	} {
		if c[claim] != want {
			t.Errorf("%s = %v, want %v", claim, c[claim], want)
		}
	}
	if n, _ := c["nonce"].(string); len(n) < 20 {
		t.Errorf("nonce %q", c["nonce"])
	}
	for _, absent := range []string{ClaimDeepLinkingErrorMsg, ClaimDeepLinkingErrorLog} {
		if _, ok := c[absent]; ok {
			t.Errorf("%s sent though empty", absent)
		}
	}
	// The field names are the spec's, compared as JSON values.
	var got, want any
	b, _ := json.Marshal(c[ClaimDeepLinkingContent])
	json.Unmarshal(b, &got)
	json.Unmarshal([]byte(`[{"type":"ltiResourceLink","title":"Week 3 discussion","text":"Share a source.","url":"https://tool.example.com/lti/launch",`+
		`"custom":{"rt_placement":"p1"},"lineItem":{"scoreMaximum":20,"label":"Week 3 discussion","resourceId":"p1","tag":"roundtable"}}]`), &want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("content_items\n got %s\nwant %v", b, want)
	}

	// Two responses never share a nonce.
	again, err := SignDeepLinkingResponse(resp, key, now)
	if err != nil {
		t.Fatal(err)
	}
	_, c2 := decodeVerified(t, again, &raw.PublicKey)
	if c2["nonce"] == c["nonce"] {
		t.Error("nonce reused")
	}
}

func TestDeepLinkingResponseWithoutItems(t *testing.T) {
	key, raw := toolKey(t)
	token, err := SignDeepLinkingResponse(DeepLinkingResponse{ClientID: "c", PlatformIssuer: "https://lms", DeploymentID: "d",
		ErrorMsg: "Nothing was added.", ErrorLog: "cancelled"}, key, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	_, c := decodeVerified(t, token, &raw.PublicKey)
	if items, ok := c[ClaimDeepLinkingContent].([]any); !ok || len(items) != 0 {
		t.Errorf("content_items %#v, want an empty list", c[ClaimDeepLinkingContent])
	}
	if c[ClaimDeepLinkingErrorMsg] != "Nothing was added." || c[ClaimDeepLinkingErrorLog] != "cancelled" {
		t.Errorf("errormsg %v errorlog %v", c[ClaimDeepLinkingErrorMsg], c[ClaimDeepLinkingErrorLog])
	}
	if _, ok := c[ClaimDeepLinkingData]; ok {
		t.Error("data sent though the request had none")
	}
}

func TestDeepLinkingResponseRefusals(t *testing.T) {
	key, _ := toolKey(t)
	base := DeepLinkingResponse{ClientID: "c", PlatformIssuer: "https://lms", DeploymentID: "d"}
	for name, r := range map[string]DeepLinkingResponse{
		"NoClientID":      {PlatformIssuer: "https://lms", DeploymentID: "d"},
		"NoIssuer":        {ClientID: "c", DeploymentID: "d"},
		"NoDeployment":    {ClientID: "c", PlatformIssuer: "https://lms"},
		"ItemWithoutType": func() DeepLinkingResponse { r := base; r.Items = []ContentItem{{Title: "x"}}; return r }(),
		"ZeroScoreMaximum": func() DeepLinkingResponse {
			r := base
			r.Items = []ContentItem{{Type: ContentTypeLTIResourceLink, LineItem: &LineItemSpec{}}}
			return r
		}(),
	} {
		if _, err := SignDeepLinkingResponse(r, key, time.Now()); err == nil {
			t.Errorf("%s: signed", name)
		}
	}
	noKID, err := jwk.FromRaw(mustRSA(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := SignDeepLinkingResponse(base, noKID, time.Now()); err == nil {
		t.Error("signed with a key without kid")
	}
}

func mustRSA(t *testing.T) *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestDeepLinkingSettingsAccepts(t *testing.T) {
	s := &DeepLinkingSettingsClaim{AcceptTypes: []string{"link", ContentTypeLTIResourceLink}}
	if !s.Accepts(ContentTypeLTIResourceLink) || s.Accepts("file") {
		t.Error("Accepts")
	}
	var none *DeepLinkingSettingsClaim
	if none.Accepts(ContentTypeLTIResourceLink) {
		t.Error("nil settings accept")
	}
}

// A deep linking request whose return URL is not absolute cannot be
// answered: the launch is refused.
func TestValidateDeepLinkingReturnURL(t *testing.T) {
	p := newTestPlatform(t)
	for _, bad := range []string{"/deep_link_return", "javascript:alert(1)", "ftp://lms.example.edu/x", "https://"} {
		c := deepLinkingClaims()
		settings := c[ClaimDeepLinkingSettings].(map[string]any)
		settings["deep_link_return_url"] = bad
		l, err := p.v.Validate(context.Background(), p.sign(t, c), p.reg, testNonce)
		e := wantError(t, l, err, ReasonBadClaim)
		if !strings.Contains(e.Detail, "deep_link_return_url") {
			t.Errorf("%q: detail %q", bad, e.Detail)
		}
	}
	l, err := p.v.Validate(context.Background(), p.sign(t, deepLinkingClaims()), p.reg, testNonce)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(l.DeepLinking.AcceptTypes, []string{"ltiResourceLink"}) {
		t.Errorf("accept_types %v", l.DeepLinking.AcceptTypes)
	}
}
