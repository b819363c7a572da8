package ltiplatform_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/roundtable-lms/roundtable/lti"
	"github.com/roundtable-lms/roundtable/lti/ltiplatform"
)

const (
	svcClient = "svc-tool"
	svcKID    = "svc-key-1"
)

var (
	svcKeyOnce sync.Once
	svcKey     *rsa.PrivateKey
	foreignKey *rsa.PrivateKey
)

// svcEnv is the seeded platform with a second tool that publishes a JWKS,
// as a tool using the services does.
type svcEnv struct {
	*env
	jwks *httptest.Server
}

func newSvcEnv(t *testing.T) *svcEnv {
	t.Helper()
	svcKeyOnce.Do(func() {
		var err error
		if svcKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		foreignKey = ltiplatform.NewForeignKey()
	})
	e := newEnv(t)
	pub, err := jwk.FromRaw(&svcKey.PublicKey)
	must(t, err)
	_ = pub.Set(jwk.KeyIDKey, svcKID)
	_ = pub.Set(jwk.AlgorithmKey, jwa.RS256)
	set := jwk.NewSet()
	_ = set.AddKey(pub)
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(jwks.Close)
	must(t, e.p.AddTool(ltiplatform.Tool{ClientID: svcClient, DeploymentID: "dep-svc", LoginURL: "https://svc.example/login",
		RedirectURIs: []string{"https://svc.example/launch"}, JWKSURL: jwks.URL, Name: "Service tool"}))
	must(t, e.p.AddResourceLink(ltiplatform.ResourceLink{ID: "rl-svc", CourseID: "c-101", ClientID: svcClient, Title: "Graded forum"}))
	return &svcEnv{env: e, jwks: jwks}
}

// assertionClaims are valid client assertion claims for the service tool.
func (e *svcEnv) assertionClaims() map[string]any {
	now := e.clock.Now()
	return map[string]any{"iss": svcClient, "sub": svcClient, "aud": e.p.TokenURL(),
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "jti": rand.Text()}
}

// sign makes a compact JWS; kid "" leaves the kid out.
func sign(t *testing.T, alg jwa.SignatureAlgorithm, key any, kid string, claims map[string]any) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	must(t, err)
	hdr := jws.NewHeaders()
	if kid != "" {
		_ = hdr.Set(jws.KeyIDKey, kid)
	}
	_ = hdr.Set(jws.TypeKey, "JWT")
	out, err := jws.Sign(payload, jws.WithKey(alg, key, jws.WithProtectedHeaders(hdr)))
	must(t, err)
	return string(out)
}

type tokenAnswer struct {
	status int
	body   map[string]any
	header http.Header
}

func (e *svcEnv) postToken(t *testing.T, form url.Values) tokenAnswer {
	t.Helper()
	resp, err := http.Post(e.p.TokenURL(), "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	must(t, err)
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("token answer is not JSON: %v", err)
	}
	return tokenAnswer{resp.StatusCode, body, resp.Header}
}

func tokenForm(assertion, scope string) url.Values {
	return url.Values{"grant_type": {"client_credentials"},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {assertion}, "scope": {scope}}
}

// token gets an access token with the given scopes.
func (e *svcEnv) token(t *testing.T, scopes ...string) string {
	t.Helper()
	a := e.postToken(t, tokenForm(sign(t, jwa.RS256, svcKey, svcKID, e.assertionClaims()), strings.Join(scopes, " ")))
	if a.status != http.StatusOK {
		t.Fatalf("token: %d %v", a.status, a.body)
	}
	return a.body["access_token"].(string)
}

func TestTokenEndpointIssuesAnOpaqueBearerToken(t *testing.T) {
	e := newSvcEnv(t)
	a := e.postToken(t, tokenForm(sign(t, jwa.RS256, svcKey, svcKID, e.assertionClaims()), lti.AGSScopeScore+" "+lti.NRPSScopeMembershipReadOnly))
	if a.status != http.StatusOK {
		t.Fatalf("status %d %v", a.status, a.body)
	}
	tok, _ := a.body["access_token"].(string)
	if len(tok) < 32 || strings.Count(tok, ".") == 2 {
		t.Errorf("access token %q: want a long opaque value", tok)
	}
	if a.body["token_type"] != "Bearer" || a.body["expires_in"] != float64(3600) ||
		a.body["scope"] != lti.AGSScopeScore+" "+lti.NRPSScopeMembershipReadOnly {
		t.Errorf("answer %v", a.body)
	}
	if a.header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", a.header.Get("Cache-Control"))
	}
	// Without a scope parameter, everything the tool may use.
	all := e.postToken(t, tokenForm(sign(t, jwa.RS256, svcKey, svcKID, e.assertionClaims()), ""))
	if all.status != http.StatusOK || strings.Count(all.body["scope"].(string), "https://") != 5 {
		t.Errorf("no scope asked: %d %v", all.status, all.body)
	}
	reqs := e.p.ServiceRequests()
	if len(reqs) != 2 || reqs[0].Path != "/token" || reqs[0].ClientID != svcClient || reqs[0].Status != 200 {
		t.Errorf("request log %+v", reqs)
	}
}

func TestTokenEndpointRejectsBadAssertions(t *testing.T) {
	e := newSvcEnv(t)
	type tc struct {
		name   string
		form   func() url.Values
		status int
		code   string
	}
	valid := func(edit func(map[string]any)) func() url.Values {
		return func() url.Values {
			c := e.assertionClaims()
			if edit != nil {
				edit(c)
			}
			return tokenForm(sign(t, jwa.RS256, svcKey, svcKID, c), lti.AGSScopeScore)
		}
	}
	replayed := sign(t, jwa.RS256, svcKey, svcKID, e.assertionClaims())
	if a := e.postToken(t, tokenForm(replayed, lti.AGSScopeScore)); a.status != http.StatusOK {
		t.Fatalf("first use of the assertion: %d %v", a.status, a.body)
	}
	cases := []tc{
		{"forged signature (another key, the tool's kid)", func() url.Values {
			return tokenForm(sign(t, jwa.RS256, foreignKey, svcKID, e.assertionClaims()), "")
		}, 401, "invalid_client"},
		{"wrong key (kid not in the tool's JWKS)", func() url.Values {
			return tokenForm(sign(t, jwa.RS256, foreignKey, "not-published", e.assertionClaims()), "")
		}, 401, "invalid_client"},
		{"no kid", func() url.Values { return tokenForm(sign(t, jwa.RS256, svcKey, "", e.assertionClaims()), "") }, 401, "invalid_client"},
		{"RS512", func() url.Values { return tokenForm(sign(t, jwa.RS512, svcKey, svcKID, e.assertionClaims()), "") }, 401, "invalid_client"},
		{"HS256 with the public key", func() url.Values {
			return tokenForm(sign(t, jwa.HS256, []byte("public key pem"), svcKID, e.assertionClaims()), "")
		}, 401, "invalid_client"},
		{"not a JWT", func() url.Values { return tokenForm("hello.world", "") }, 401, "invalid_client"},
		{"expired", valid(func(c map[string]any) {
			c["iat"] = e.clock.Now().Add(-20 * time.Minute).Unix()
			c["exp"] = e.clock.Now().Add(-10 * time.Minute).Unix()
		}), 401, "invalid_client"},
		{"exp too far ahead", valid(func(c map[string]any) { c["exp"] = e.clock.Now().Add(48 * time.Hour).Unix() }), 401, "invalid_client"},
		{"no exp", valid(func(c map[string]any) { delete(c, "exp") }), 401, "invalid_client"},
		{"no iat", valid(func(c map[string]any) { delete(c, "iat") }), 401, "invalid_client"},
		{"iat in the future", valid(func(c map[string]any) { c["iat"] = e.clock.Now().Add(time.Hour).Unix() }), 401, "invalid_client"},
		{"wrong aud", valid(func(c map[string]any) { c["aud"] = e.p.Issuer() }), 401, "invalid_client"},
		{"aud list without the token URL", valid(func(c map[string]any) { c["aud"] = []string{"https://other.example/token"} }), 401, "invalid_client"},
		{"unknown client", valid(func(c map[string]any) { c["iss"], c["sub"] = "nobody", "nobody" }), 401, "invalid_client"},
		{"sub is not the client", valid(func(c map[string]any) { c["sub"] = "u-ana" }), 401, "invalid_client"},
		{"iss of another tool", valid(func(c map[string]any) { c["iss"], c["sub"] = clientID, clientID }), 401, "invalid_client"},
		{"no jti", valid(func(c map[string]any) { delete(c, "jti") }), 401, "invalid_client"},
		{"replayed jti", func() url.Values { return tokenForm(replayed, lti.AGSScopeScore) }, 401, "invalid_client"},
		{"no grant type", func() url.Values { f := valid(nil)(); f.Del("grant_type"); return f }, 400, "invalid_request"},
		{"password grant", func() url.Values { f := valid(nil)(); f.Set("grant_type", "password"); return f }, 400, "unsupported_grant_type"},
		{"client secret assertion type", func() url.Values {
			f := valid(nil)()
			f.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:saml2-bearer")
			return f
		}, 401, "invalid_client"},
		{"scope the platform does not know", func() url.Values {
			f := valid(nil)()
			f.Set("scope", lti.AGSScopeScore+" https://example.com/admin")
			return f
		}, 400, "invalid_scope"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := e.postToken(t, c.form())
			if a.status != c.status || a.body["error"] != c.code {
				t.Errorf("%d %v, want %d %s", a.status, a.body, c.status, c.code)
			}
			if _, ok := a.body["access_token"]; ok {
				t.Error("an access token was issued")
			}
		})
	}
	// A JSON body is not a token request.
	resp, err := http.Post(e.p.TokenURL(), "application/json", bytes.NewReader([]byte(`{"grant_type":"client_credentials"}`)))
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("JSON body: %d", resp.StatusCode)
	}
}

func TestTokenEndpointAcceptsTheConfiguredAudience(t *testing.T) {
	e := newSvcEnv(t)
	// A platform whose OAuth2 audience is not its token URL (Brightspace).
	srv := httptest.NewUnstartedServer(nil)
	p, err := ltiplatform.New(ltiplatform.Config{Issuer: "http://" + srv.Listener.Addr().String(),
		TokenAudience: "https://auth.example.com/core/connect/token", Now: e.clock.Now, Logger: slog.New(slog.DiscardHandler)})
	must(t, err)
	srv.Config.Handler = p.Handler()
	srv.Start()
	t.Cleanup(srv.Close)
	must(t, p.AddTool(ltiplatform.Tool{ClientID: svcClient, DeploymentID: "d", LoginURL: "https://svc.example/login",
		RedirectURIs: []string{"https://svc.example/launch"}, JWKSURL: e.jwks.URL}))
	post := func(aud string) int {
		c := e.assertionClaims()
		c["aud"] = aud
		resp, err := http.PostForm(p.TokenURL(), tokenForm(sign(t, jwa.RS256, svcKey, svcKID, c), ""))
		must(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := post(p.TokenURL()); s != http.StatusUnauthorized {
		t.Errorf("token URL as audience: %d, want 401", s)
	}
	if s := post("https://auth.example.com/core/connect/token"); s != http.StatusOK {
		t.Errorf("configured audience: %d, want 200", s)
	}
}

func TestTokenEndpointGrantsOnlyTheToolsScopes(t *testing.T) {
	e := newSvcEnv(t)
	tool, err := e.p.Tool(svcClient)
	must(t, err)
	tool.Scopes = []string{lti.AGSScopeScore, lti.AGSScopeLineItemReadOnly}
	must(t, e.p.AddTool(tool))
	a := e.postToken(t, tokenForm(sign(t, jwa.RS256, svcKey, svcKID, e.assertionClaims()), lti.AGSScopeScore+" "+lti.AGSScopeLineItem))
	if a.status != http.StatusBadRequest || a.body["error"] != "invalid_scope" {
		t.Errorf("lineitem scope for a read-only tool: %d %v", a.status, a.body)
	}
	a = e.postToken(t, tokenForm(sign(t, jwa.RS256, svcKey, svcKID, e.assertionClaims()), ""))
	if a.status != http.StatusOK || a.body["scope"] != lti.AGSScopeLineItemReadOnly+" "+lti.AGSScopeScore {
		t.Errorf("default scopes: %d %v", a.status, a.body)
	}

	// Its launches name only those services.
	c, err := e.p.LaunchClaims(ltiplatform.LaunchRequest{ClientID: svcClient, UserID: "u-ben", CourseID: "c-101", ResourceLinkID: "rl-svc"}, "n")
	must(t, err)
	ags, _ := c[lti.ClaimAGSEndpoint].(map[string]any)
	if scopes, _ := ags["scope"].([]any); len(scopes) != 2 || scopes[0] != lti.AGSScopeLineItemReadOnly || scopes[1] != lti.AGSScopeScore {
		t.Errorf("AGS claim %v", c[lti.ClaimAGSEndpoint])
	}
	if _, ok := c[lti.ClaimNRPS]; ok {
		t.Errorf("NRPS claim for a tool without the memberships scope: %v", c[lti.ClaimNRPS])
	}
	tool.Scopes = []string{}
	must(t, e.p.AddTool(tool))
	c, err = e.p.LaunchClaims(ltiplatform.LaunchRequest{ClientID: svcClient, UserID: "u-ben", CourseID: "c-101", ResourceLinkID: "rl-svc"}, "n")
	must(t, err)
	if _, ok := c[lti.ClaimAGSEndpoint]; ok {
		t.Errorf("AGS claim for a tool with no service scope: %v", c[lti.ClaimAGSEndpoint])
	}
}

// call sends a service request with a bearer token.
func call(t *testing.T, method, target, token, contentType, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, target, strings.NewReader(body))
	must(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

const (
	mtLineItem = "application/vnd.ims.lis.v2.lineitem+json"
	mtScore    = "application/vnd.ims.lis.v1.score+json"
)

func TestServicesCheckTokenAndScope(t *testing.T) {
	e := newSvcEnv(t)
	items := e.p.LineItemsURL("c-101")
	resp, _ := call(t, "GET", items, "", "", "")
	if resp.StatusCode != 401 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "invalid_token") {
		t.Errorf("no token: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	if resp, _ := call(t, "GET", items, "made-up", "", ""); resp.StatusCode != 401 {
		t.Errorf("unknown token: %d", resp.StatusCode)
	}
	scoreOnly := e.token(t, lti.AGSScopeScore)
	if resp, _ := call(t, "GET", items, scoreOnly, "", ""); resp.StatusCode != 403 {
		t.Errorf("score token listing line items: %d", resp.StatusCode)
	}
	readOnly := e.token(t, lti.AGSScopeLineItemReadOnly)
	if resp, body := call(t, "GET", items, readOnly, "", ""); resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/vnd.ims.lis.v2.lineitemcontainer+json" || strings.TrimSpace(body) != "[]" {
		t.Errorf("read-only listing: %d %q %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	if resp, _ := call(t, "POST", items, readOnly, mtLineItem, `{"label":"x","scoreMaximum":1}`); resp.StatusCode != 403 {
		t.Errorf("read-only token creating a line item: %d", resp.StatusCode)
	}
	if resp, _ := call(t, "GET", e.p.MembershipsURL("c-101"), readOnly, "", ""); resp.StatusCode != 403 {
		t.Errorf("line item token reading members: %d", resp.StatusCode)
	}
	// Tokens expire.
	e.clock.Add(61 * time.Minute)
	if resp, _ := call(t, "GET", items, readOnly, "", ""); resp.StatusCode != 401 {
		t.Errorf("expired token: %d", resp.StatusCode)
	}
}

func TestLineItemsContainer(t *testing.T) {
	e := newSvcEnv(t)
	tok := e.token(t)
	items := e.p.LineItemsURL("c-101")
	create := func(body string) (int, map[string]any) {
		resp, b := call(t, "POST", items, tok, mtLineItem, body)
		var out map[string]any
		_ = json.Unmarshal([]byte(b), &out)
		return resp.StatusCode, out
	}
	status, li := create(`{"label":"Essay","scoreMaximum":20,"resourceId":"essay-1","tag":"grade","resourceLinkId":"rl-svc","startDateTime":"2026-12-01T09:00:00+01:00"}`)
	if status != 201 || li["label"] != "Essay" || li["scoreMaximum"] != float64(20) || li["resourceLinkId"] != "rl-svc" ||
		!strings.HasPrefix(li["id"].(string), items+"/") || li["startDateTime"] != "2026-12-01T09:00:00+01:00" {
		t.Fatalf("create: %d %v", status, li)
	}
	for _, body := range []string{`{"label":"Quiz","scoreMaximum":5,"resourceId":"quiz-1","tag":"grade"}`,
		`{"label":"Quiz originality","scoreMaximum":1,"resourceId":"quiz-1","tag":"originality"}`} {
		if s, out := create(body); s != 201 {
			t.Fatalf("create %s: %d %v", body, s, out)
		}
	}
	for body, want := range map[string]int{
		`{"label":"","scoreMaximum":5}`:                           400,
		`{"label":"No max"}`:                                      400,
		`{"label":"Zero","scoreMaximum":0}`:                       400,
		`{"label":"x","scoreMaximum":1,"resourceLinkId":"rl-1"}`:  404, // another tool's link
		`{"label":"x","scoreMaximum":1,"resourceLinkId":"nope"}`:  404,
		`{"label":"x","scoreMaximum":1,"endDateTime":"tomorrow"}`: 400,
		`not json`: 400,
	} {
		if s, out := create(body); s != want {
			t.Errorf("create %s: %d %v, want %d", body, s, out, want)
		}
	}
	if resp, _ := call(t, "POST", items, tok, "application/json", `{"label":"x","scoreMaximum":1}`); resp.StatusCode != 415 {
		t.Errorf("plain JSON line item: %d, want 415", resp.StatusCode)
	}

	list := func(query string) ([]map[string]any, string) {
		resp, b := call(t, "GET", items+query, tok, "", "")
		if resp.StatusCode != 200 {
			t.Fatalf("list %s: %d %s", query, resp.StatusCode, b)
		}
		var out []map[string]any
		must(t, json.Unmarshal([]byte(b), &out))
		return out, resp.Header.Get("Link")
	}
	for query, want := range map[string]int{"": 3, "?resource_id=quiz-1": 2, "?tag=grade": 2,
		"?resource_id=quiz-1&tag=originality": 1, "?resource_link_id=rl-svc": 1, "?resource_link_id=rl-svc&resource_id=quiz-1": 0} {
		if got, _ := list(query); len(got) != want {
			t.Errorf("list %q: %d items, want %d", query, len(got), want)
		}
	}
	first, link := list("?limit=2&tag=grade")
	if len(first) != 1 || link != "" {
		// two items tagged grade fit in a page of 2.
		if len(first) != 2 || link != "" {
			t.Errorf("limit 2 of 2: %d items, Link %q", len(first), link)
		}
	}
	page1, link := list("?limit=2")
	if len(page1) != 2 || !strings.Contains(link, `rel="next"`) {
		t.Fatalf("page 1: %d items, Link %q", len(page1), link)
	}
	next := link[strings.Index(link, "<")+1 : strings.Index(link, ">")]
	resp, b := call(t, "GET", next, tok, "", "")
	var page2 []map[string]any
	_ = json.Unmarshal([]byte(b), &page2)
	if resp.StatusCode != 200 || len(page2) != 1 || resp.Header.Get("Link") != "" || page2[0]["label"] != "Quiz originality" {
		t.Errorf("page 2 (%s): %d %s Link %q", next, resp.StatusCode, b, resp.Header.Get("Link"))
	}

	for _, q := range []string{"?page=9223372036854775807", "?page=-1&limit=-5", "?page=abc", "?page=4611686018427387904&limit=2"} {
		resp, b := call(t, "GET", items+q, tok, "", "")
		if resp.StatusCode != 200 {
			t.Errorf("list %s: %d %s", q, resp.StatusCode, b)
		}
	}

	// The other tool sees none of them.
	if got := e.p.LineItems("c-101"); len(got) != 3 || got[0].ClientID != svcClient {
		t.Errorf("platform line items %+v", got)
	}
}

func TestLineItemGetPutDelete(t *testing.T) {
	e := newSvcEnv(t)
	tok := e.token(t)
	li, err := e.p.AddLineItem(ltiplatform.LineItem{CourseID: "c-101", ClientID: svcClient, Label: "Essay", ScoreMaximum: 20,
		ResourceID: "essay-1", ResourceLinkID: "rl-svc", Tag: "grade"})
	must(t, err)
	u := e.p.LineItemURL(li)
	resp, b := call(t, "GET", u, tok, "", "")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != mtLineItem || !strings.Contains(b, `"id":"`+u+`"`) {
		t.Fatalf("get: %d %q %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	resp, b = call(t, "PUT", u, tok, mtLineItem, `{"label":"Essay (final)","scoreMaximum":25,"resourceId":"essay-1","tag":"grade"}`)
	if resp.StatusCode != 200 || !strings.Contains(b, `"label":"Essay (final)"`) || !strings.Contains(b, `"resourceLinkId":"rl-svc"`) {
		t.Errorf("put: %d %s", resp.StatusCode, b)
	}
	if got, _ := e.p.LineItem(li.ID); got.Label != "Essay (final)" || got.ScoreMaximum != 25 {
		t.Errorf("after put: %+v", got)
	}
	if resp, _ := call(t, "PUT", u, tok, mtLineItem, `{"label":"x","scoreMaximum":1,"resourceLinkId":"rl-2"}`); resp.StatusCode != 400 {
		t.Errorf("put moving the line item to another link: %d", resp.StatusCode)
	}
	// The tool may advertise submission reviews (LTI Submission Review
	// Service); the platform keeps what it said.
	review := `"submissionReview":{"reviewableStatus":["Submitted"],"label":"Open","url":"https://tool.example/review","custom":{"a":"b"}}`
	resp, b = call(t, "PUT", u, tok, mtLineItem, `{"label":"Essay (final)","scoreMaximum":25,`+review+`}`)
	if resp.StatusCode != 200 || !strings.Contains(b, review) {
		t.Errorf("put with a submission review: %d %s", resp.StatusCode, b)
	}
	if got, _ := e.p.LineItem(li.ID); got.SubmissionReview == nil || got.SubmissionReview.URL != "https://tool.example/review" {
		t.Errorf("after put with a submission review: %+v", got.SubmissionReview)
	}
	if resp, _ := call(t, "PUT", u, tok, mtLineItem, `{"label":"x","scoreMaximum":1,"submissionReview":{"url":"javascript:alert(1)"}}`); resp.StatusCode != 400 {
		t.Errorf("put with a submission review URL that is not http(s): %d", resp.StatusCode)
	}
	// Another tool's token does not reach it.
	other := e.otherToolToken(t)
	if resp, _ := call(t, "GET", u, other, "", ""); resp.StatusCode != 404 {
		t.Errorf("another tool's GET: %d", resp.StatusCode)
	}
	if resp, _ := call(t, "GET", strings.Replace(u, "/c-101/", "/c-999/", 1), tok, "", ""); resp.StatusCode != 404 {
		t.Errorf("line item under another course: %d", resp.StatusCode)
	}
	if resp, _ := call(t, "DELETE", u, tok, "", ""); resp.StatusCode != 204 {
		t.Errorf("delete: %d", resp.StatusCode)
	}
	if resp, _ := call(t, "GET", u, tok, "", ""); resp.StatusCode != 404 {
		t.Errorf("get after delete: %d", resp.StatusCode)
	}
}

// otherToolToken registers a third tool with the same keys and gets it a token.
func (e *svcEnv) otherToolToken(t *testing.T) string {
	t.Helper()
	must(t, e.p.AddTool(ltiplatform.Tool{ClientID: "third", DeploymentID: "d3", LoginURL: "https://third.example/login",
		RedirectURIs: []string{"https://third.example/launch"}, JWKSURL: e.jwks.URL}))
	c := e.assertionClaims()
	c["iss"], c["sub"] = "third", "third"
	a := e.postToken(t, tokenForm(sign(t, jwa.RS256, svcKey, svcKID, c), ""))
	if a.status != 200 {
		t.Fatalf("third tool token: %d %v", a.status, a.body)
	}
	return a.body["access_token"].(string)
}

func TestScoreValidation(t *testing.T) {
	e := newSvcEnv(t)
	tok := e.token(t)
	li, err := e.p.AddLineItem(ltiplatform.LineItem{CourseID: "c-101", ClientID: svcClient, Label: "Essay", ScoreMaximum: 20})
	must(t, err)
	scores := e.p.LineItemURL(li) + "/scores"
	for body, want := range map[string]int{
		`{"userId":"u-ben","scoreGiven":15,"scoreMaximum":20,"activityProgress":"Completed","gradingProgress":"FullyGraded","timestamp":"2026-11-29T10:00:00.100+00"}`: 204,
		`{"userId":"u-ben","activityProgress":"Submitted","gradingProgress":"PendingManual","timestamp":"2026-11-29T10:00:01.000Z"}`:                                   204,
		`{"userId":"nobody","scoreGiven":1,"scoreMaximum":20,"activityProgress":"Completed","gradingProgress":"FullyGraded","timestamp":"2026-11-29T10:00:02.000Z"}`:   422,
		`{"scoreGiven":1,"scoreMaximum":20,"activityProgress":"Completed","gradingProgress":"FullyGraded","timestamp":"2026-11-29T10:00:02.000Z"}`:                     400,
		`{"userId":"u-ben","scoreGiven":1,"activityProgress":"Completed","gradingProgress":"FullyGraded","timestamp":"2026-11-29T10:00:02.000Z"}`:                      400,
		`{"userId":"u-ben","scoreGiven":-1,"scoreMaximum":20,"activityProgress":"Completed","gradingProgress":"FullyGraded","timestamp":"2026-11-29T10:00:02.000Z"}`:   400,
		`{"userId":"u-ben","scoreGiven":1,"scoreMaximum":20,"activityProgress":"Done","gradingProgress":"FullyGraded","timestamp":"2026-11-29T10:00:02.000Z"}`:         400,
		`{"userId":"u-ben","scoreGiven":1,"scoreMaximum":20,"activityProgress":"Completed","gradingProgress":"Graded","timestamp":"2026-11-29T10:00:02.000Z"}`:         400,
		`{"userId":"u-ben","scoreGiven":1,"scoreMaximum":20,"activityProgress":"Completed","gradingProgress":"FullyGraded","timestamp":"2026-11-29 10:00"}`:            400,
		`{"userId":"u-ben","scoreGiven":1,"scoreMaximum":20,"activityProgress":"Completed","gradingProgress":"FullyGraded"}`:                                           400,
		`{"userId":`: 400,
	} {
		if resp, b := call(t, "POST", scores, tok, mtScore, body); resp.StatusCode != want {
			t.Errorf("score %s: %d %s, want %d", body, resp.StatusCode, b, want)
		}
	}
	if resp, _ := call(t, "POST", scores, tok, "application/json", `{}`); resp.StatusCode != 415 {
		t.Errorf("score as plain JSON: %d, want 415", resp.StatusCode)
	}
	if resp, _ := call(t, "POST", scores, e.token(t, lti.AGSScopeLineItem), mtScore, `{}`); resp.StatusCode != 403 {
		t.Errorf("score without the score scope: %d", resp.StatusCode)
	}
	got, ok := e.p.LatestScore(li.ID, "u-ben")
	if !ok || got.ScoreGiven != nil || got.GradingProgress != "PendingManual" {
		t.Errorf("latest %+v %v", got, ok)
	}
	if n := len(e.p.Scores(li.ID)); n != 2 {
		t.Errorf("%d scores recorded, want 2", n)
	}

	// Results: scaled to the line item, filtered by user.
	_, err = e.p.AddLineItem(ltiplatform.LineItem{CourseID: "c-101", ClientID: svcClient, Label: "Quiz", ScoreMaximum: 100})
	must(t, err)
	quiz := e.p.LineItems("c-101")[1]
	call(t, "POST", e.p.LineItemURL(quiz)+"/scores", tok, mtScore,
		`{"userId":"u-cy","scoreGiven":3,"scoreMaximum":4,"activityProgress":"Completed","gradingProgress":"FullyGraded","timestamp":"2026-11-29T10:00:00.000Z"}`)
	resp, b := call(t, "GET", e.p.LineItemURL(quiz)+"/results?user_id=u-cy", tok, "", "")
	var results []map[string]any
	_ = json.Unmarshal([]byte(b), &results)
	if resp.StatusCode != 200 || len(results) != 1 || results[0]["resultScore"] != float64(75) || results[0]["resultMaximum"] != float64(100) ||
		results[0]["scoreOf"] != e.p.LineItemURL(quiz) {
		t.Errorf("results: %d %s", resp.StatusCode, b)
	}
}

func TestResourceLinkWithLineItem(t *testing.T) {
	e := newSvcEnv(t)
	link := ltiplatform.ResourceLink{ID: "rl-graded", CourseID: "c-101", ClientID: svcClient, Title: "Debate",
		LineItem: &ltiplatform.LineItemSpec{ScoreMaximum: 10, ResourceID: "debate-1", Tag: "participation"}}
	must(t, e.p.AddResourceLink(link))
	must(t, e.p.AddResourceLink(link)) // placed again: still one column
	li, ok := e.p.LinkLineItem("rl-graded")
	if !ok || li.Label != "Debate" || li.ScoreMaximum != 10 || li.ResourceID != "debate-1" || li.Tag != "participation" ||
		li.ClientID != svcClient || li.ResourceLinkID != "rl-graded" {
		t.Fatalf("line item %+v %v", li, ok)
	}
	if n := len(e.p.LineItems("c-101")); n != 1 {
		t.Errorf("%d line items, want 1", n)
	}
	c, err := e.p.LaunchClaims(ltiplatform.LaunchRequest{ClientID: svcClient, UserID: "u-ben", CourseID: "c-101", ResourceLinkID: "rl-graded"}, "n")
	must(t, err)
	ags, _ := c[lti.ClaimAGSEndpoint].(map[string]any)
	if ags["lineitem"] != e.p.LineItemURL(li) || ags["lineitems"] != e.p.LineItemsURL("c-101") {
		t.Errorf("AGS claim %v", ags)
	}
	nrps, _ := c[lti.ClaimNRPS].(map[string]any)
	if nrps["context_memberships_url"] != e.p.MembershipsURL("c-101") {
		t.Errorf("NRPS claim %v", nrps)
	}
	// A link without a line item has no lineitem in its claim.
	c, err = e.p.LaunchClaims(ltiplatform.LaunchRequest{ClientID: svcClient, UserID: "u-ben", CourseID: "c-101", ResourceLinkID: "rl-svc"}, "n")
	must(t, err)
	if ags, _ := c[lti.ClaimAGSEndpoint].(map[string]any); ags["lineitem"] != nil {
		t.Errorf("lineitem for a link without one: %v", ags)
	}
	for _, bad := range []ltiplatform.ResourceLink{
		{ID: "x1", Title: "No course", ClientID: svcClient, LineItem: &ltiplatform.LineItemSpec{ScoreMaximum: 1}},
		{ID: "x2", CourseID: "c-101", Title: "Zero", ClientID: svcClient, LineItem: &ltiplatform.LineItemSpec{}},
	} {
		if err := e.p.AddResourceLink(bad); err == nil {
			t.Errorf("link %s with a bad line item accepted", bad.ID)
		}
		if _, err := e.p.Link(bad.ID); err == nil {
			t.Errorf("refused link %s was stored", bad.ID)
		}
	}
}

func TestMembershipsService(t *testing.T) {
	e := newSvcEnv(t)
	tok := e.token(t, lti.NRPSScopeMembershipReadOnly)
	e.p.SetServicePageSize(2)
	e.p.SetMemberActive("c-101", "u-cy", false)
	var got []map[string]any
	next := e.p.MembershipsURL("c-101") + "?rlid=rl-svc"
	pages := 0
	for next != "" && pages < 5 {
		pages++
		resp, b := call(t, "GET", next, tok, "", "")
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/vnd.ims.lti-nrps.v2.membershipcontainer+json" {
			t.Fatalf("page %d: %d %q %s", pages, resp.StatusCode, resp.Header.Get("Content-Type"), b)
		}
		var c struct {
			Context map[string]any   `json:"context"`
			Members []map[string]any `json:"members"`
		}
		must(t, json.Unmarshal([]byte(b), &c))
		if c.Context["id"] != "c-101" {
			t.Errorf("context %v", c.Context)
		}
		got = append(got, c.Members...)
		next = ""
		if l := resp.Header.Get("Link"); l != "" {
			next = l[strings.Index(l, "<")+1 : strings.Index(l, ">")]
			if !strings.Contains(next, "rlid=rl-svc") {
				t.Errorf("next page %s lost rlid", next)
			}
		}
	}
	if pages != 2 || len(got) != 3 {
		t.Fatalf("%d pages, %d members", pages, len(got))
	}
	if got[0]["user_id"] != "u-ana" || got[0]["email"] != "ana@example.edu" || got[0]["status"] != "Active" ||
		got[2]["user_id"] != "u-cy" || got[2]["status"] != "Inactive" {
		t.Errorf("members %v", got)
	}
	if roles, _ := got[2]["roles"].([]any); roles == nil || len(roles) != 0 {
		t.Errorf("member without a role: roles %v, want []", got[2]["roles"])
	}
	resp, b := call(t, "GET", e.p.MembershipsURL("c-101")+"?role=Learner", tok, "", "")
	if resp.StatusCode != 200 || !strings.Contains(b, "u-ben") || strings.Contains(b, "u-ana") {
		t.Errorf("role filter: %d %s", resp.StatusCode, b)
	}
	if resp, _ := call(t, "GET", e.p.MembershipsURL("c-101")+"?rlid=rl-1", tok, "", ""); resp.StatusCode != 400 {
		t.Errorf("another tool's rlid: %d", resp.StatusCode)
	}
	if resp, _ := call(t, "GET", e.p.MembershipsURL("c-404"), tok, "", ""); resp.StatusCode != 404 {
		t.Errorf("unknown course: %d", resp.StatusCode)
	}
}

func TestServiceFaultsAndTheRequestLog(t *testing.T) {
	e := newSvcEnv(t)
	tok := e.token(t)
	items := e.p.LineItemsURL("c-101")
	e.p.FailServices(ltiplatform.Fault{Status: 429, Count: 2, RetryAfter: "3"})
	for i := range 2 {
		resp, _ := call(t, "GET", items, tok, "", "")
		if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "3" {
			t.Errorf("request %d: %d Retry-After %q", i, resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	}
	if resp, _ := call(t, "GET", items, tok, "", ""); resp.StatusCode != 200 {
		t.Errorf("after the fault: %d", resp.StatusCode)
	}
	e.p.FailServices(ltiplatform.Fault{Status: 500})
	for range 3 {
		if resp, _ := call(t, "GET", items, tok, "", ""); resp.StatusCode != 500 {
			t.Errorf("until cleared: %d", resp.StatusCode)
		}
	}
	e.p.ClearServiceFault()
	if resp, _ := call(t, "GET", items, tok, "", ""); resp.StatusCode != 200 {
		t.Errorf("cleared: %d", resp.StatusCode)
	}
	var statuses []int
	for _, r := range e.p.ServiceRequests() {
		statuses = append(statuses, r.Status)
		if r.ClientID != svcClient || r.Time.IsZero() {
			t.Errorf("log entry %+v", r)
		}
	}
	want := []int{200, 429, 429, 200, 500, 500, 500, 200}
	if len(statuses) != len(want) {
		t.Fatalf("statuses %v, want %v", statuses, want)
	}
	for i := range want {
		if statuses[i] != want[i] {
			t.Fatalf("statuses %v, want %v", statuses, want)
		}
	}
	if n := e.p.MaxConcurrentRequests(svcClient); n != 1 {
		t.Errorf("high-water %d for serial requests", n)
	}
}
