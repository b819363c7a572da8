package lti

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// The test platform: one issuer, one client id, keys it owns and a JWKS
// served over HTTP, with a fixed clock.
const (
	testIssuer   = "https://lms.example.edu"
	testClientID = "roundtable-client-1"
	testKID      = "platform-key-1"
	testNonce    = "nonce-from-login"
	// testKIDRS512 names the platform key published for RS512 only.
	testKIDRS512 = "platform-key-rs512"
	// testKIDEC names an EC key: an RS256 signature can never verify with it.
	testKIDEC = "platform-key-ec"
)

var testNow = time.Unix(1_700_000_000, 0)

// testRSAKeys are generated once per test binary: the platform's key and a
// key the platform does not own.
var testRSAKeys = sync.OnceValues(func() (*rsa.PrivateKey, *rsa.PrivateKey) {
	platform, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return platform, other
})

type publishedKey struct {
	pub any
	kid string
	alg jwa.SignatureAlgorithm // empty: no alg member
}

// jwksJSON is the JWKS document publishing keys.
func jwksJSON(t testing.TB, keys ...publishedKey) []byte {
	t.Helper()
	set := jwk.NewSet()
	for _, k := range keys {
		key, err := jwk.FromRaw(k.pub)
		if err != nil {
			t.Fatal(err)
		}
		if err := key.Set(jwk.KeyIDKey, k.kid); err != nil {
			t.Fatal(err)
		}
		if k.alg != "" {
			if err := key.Set(jwk.AlgorithmKey, k.alg); err != nil {
				t.Fatal(err)
			}
		}
		if err := set.AddKey(key); err != nil {
			t.Fatal(err)
		}
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type testPlatform struct {
	key *rsa.PrivateKey
	reg Registration
	v   *Validator
}

func newTestPlatform(t testing.TB) *testPlatform {
	t.Helper()
	key, _ := testRSAKeys()
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	body := jwksJSON(t,
		publishedKey{pub: &key.PublicKey, kid: testKID},
		publishedKey{pub: &key.PublicKey, kid: testKIDRS512, alg: jwa.RS512},
		publishedKey{pub: &ec.PublicKey, kid: testKIDEC},
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	now := func() time.Time { return testNow }
	keys := NewKeyCache(srv.Client())
	keys.Now = now
	v := NewValidator(keys)
	v.Now = now
	return &testPlatform{
		key: key,
		reg: Registration{
			ID:       "reg-1",
			Issuer:   testIssuer,
			ClientID: testClientID,
			AuthURL:  testIssuer + "/auth",
			JWKSURL:  srv.URL + "/jwks",
		},
		v: v,
	}
}

func unix(d time.Duration) int64 { return testNow.Add(d).Unix() }

// resourceLinkClaims is a complete resource link launch for an instructor,
// with every optional claim Roundtable reads. Each call returns a fresh map.
func resourceLinkClaims() map[string]any {
	return map[string]any{
		"iss":         testIssuer,
		"sub":         "user-42",
		"aud":         testClientID,
		"exp":         unix(5 * time.Minute),
		"iat":         unix(-10 * time.Second),
		"nonce":       testNonce,
		"name":        "Ada Lovelace",
		"given_name":  "Ada",
		"family_name": "Lovelace",
		"email":       "ada@example.edu",
		"picture":     "https://lms.example.edu/ada.png",

		ClaimMessageType:   MessageResourceLink,
		ClaimVersion:       "1.3.0",
		ClaimDeploymentID:  "deployment-1",
		ClaimTargetLinkURI: "https://tool.example.org/lti/launch",
		ClaimResourceLink:  map[string]any{"id": "rl-7", "title": "Week 1 discussion", "description": "Discuss the reading"},
		ClaimRoles: []string{
			RoleInstructor,
			"http://purl.imsglobal.org/vocab/lis/v2/institution/person#Faculty",
		},
		ClaimContext: map[string]any{
			"id": "course-1", "label": "HIST101", "title": "History 101",
			"type": []string{"http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"},
		},
		ClaimToolPlatform: map[string]any{
			"guid": "lms-guid", "name": "Example LMS", "product_family_code": "canvas", "version": "cloud",
		},
		ClaimLaunchPresentation: map[string]any{
			"document_target": "iframe", "return_url": "https://lms.example.edu/return",
			"locale": "fr-CA", "height": "100%", "width": 800,
		},
		ClaimCustom: map[string]any{
			"course_code": "HIST101",
			"attempts":    3,
			"weight":      1.5,
			"graded":      true,
			"unresolved":  "$Canvas.course.sectionIds",
			"unset":       nil,
			"settings":    map[string]any{"a": []any{1, "b"}},
			// Above 2^53: a float64 cannot hold it.
			"canvas_user_id": json.Number("170000000000012345"),
		},
		ClaimAGSEndpoint: map[string]any{
			"scope":     []string{AGSScopeLineItem, AGSScopeScore},
			"lineitems": "https://lms.example.edu/api/lti/courses/1/line_items",
			"lineitem":  "https://lms.example.edu/api/lti/courses/1/line_items/9",
		},
		ClaimNRPS: map[string]any{
			"context_memberships_url": "https://lms.example.edu/api/lti/courses/1/names_and_roles",
			"service_versions":        []string{"2.0"},
		},
		"https://example.com/claim/unknown": map[string]any{"ignored": true},
	}
}

func deepLinkingClaims() map[string]any {
	c := resourceLinkClaims()
	delete(c, ClaimResourceLink)
	delete(c, ClaimTargetLinkURI)
	delete(c, ClaimAGSEndpoint)
	c[ClaimMessageType] = MessageDeepLinking
	c[ClaimDeepLinkingSettings] = map[string]any{
		"deep_link_return_url":                 "https://lms.example.edu/deep_link_return",
		"accept_types":                         []string{"ltiResourceLink"},
		"accept_presentation_document_targets": []string{"iframe", "window"},
		"accept_multiple":                      true,
		"data":                                 "opaque-platform-data",
	}
	return c
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// signRaw signs payload as a compact JWS; an empty kid leaves kid out.
func signRaw(t testing.TB, key any, alg jwa.SignatureAlgorithm, kid string, payload []byte) string {
	t.Helper()
	hdr := jws.NewHeaders()
	if kid != "" {
		if err := hdr.Set(jws.KeyIDKey, kid); err != nil {
			t.Fatal(err)
		}
	}
	tok, err := jws.Sign(payload, jws.WithKey(alg, key, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		t.Fatal(err)
	}
	return string(tok)
}

func (p *testPlatform) sign(t testing.TB, claims map[string]any) string {
	t.Helper()
	return signRaw(t, p.key, jwa.RS256, testKID, mustJSON(t, claims))
}

// signed returns a token factory for the resource link claims changed by edit.
func signed(edit func(c map[string]any)) func(t *testing.T, p *testPlatform) string {
	return func(t *testing.T, p *testPlatform) string {
		c := resourceLinkClaims()
		edit(c)
		return p.sign(t, c)
	}
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// wantError checks that err is an *Error with the reason, a message for the
// person and a detail for the operator.
func wantError(t *testing.T, l *Launch, err error, reason Reason) *Error {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted, want rejection %s; launch %+v", reason, l)
	}
	e, ok := err.(*Error)
	if !ok {
		t.Fatalf("error %T %v, want *lti.Error", err, err)
	}
	if e.Reason != reason {
		t.Fatalf("reason %s (%v), want %s", e.Reason, e, reason)
	}
	if e.Message == "" || e.Detail == "" {
		t.Errorf("error %#v lacks a message or a detail", e)
	}
	if !strings.Contains(e.Error(), string(reason)) {
		t.Errorf("Error() = %q does not name the reason", e.Error())
	}
	if l != nil {
		t.Errorf("rejection came with a launch %+v", l)
	}
	return e
}

func TestValidateResourceLinkLaunch(t *testing.T) {
	p := newTestPlatform(t)
	l, err := p.v.Validate(context.Background(), p.sign(t, resourceLinkClaims()), p.reg, testNonce)
	if err != nil {
		t.Fatal(err)
	}
	want := &Launch{
		Registration: p.reg,
		MessageType:  MessageResourceLink,
		DeploymentID: "deployment-1",
		Subject:      "user-42",
		Name:         "Ada Lovelace",
		GivenName:    "Ada",
		FamilyName:   "Lovelace",
		Email:        "ada@example.edu",
		Picture:      "https://lms.example.edu/ada.png",
		// No top-level locale: the launch_presentation one.
		Locale: "fr-CA",
		RoleURIs: []string{
			RoleInstructor,
			"http://purl.imsglobal.org/vocab/lis/v2/institution/person#Faculty",
		},
		Roles: Roles{
			Instructor: true,
			Other:      []string{"http://purl.imsglobal.org/vocab/lis/v2/institution/person#Faculty"},
		},
		Context: &ContextClaim{
			ID: "course-1", Label: "HIST101", Title: "History 101",
			Type: []string{"http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"},
		},
		ResourceLink:  ResourceLinkClaim{ID: "rl-7", Title: "Week 1 discussion", Description: "Discuss the reading"},
		TargetLinkURI: "https://tool.example.org/lti/launch",
		Custom: map[string]string{
			"course_code":    "HIST101",
			"attempts":       "3",
			"weight":         "1.5",
			"graded":         "true",
			"unresolved":     "$Canvas.course.sectionIds",
			"settings":       `{"a":[1,"b"]}`,
			"canvas_user_id": "170000000000012345",
		},
		ToolPlatform: &ToolPlatformClaim{GUID: "lms-guid", Name: "Example LMS", ProductFamilyCode: "canvas", Version: "cloud"},
		LaunchPresentation: &LaunchPresentationClaim{
			DocumentTarget: "iframe", ReturnURL: "https://lms.example.edu/return",
			Locale: "fr-CA",
		},
		AGS: &AGSEndpointClaim{
			Scope:     []string{AGSScopeLineItem, AGSScopeScore},
			LineItems: "https://lms.example.edu/api/lti/courses/1/line_items",
			LineItem:  "https://lms.example.edu/api/lti/courses/1/line_items/9",
		},
		NRPS: &NRPSClaim{
			ContextMembershipsURL: "https://lms.example.edu/api/lti/courses/1/names_and_roles",
			ServiceVersions:       []string{"2.0"},
		},
		IssuedAt:  testNow.Add(-10 * time.Second),
		ExpiresAt: testNow.Add(5 * time.Minute),
	}
	if !reflect.DeepEqual(l, want) {
		t.Errorf("launch\n got %+v\nwant %+v", l, want)
		for _, f := range []struct {
			name      string
			got, want any
		}{
			{"Custom", l.Custom, want.Custom},
			{"Roles", l.Roles, want.Roles},
			{"Context", l.Context, want.Context},
			{"LaunchPresentation", l.LaunchPresentation, want.LaunchPresentation},
			{"IssuedAt", l.IssuedAt, want.IssuedAt},
			{"ExpiresAt", l.ExpiresAt, want.ExpiresAt},
		} {
			if !reflect.DeepEqual(f.got, f.want) {
				t.Errorf("%s: got %v, want %v", f.name, f.got, f.want)
			}
		}
	}
}

// TestValidateAcceptsValidVariants covers the valid launches of the LTI 1.3
// certification suite and the boundaries of the time checks.
func TestValidateAcceptsValidVariants(t *testing.T) {
	p := newTestPlatform(t)
	for _, tc := range []struct {
		name   string
		claims func() map[string]any
		check  func(t *testing.T, l *Launch)
	}{
		{"LaunchAsInstructorWithMultipleRoles", edited(func(c map[string]any) {
			c[ClaimRoles] = []string{RoleInstructor, RoleLearner, RoleTeachingAssistant, RoleMentor}
		}), func(t *testing.T, l *Launch) {
			want := Roles{Instructor: true, Learner: true, TeachingAssistant: true, Mentor: true}
			if !reflect.DeepEqual(l.Roles, want) {
				t.Errorf("roles %+v, want %+v", l.Roles, want)
			}
		}},
		{"LaunchAsInstructorWithShortRole", edited(func(c map[string]any) {
			c[ClaimRoles] = []string{"Instructor"}
		}), func(t *testing.T, l *Launch) {
			if !l.Roles.Instructor || len(l.Roles.Other) != 0 {
				t.Errorf("roles %+v, want Instructor", l.Roles)
			}
		}},
		{"LaunchWithUnknownRole", edited(func(c map[string]any) {
			c[ClaimRoles] = []string{"http://example.com/roles#Wizard"}
		}), func(t *testing.T, l *Launch) {
			want := Roles{Other: []string{"http://example.com/roles#Wizard"}}
			if !reflect.DeepEqual(l.Roles, want) {
				t.Errorf("roles %+v, want %+v", l.Roles, want)
			}
		}},
		{"LaunchWithNoRole", edited(func(c map[string]any) {
			c[ClaimRoles] = []string{}
		}), func(t *testing.T, l *Launch) {
			if len(l.RoleURIs) != 0 || !reflect.DeepEqual(l.Roles, Roles{}) {
				t.Errorf("roles %v / %+v, want none", l.RoleURIs, l.Roles)
			}
		}},
		{"LaunchWithEmailOnly", edited(func(c map[string]any) {
			delete(c, "name")
			delete(c, "given_name")
			delete(c, "family_name")
			delete(c, "picture")
		}), func(t *testing.T, l *Launch) {
			if l.Email != "ada@example.edu" || l.Name != "" || l.GivenName != "" || l.FamilyName != "" {
				t.Errorf("person %q %q %q %q", l.Email, l.Name, l.GivenName, l.FamilyName)
			}
		}},
		{"LaunchWithNoPII", edited(func(c map[string]any) {
			for _, k := range []string{"name", "given_name", "family_name", "email", "picture"} {
				delete(c, k)
			}
		}), func(t *testing.T, l *Launch) {
			if l.Subject != "user-42" || l.Name+l.GivenName+l.FamilyName+l.Email+l.Picture != "" {
				t.Errorf("launch without PII: %+v", l)
			}
		}},
		{"LaunchWithoutContext", edited(func(c map[string]any) {
			delete(c, ClaimContext)
		}), func(t *testing.T, l *Launch) {
			if l.Context != nil {
				t.Errorf("context %+v, want nil", l.Context)
			}
		}},
		{"LaunchWithoutOptionalClaims", edited(func(c map[string]any) {
			for _, k := range []string{ClaimCustom, ClaimAGSEndpoint, ClaimNRPS, ClaimToolPlatform, ClaimLaunchPresentation} {
				delete(c, k)
			}
		}), func(t *testing.T, l *Launch) {
			if l.Custom != nil || l.AGS != nil || l.NRPS != nil || l.ToolPlatform != nil || l.LaunchPresentation != nil || l.Locale != "" {
				t.Errorf("absent claims came back: %+v", l)
			}
		}},
		{"TopLevelLocaleWinsOverPresentation", edited(func(c map[string]any) {
			c["locale"] = "en-GB"
		}), func(t *testing.T, l *Launch) {
			if l.Locale != "en-GB" {
				t.Errorf("locale %q, want en-GB", l.Locale)
			}
		}},
		{"AudienceArrayWithOurClientID", edited(func(c map[string]any) {
			c["aud"] = []string{testClientID}
		}), nil},
		{"SeveralAudiencesWithAZP", edited(func(c map[string]any) {
			c["aud"] = []string{"someone-else", testClientID}
			c["azp"] = testClientID
		}), nil},
		{"SingleAudienceWithMatchingAZP", edited(func(c map[string]any) {
			c["azp"] = testClientID
		}), nil},
		{"ExpiredWithinLeeway", edited(func(c map[string]any) {
			c["iat"] = unix(-5 * time.Minute)
			c["exp"] = unix(-time.Minute)
		}), func(t *testing.T, l *Launch) {
			if !l.ExpiresAt.Equal(testNow.Add(-time.Minute)) {
				t.Errorf("ExpiresAt %v", l.ExpiresAt)
			}
		}},
		{"IssuedInFutureWithinLeeway", edited(func(c map[string]any) {
			c["iat"] = unix(time.Minute)
		}), func(t *testing.T, l *Launch) {
			if !l.IssuedAt.Equal(testNow.Add(time.Minute)) {
				t.Errorf("IssuedAt %v", l.IssuedAt)
			}
		}},
		{"IssuedExactlyMaxAgeAgo", edited(func(c map[string]any) {
			c["iat"] = unix(-time.Hour)
		}), nil},
		{"FractionalTimestamps", edited(func(c map[string]any) {
			c["iat"] = float64(unix(-10*time.Second)) + 0.75
			c["exp"] = float64(unix(time.Minute)) + 0.25
		}), func(t *testing.T, l *Launch) {
			if !l.IssuedAt.Equal(testNow.Add(-10 * time.Second)) {
				t.Errorf("IssuedAt %v", l.IssuedAt)
			}
		}},
		{"CustomWithOnlyNullValues", edited(func(c map[string]any) {
			c[ClaimCustom] = map[string]any{"unset": nil}
		}), func(t *testing.T, l *Launch) {
			if len(l.Custom) != 0 {
				t.Errorf("custom %v, want empty", l.Custom)
			}
		}},
		{"DeepLinkingRequest", deepLinkingClaims, func(t *testing.T, l *Launch) {
			want := &DeepLinkingSettingsClaim{
				DeepLinkReturnURL:                 "https://lms.example.edu/deep_link_return",
				AcceptTypes:                       []string{"ltiResourceLink"},
				AcceptPresentationDocumentTargets: []string{"iframe", "window"},
				AcceptMultiple:                    true,
				Data:                              "opaque-platform-data",
			}
			if l.MessageType != MessageDeepLinking || !reflect.DeepEqual(l.DeepLinking, want) {
				t.Errorf("deep linking %s %+v, want %+v", l.MessageType, l.DeepLinking, want)
			}
			if l.ResourceLink != (ResourceLinkClaim{}) || l.TargetLinkURI != "" {
				t.Errorf("deep linking launch has a resource link %+v / %q", l.ResourceLink, l.TargetLinkURI)
			}
		}},
		{"DeepLinkingRequestWithoutSub", func() map[string]any {
			c := deepLinkingClaims()
			delete(c, "sub")
			return c
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := p.v.Validate(context.Background(), p.sign(t, tc.claims()), p.reg, testNonce)
			if err != nil {
				t.Fatalf("rejected: %v", err)
			}
			if l.Registration != p.reg || l.DeploymentID != "deployment-1" {
				t.Errorf("launch for %+v / %q", l.Registration, l.DeploymentID)
			}
			if tc.check != nil {
				tc.check(t, l)
			}
		})
	}
}

func edited(edit func(c map[string]any)) func() map[string]any {
	return func() map[string]any {
		c := resourceLinkClaims()
		edit(c)
		return c
	}
}

// TestValidateRejects names its cases after the LTI 1.3 certification
// ("Invalid Launches") and the Security Framework checks.
func TestValidateRejects(t *testing.T) {
	p := newTestPlatform(t)
	_, otherKey := testRSAKeys()
	validToken := func(t *testing.T, p *testPlatform) string { return p.sign(t, resourceLinkClaims()) }

	for _, tc := range []struct {
		name   string
		token  func(t *testing.T, p *testPlatform) string
		want   Reason
		detail string // where one reason has several causes
	}{
		// Token shape.
		{"NoIDToken", func(*testing.T, *testPlatform) string { return "" }, ReasonMalformedToken, "no id_token"},
		{"OnePart", func(*testing.T, *testPlatform) string { return "not-a-jwt" }, ReasonMalformedToken, "1 parts"},
		{"TwoParts", func(t *testing.T, p *testPlatform) string {
			parts := strings.Split(validToken(t, p), ".")
			return parts[0] + "." + parts[1]
		}, ReasonMalformedToken, "2 parts"},
		{"FourParts", func(t *testing.T, p *testPlatform) string { return validToken(t, p) + ".extra" }, ReasonMalformedToken, "4 parts"},
		{"HeaderNotBase64URL", func(t *testing.T, p *testPlatform) string {
			return "!!!" + validToken(t, p)[strings.Index(validToken(t, p), "."):]
		}, ReasonMalformedToken, "base64url"},
		{"HeaderStdBase64Padding", func(t *testing.T, p *testPlatform) string {
			return base64.StdEncoding.EncodeToString([]byte(`{"alg":"RS256","kid":"k"}`)) + ".e30.c2ln"
		}, ReasonMalformedToken, "base64url"},
		{"HeaderNotJSON", func(*testing.T, *testPlatform) string { return b64("alg=RS256") + ".e30.c2ln" }, ReasonMalformedToken, "not JSON"},
		{"HeaderKidNotAString", func(*testing.T, *testPlatform) string {
			return b64(`{"alg":"RS256","kid":7}`) + ".e30.c2ln"
		}, ReasonMalformedToken, "not JSON"},
		{"SignedPayloadNotJSON", func(t *testing.T, p *testPlatform) string {
			return signRaw(t, p.key, jwa.RS256, testKID, []byte("iss=https://lms.example.edu"))
		}, ReasonMalformedToken, "claims"},
		{"RolesClaimNotAnArray", signed(func(c map[string]any) { c[ClaimRoles] = RoleInstructor }), ReasonMalformedToken, "claims"},
		{"ExpNotANumber", signed(func(c map[string]any) { c["exp"] = "tomorrow" }), ReasonMalformedToken, "claims"},
		{"OversizeToken", signed(func(c map[string]any) {
			c[ClaimCustom] = map[string]any{"padding": strings.Repeat("x", maxIDToken)}
		}), ReasonMalformedToken, "longer than"},

		// Algorithm.
		{"AlgNone", func(t *testing.T, p *testPlatform) string {
			return b64(`{"alg":"none","kid":"`+testKID+`"}`) + "." + b64(string(mustJSON(t, resourceLinkClaims()))) + "."
		}, ReasonBadAlgorithm, ""},
		{"AlgHS256KeyedWithPublicKey", func(t *testing.T, p *testPlatform) string {
			secret := p.key.PublicKey.N.Bytes()
			return signRaw(t, secret, jwa.HS256, testKID, mustJSON(t, resourceLinkClaims()))
		}, ReasonBadAlgorithm, ""},
		{"AlgRS512", func(t *testing.T, p *testPlatform) string {
			return signRaw(t, p.key, jwa.RS512, testKID, mustJSON(t, resourceLinkClaims()))
		}, ReasonBadAlgorithm, ""},
		{"AlgLowercaseRS256", func(t *testing.T, p *testPlatform) string {
			parts := strings.Split(validToken(t, p), ".")
			return b64(`{"alg":"rs256","kid":"`+testKID+`"}`) + "." + parts[1] + "." + parts[2]
		}, ReasonBadAlgorithm, ""},
		{"PlatformKeyPublishedForRS512", func(t *testing.T, p *testPlatform) string {
			return signRaw(t, p.key, jwa.RS256, testKIDRS512, mustJSON(t, resourceLinkClaims()))
		}, ReasonBadAlgorithm, "platform key"},

		// Key id and signature.
		{"NoKIDSentInJWTHeader", func(t *testing.T, p *testPlatform) string {
			return signRaw(t, p.key, jwa.RS256, "", mustJSON(t, resourceLinkClaims()))
		}, ReasonMissingKID, ""},
		{"IncorrectKIDInJWTHeader", func(t *testing.T, p *testPlatform) string {
			return signRaw(t, p.key, jwa.RS256, "no-such-kid", mustJSON(t, resourceLinkClaims()))
		}, ReasonUnknownKID, ""},
		{"SignedByAnotherKeyWithTheSameKID", func(t *testing.T, p *testPlatform) string {
			return signRaw(t, otherKey, jwa.RS256, testKID, mustJSON(t, resourceLinkClaims()))
		}, ReasonBadSignature, ""},
		{"PayloadChangedAfterSigning", func(t *testing.T, p *testPlatform) string {
			parts := strings.Split(validToken(t, p), ".")
			c := resourceLinkClaims()
			c[ClaimRoles] = []string{RoleAdministrator}
			return parts[0] + "." + b64(string(mustJSON(t, c))) + "." + parts[2]
		}, ReasonBadSignature, ""},
		{"SignatureStripped", func(t *testing.T, p *testPlatform) string {
			parts := strings.Split(validToken(t, p), ".")
			return parts[0] + "." + parts[1] + "."
		}, ReasonBadSignature, ""},
		{"KIDOfAnECKey", func(t *testing.T, p *testPlatform) string {
			return signRaw(t, p.key, jwa.RS256, testKIDEC, mustJSON(t, resourceLinkClaims()))
		}, ReasonBadSignature, ""},

		// Issuer, audience, authorized party.
		{"WrongIssuer", signed(func(c map[string]any) { c["iss"] = "https://evil.example.com" }), ReasonBadIssuer, ""},
		{"IssuerWithTrailingSlash", signed(func(c map[string]any) { c["iss"] = testIssuer + "/" }), ReasonBadIssuer, ""},
		{"IssuerMissing", signed(func(c map[string]any) { delete(c, "iss") }), ReasonBadIssuer, ""},
		{"AudienceWithoutOurClientID", signed(func(c map[string]any) { c["aud"] = "another-tool" }), ReasonBadAudience, ""},
		{"AudienceArrayWithoutOurClientID", signed(func(c map[string]any) { c["aud"] = []string{"a", "b"}; c["azp"] = testClientID }), ReasonBadAudience, ""},
		{"AudienceMissing", signed(func(c map[string]any) { delete(c, "aud") }), ReasonBadAudience, ""},
		{"SeveralAudiencesWithoutAZP", signed(func(c map[string]any) { c["aud"] = []string{testClientID, "another-tool"} }), ReasonBadAuthorizedParty, ""},
		{"SeveralAudiencesWrongAZP", signed(func(c map[string]any) {
			c["aud"] = []string{testClientID, "another-tool"}
			c["azp"] = "another-tool"
		}), ReasonBadAuthorizedParty, ""},
		{"SingleAudienceWrongAZP", signed(func(c map[string]any) { c["azp"] = "another-tool" }), ReasonBadAuthorizedParty, ""},

		// Timestamps (certification: "Timestamps Incorrect").
		{"ExpMissing", signed(func(c map[string]any) { delete(c, "exp") }), ReasonBadTimestamps, "missing"},
		{"IatMissing", signed(func(c map[string]any) { delete(c, "iat") }), ReasonBadTimestamps, "missing"},
		{"ExpiredBeyondLeeway", signed(func(c map[string]any) {
			c["iat"] = unix(-5 * time.Minute)
			c["exp"] = unix(-time.Minute - time.Second)
		}), ReasonExpired, ""},
		{"IssuedInTheFuture", signed(func(c map[string]any) {
			c["iat"] = unix(time.Minute + time.Second)
			c["exp"] = unix(10 * time.Minute)
		}), ReasonBadTimestamps, "iat"},
		{"IssuedTooLongAgo", signed(func(c map[string]any) {
			c["iat"] = unix(-time.Hour - time.Second)
		}), ReasonBadTimestamps, "iat"},
		{"ExpiresBeforeIssued", signed(func(c map[string]any) {
			c["iat"] = unix(-10 * time.Second)
			c["exp"] = unix(-20 * time.Second)
		}), ReasonBadTimestamps, "iat"},

		// Nonce.
		{"NonceNotIssuedByUs", signed(func(c map[string]any) { c["nonce"] = "another-nonce" }), ReasonBadNonce, ""},
		{"NonceMissing", signed(func(c map[string]any) { delete(c, "nonce") }), ReasonBadNonce, ""},

		// LTI claims.
		{"NoLTIVersion", signed(func(c map[string]any) { delete(c, ClaimVersion) }), ReasonMissingVersion, ""},
		{"EmptyLTIVersion", signed(func(c map[string]any) { c[ClaimVersion] = "" }), ReasonMissingVersion, ""},
		{"WrongLTIVersion", signed(func(c map[string]any) { c[ClaimVersion] = "1.2.0" }), ReasonBadVersion, ""},
		{"MessageTypeClaimMissing", signed(func(c map[string]any) { delete(c, ClaimMessageType) }), ReasonMissingMessageType, ""},
		{"MessageTypeEmpty", signed(func(c map[string]any) { c[ClaimMessageType] = "" }), ReasonMissingMessageType, ""},
		{"InvalidLTIMessage", signed(func(c map[string]any) { c[ClaimMessageType] = "LtiResourceLinkRequestX" }), ReasonBadMessageType, ""},
		{"DeepLinkingResponseSentToTool", signed(func(c map[string]any) { c[ClaimMessageType] = MessageDeepLinkingResponse }), ReasonBadMessageType, ""},
		{"DeploymentIDClaimMissing", signed(func(c map[string]any) { delete(c, ClaimDeploymentID) }), ReasonMissingDeployment, ""},
		{"DeploymentIDEmpty", signed(func(c map[string]any) { c[ClaimDeploymentID] = "" }), ReasonMissingDeployment, ""},
		{"RoleClaimMissing", signed(func(c map[string]any) { delete(c, ClaimRoles) }), ReasonMissingRoles, ""},
		{"RoleClaimNull", signed(func(c map[string]any) { c[ClaimRoles] = nil }), ReasonMissingRoles, ""},
		{"UserClaimMissing", signed(func(c map[string]any) { delete(c, "sub") }), ReasonMissingSubject, ""},
		{"UserClaimEmpty", signed(func(c map[string]any) { c["sub"] = "" }), ReasonMissingSubject, ""},
		{"ResourceLinkIDClaimMissing", signed(func(c map[string]any) { c[ClaimResourceLink] = map[string]any{"title": "Week 1"} }), ReasonMissingResourceLnk, ""},
		{"ResourceLinkClaimMissing", signed(func(c map[string]any) { delete(c, ClaimResourceLink) }), ReasonMissingResourceLnk, ""},
		{"TargetLinkURIClaimMissing", signed(func(c map[string]any) { delete(c, ClaimTargetLinkURI) }), ReasonMissingClaim, "target_link_uri"},
		{"DeepLinkingRequestWithoutSettings", func(t *testing.T, p *testPlatform) string {
			c := deepLinkingClaims()
			delete(c, ClaimDeepLinkingSettings)
			return p.sign(t, c)
		}, ReasonMissingClaim, "deep_link_return_url"},
		{"DeepLinkingRequestWithoutReturnURL", func(t *testing.T, p *testPlatform) string {
			c := deepLinkingClaims()
			c[ClaimDeepLinkingSettings] = map[string]any{"accept_types": []string{"ltiResourceLink"}}
			return p.sign(t, c)
		}, ReasonMissingClaim, "deep_link_return_url"},
		{"ContextWithoutID", signed(func(c map[string]any) { c[ClaimContext] = map[string]any{"title": "History 101"} }), ReasonBadClaim, "context"},
		// Service URLs are stored and called later: they pass the same
		// check as a registration's URLs (issue 9's ";sandbox" host).
		{"AGSLineItemsHostInjection", signed(func(c map[string]any) {
			c[ClaimAGSEndpoint] = map[string]any{"scope": []string{AGSScopeScore}, "lineitems": "https://lms6.example;sandbox/lineitems"}
		}), ReasonBadClaim, "lineitems"},
		{"AGSLineItemPlainHTTP", signed(func(c map[string]any) {
			c[ClaimAGSEndpoint] = map[string]any{"scope": []string{AGSScopeScore}, "lineitem": "http://lms.example.edu/lineitems/1"}
		}), ReasonBadClaim, "lineitem"},
		{"NRPSURLWithUserInfo", signed(func(c map[string]any) {
			c[ClaimNRPS] = map[string]any{"context_memberships_url": "https://a:b@lms.example.edu/members", "service_versions": []string{"2.0"}}
		}), ReasonBadClaim, "NRPS"},
		{"DeepLinkReturnURLHostInjection", func(t *testing.T, p *testPlatform) string {
			c := deepLinkingClaims()
			c[ClaimDeepLinkingSettings].(map[string]any)["deep_link_return_url"] = "https://lms6.example;sandbox/return"
			return p.sign(t, c)
		}, ReasonBadClaim, "deep_link_return_url"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := p.v.Validate(context.Background(), tc.token(t, p), p.reg, testNonce)
			e := wantError(t, l, err, tc.want)
			if !strings.Contains(e.Detail, tc.detail) {
				t.Errorf("detail %q does not mention %q", e.Detail, tc.detail)
			}
		})
	}
}

// A return URL that fails the check is dropped, not a reason to refuse: it
// only tells where the course is shown.
func TestValidateDropsABadReturnURL(t *testing.T) {
	p := newTestPlatform(t)
	for raw, want := range map[string]string{
		"https://lms6.example;sandbox/return": "",
		"https://canvas.school.edu/courses/1": "https://canvas.school.edu/courses/1",
	} {
		c := resourceLinkClaims()
		c[ClaimLaunchPresentation] = map[string]any{"document_target": "iframe", "return_url": raw}
		l, err := p.v.Validate(context.Background(), p.sign(t, c), p.reg, testNonce)
		if err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		if l.LaunchPresentation == nil || l.LaunchPresentation.ReturnURL != want {
			t.Errorf("return_url %q kept as %+v, want %q", raw, l.LaunchPresentation, want)
		}
	}
}

// TestValidateTokenSizeLimit puts the size limit exactly at maxIDToken bytes.
func TestValidateTokenSizeLimit(t *testing.T) {
	p := newTestPlatform(t)
	withPadding := func(n int) string {
		c := resourceLinkClaims()
		c[ClaimCustom] = map[string]any{"padding": strings.Repeat("x", n)}
		return p.sign(t, c)
	}
	// The token grows by 4 bytes per 3 bytes of padding: find the largest
	// padding that stays within the limit.
	n := 40000
	n += (maxIDToken - len(withPadding(n))) * 3 / 4
	for len(withPadding(n)) > maxIDToken {
		n--
	}
	for len(withPadding(n+1)) <= maxIDToken {
		n++
	}
	atLimit, overLimit := withPadding(n), withPadding(n+1)
	if len(atLimit) > maxIDToken || len(overLimit) <= maxIDToken || len(atLimit) < maxIDToken-4 {
		t.Fatalf("token sizes %d and %d do not straddle %d", len(atLimit), len(overLimit), maxIDToken)
	}
	if _, err := p.v.Validate(context.Background(), atLimit, p.reg, testNonce); err != nil {
		t.Errorf("token of %d bytes rejected: %v", len(atLimit), err)
	}
	l, err := p.v.Validate(context.Background(), overLimit, p.reg, testNonce)
	wantError(t, l, err, ReasonMalformedToken)
}

// TestValidateTimeBoundaries moves the clock around one token's exp and iat.
func TestValidateTimeBoundaries(t *testing.T) {
	p := newTestPlatform(t)
	c := resourceLinkClaims()
	iat, exp := testNow, testNow.Add(5*time.Minute)
	c["iat"], c["exp"] = iat.Unix(), exp.Unix()
	token := p.sign(t, c)
	for _, tc := range []struct {
		name string
		now  time.Time
		want Reason // empty: accepted
	}{
		{"ClockBehindWithinLeeway", iat.Add(-time.Minute), ""},
		{"ClockBehindBeyondLeeway", iat.Add(-time.Minute - time.Second), ReasonBadTimestamps},
		{"AtIssue", iat, ""},
		{"AtExpiry", exp, ""},
		{"ExpiryPlusLeeway", exp.Add(time.Minute), ""},
		{"ExpiryPlusLeewayPlusOneSecond", exp.Add(time.Minute + time.Second), ReasonExpired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := *p.v
			v.Now = func() time.Time { return tc.now }
			l, err := v.Validate(context.Background(), token, p.reg, testNonce)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("rejected at %v: %v", tc.now, err)
				}
				return
			}
			wantError(t, l, err, tc.want)
		})
	}
	t.Run("MaxAge", func(t *testing.T) {
		v := *p.v
		v.MaxAge = 2 * time.Minute
		v.Now = func() time.Time { return iat.Add(2 * time.Minute) }
		if _, err := v.Validate(context.Background(), token, p.reg, testNonce); err != nil {
			t.Fatalf("rejected at MaxAge: %v", err)
		}
		v.Now = func() time.Time { return iat.Add(2*time.Minute + time.Second) }
		l, err := v.Validate(context.Background(), token, p.reg, testNonce)
		wantError(t, l, err, ReasonBadTimestamps)
	})
}

// TestValidateRejectsEmptyNonce: a tool that lost its nonce must not accept
// a token without one.
func TestValidateRejectsEmptyNonce(t *testing.T) {
	p := newTestPlatform(t)
	c := resourceLinkClaims()
	c["nonce"] = ""
	l, err := p.v.Validate(context.Background(), p.sign(t, c), p.reg, "")
	wantError(t, l, err, ReasonBadNonce)
}

func TestValidateChecksTheRegistrationsClientID(t *testing.T) {
	p := newTestPlatform(t)
	token := p.sign(t, resourceLinkClaims())
	other := p.reg
	other.ClientID = "another-client"
	l, err := p.v.Validate(context.Background(), token, other, testNonce)
	wantError(t, l, err, ReasonBadAudience)
}

func TestTokenIssuer(t *testing.T) {
	p := newTestPlatform(t)
	for _, tc := range []struct {
		name, token, want string
	}{
		{"SignedToken", p.sign(t, resourceLinkClaims()), testIssuer},
		{"UnsignedToken", b64(`{"alg":"none"}`) + "." + b64(`{"iss":"https://lms.example.edu/x"}`) + ".", "https://lms.example.edu/x"},
		{"Empty", "", ""},
		{"TwoParts", b64(`{}`) + "." + b64(`{"iss":"a"}`), ""},
		{"PayloadNotBase64", "e30.!!!.sig", ""},
		{"PayloadNotJSON", "e30." + b64("iss=a") + ".sig", ""},
		{"IssuerNotAString", "e30." + b64(`{"iss":42}`) + ".sig", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := TokenIssuer(tc.token); got != tc.want {
				t.Errorf("TokenIssuer = %q, want %q", got, tc.want)
			}
		})
	}
}

// postSignatureReasons are the reasons a token correctly signed by the
// platform's key can be rejected for: its claims, never its envelope.
var postSignatureReasons = map[Reason]bool{
	ReasonMalformedToken: true, ReasonBadIssuer: true, ReasonBadAudience: true,
	ReasonBadAuthorizedParty: true, ReasonExpired: true, ReasonBadTimestamps: true,
	ReasonBadNonce: true, ReasonMissingVersion: true, ReasonBadVersion: true,
	ReasonMissingMessageType: true, ReasonBadMessageType: true, ReasonMissingDeployment: true,
	ReasonMissingRoles: true, ReasonMissingSubject: true, ReasonMissingResourceLnk: true,
	ReasonMissingClaim: true, ReasonBadClaim: true,
}

func checkError(t *testing.T, l *Launch, err error) *Error {
	t.Helper()
	e, ok := err.(*Error)
	if !ok {
		t.Fatalf("error %T %v, want *lti.Error", err, err)
	}
	if e.Reason == "" || e.Message == "" {
		t.Fatalf("error without reason or message: %#v", e)
	}
	if l != nil {
		t.Fatalf("rejection %v came with a launch", e)
	}
	return e
}

// FuzzValidate feeds Validate arbitrary strings and mutations of valid
// tokens. Nothing but the seeds' valid tokens may be accepted, and then
// with exactly their launch; everything else is an *Error.
func FuzzValidate(f *testing.F) {
	p := newTestPlatform(f)
	ctx := context.Background()
	valid := map[string]*Launch{}
	for _, c := range []map[string]any{resourceLinkClaims(), deepLinkingClaims()} {
		tok := p.sign(f, c)
		l, err := p.v.Validate(ctx, tok, p.reg, testNonce)
		if err != nil {
			f.Fatal(err)
		}
		valid[tok] = l
		f.Add(tok)
		parts := strings.Split(tok, ".")
		f.Add(parts[0] + "." + parts[1] + ".")
		f.Add(parts[0] + ".." + parts[2])
		f.Add(b64(`{"alg":"none","kid":"`+testKID+`"}`) + "." + parts[1] + ".")
		f.Add(b64(`{"alg":"RS256"}`) + "." + parts[1] + "." + parts[2])
		f.Add(b64(`{"alg":"RS256","kid":"other"}`) + "." + parts[1] + "." + parts[2])
		f.Add(tok[:len(tok)-1])
		f.Add(tok + "A")
		f.Add(strings.Replace(tok, ".", "\n.", 1))
	}
	bad := resourceLinkClaims()
	bad["iss"] = "https://evil.example.com"
	f.Add(p.sign(f, bad))
	f.Add(signRaw(f, p.key, jwa.RS256, testKIDEC, []byte("{}")))
	f.Add("")
	f.Add("..")
	f.Add("a.b.c")
	f.Add("e30.e30.e30")
	f.Add(b64(`{"alg":"RS256","kid":null}`) + ".e30.")

	f.Fuzz(func(t *testing.T, token string) {
		l, err := p.v.Validate(ctx, token, p.reg, testNonce)
		if err != nil {
			checkError(t, l, err)
			return
		}
		for _, want := range valid {
			if reflect.DeepEqual(l, want) {
				if iss := TokenIssuer(token); iss != testIssuer {
					t.Fatalf("accepted token whose TokenIssuer is %q", iss)
				}
				return
			}
		}
		t.Fatalf("accepted a token that is none of the signed ones: %q -> %+v", token, l)
	})
}

// FuzzValidateClaims runs arbitrary payloads through the checks Validate
// makes once the signature verified (decoding them as Validate does: signing
// each input with RSA would leave the fuzzer a few executions a second). An
// accepted launch must satisfy everything LTI 1.3 requires of one; a
// rejection is about the claims, never the envelope.
func FuzzValidateClaims(f *testing.F) {
	p := newTestPlatform(f)
	for _, c := range []map[string]any{resourceLinkClaims(), deepLinkingClaims()} {
		f.Add(mustJSON(f, c))
	}
	for _, edit := range []func(c map[string]any){
		func(c map[string]any) { c["exp"] = 1e300 },
		func(c map[string]any) { c["exp"] = 9.2e18; c["iat"] = -9.2e18 },
		func(c map[string]any) { c["iat"] = 9.2e18 },
		func(c map[string]any) { c[ClaimRoles] = []any{nil, " ", "Instructor#TeachingAssistant"} },
		func(c map[string]any) { c["aud"] = []string{testClientID, testClientID}; c["azp"] = "" },
		func(c map[string]any) { c[ClaimContext] = map[string]any{"id": ""} },
		func(c map[string]any) { c[ClaimCustom] = map[string]any{"a": []any{nil}, "b": -0.0, "c": 1e21} },
		func(c map[string]any) { c[ClaimLaunchPresentation] = map[string]any{"locale": "de"} },
		func(c map[string]any) { c[ClaimMessageType] = MessageDeepLinking },
	} {
		c := resourceLinkClaims()
		edit(c)
		f.Add(mustJSON(f, c))
	}
	f.Add([]byte(`{"ISS":"x","iss":"` + testIssuer + `"}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`[]`))

	f.Fuzz(func(t *testing.T, payload []byte) {
		var c idTokenClaims
		if err := json.Unmarshal(payload, &c); err != nil {
			return // Validate: ReasonMalformedToken (TestValidateRejects)
		}
		l, err := p.v.check(&c, p.reg, testNonce)
		if err != nil {
			e := checkError(t, l, err)
			if !postSignatureReasons[e.Reason] {
				t.Fatalf("claims rejected for %v", e)
			}
			return
		}
		checkLaunchInvariants(t, p, payload, l)
	})
}

func checkLaunchInvariants(t *testing.T, p *testPlatform, payload []byte, l *Launch) {
	t.Helper()
	now, v := testNow, p.v
	if l.Registration != p.reg {
		t.Fatalf("registration %+v", l.Registration)
	}
	if l.MessageType != MessageResourceLink && l.MessageType != MessageDeepLinking && l.MessageType != MessageSubmissionReview {
		t.Fatalf("message type %q", l.MessageType)
	}
	if (l.MessageType == MessageSubmissionReview) != (l.ForUser != nil) || (l.ForUser != nil && l.ForUser.UserID == "") {
		t.Fatalf("%s launch with for_user %+v", l.MessageType, l.ForUser)
	}
	if l.DeploymentID == "" {
		t.Fatal("no deployment id")
	}
	if l.RoleURIs == nil || !reflect.DeepEqual(l.Roles, ParseRoles(l.RoleURIs)) {
		t.Fatalf("roles %q parsed as %+v", l.RoleURIs, l.Roles)
	}
	if (l.MessageType == MessageResourceLink || l.MessageType == MessageSubmissionReview) && (l.Subject == "" || l.ResourceLink.ID == "" || l.TargetLinkURI == "") {
		t.Fatalf("resource link launch without sub, link id or target: %+v", l)
	}
	if l.MessageType == MessageDeepLinking && (l.DeepLinking == nil || l.DeepLinking.DeepLinkReturnURL == "") {
		t.Fatalf("deep linking launch without a return URL: %+v", l.DeepLinking)
	}
	if l.Context != nil && l.Context.ID == "" {
		t.Fatalf("context without id: %+v", l.Context)
	}
	if now.After(l.ExpiresAt.Add(v.Leeway)) || l.IssuedAt.After(now.Add(v.Leeway)) ||
		now.Sub(l.IssuedAt) > v.MaxAge || l.ExpiresAt.Before(l.IssuedAt) {
		t.Fatalf("accepted at %v a token issued %v expiring %v", now, l.IssuedAt, l.ExpiresAt)
	}
	if l.Locale == "" && l.LaunchPresentation != nil && l.LaunchPresentation.Locale != "" {
		t.Fatalf("locale not taken from launch_presentation %+v", l.LaunchPresentation)
	}
	var raw map[string]any
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber() // claims Roundtable ignores may hold numbers beyond float64
	if err := dec.Decode(&raw); err != nil {
		t.Fatalf("accepted a payload that is not a JSON object: %v", err)
	}
	if !someClaimIs(raw, "nonce", testNonce) || !someClaimIs(raw, "iss", testIssuer) || !someClaimIs(raw, ClaimVersion, Version) {
		t.Fatalf("accepted claims without our nonce, issuer and version: %s", payload)
	}
	for k := range l.Custom {
		if !someClaimKey(raw, ClaimCustom, k) {
			t.Fatalf("custom %q not in the token", k)
		}
	}
}

// someClaimIs reports whether a claim named name (compared as encoding/json
// does, without case) has the value want.
func someClaimIs(raw map[string]any, name string, want any) bool {
	for k, v := range raw {
		if strings.EqualFold(k, name) && v == want {
			return true
		}
	}
	return false
}

func someClaimKey(raw map[string]any, claim, key string) bool {
	for k, v := range raw {
		if m, ok := v.(map[string]any); ok && strings.EqualFold(k, claim) {
			if _, ok := m[key]; ok {
				return true
			}
		}
	}
	return false
}

// FuzzTokenIssuer: TokenIssuer never panics, reads an issuer only from a
// three-part token, and reads back any issuer put in a payload.
func FuzzTokenIssuer(f *testing.F) {
	f.Add("", testIssuer)
	f.Add("a.b.c", "https://canvas.instructure.com")
	f.Add(b64(`{"alg":"RS256"}`)+"."+b64(`{"iss":"x"}`)+".sig", "")
	f.Add("e30."+b64(`{"iss":"\ud800"}`)+".", "\xff\xfe")
	f.Add("..", "é\u2028<>&")
	f.Fuzz(func(t *testing.T, token, iss string) {
		if got := TokenIssuer(token); got != "" && strings.Count(token, ".") != 2 {
			t.Fatalf("TokenIssuer(%q) = %q from a token without three parts", token, got)
		}
		payload, err := json.Marshal(map[string]string{"iss": iss, "sub": "s"})
		if err != nil {
			t.Fatal(err)
		}
		var want struct{ Iss string }
		if err := json.Unmarshal(payload, &want); err != nil {
			t.Fatal(err)
		}
		tok := b64(`{"alg":"RS256","kid":"k"}`) + "." + base64.RawURLEncoding.EncodeToString(payload) + ".c2ln"
		if got := TokenIssuer(tok); got != want.Iss {
			t.Fatalf("TokenIssuer = %q, want %q", got, want.Iss)
		}
	})
}
