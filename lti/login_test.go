package lti

import (
	"net/url"
	"strings"
	"testing"
)

func loginParams() url.Values {
	return url.Values{
		"iss":                {testIssuer},
		"login_hint":         {"hint-42"},
		"target_link_uri":    {"https://tool.example.org/lti/launch"},
		"lti_message_hint":   {"message-hint"},
		"lti_deployment_id":  {"deployment-1"},
		"client_id":          {testClientID},
		"lti_storage_target": {"_parent"},
	}
}

func TestParseLoginRequest(t *testing.T) {
	req, err := ParseLoginRequest(loginParams())
	if err != nil {
		t.Fatal(err)
	}
	want := LoginRequest{
		Issuer:        testIssuer,
		LoginHint:     "hint-42",
		TargetLinkURI: "https://tool.example.org/lti/launch",
		MessageHint:   "message-hint",
		DeploymentID:  "deployment-1",
		ClientID:      testClientID,
		StorageTarget: "_parent",
	}
	if req != want {
		t.Errorf("request %+v, want %+v", req, want)
	}
}

func TestParseLoginRequestOptionalParams(t *testing.T) {
	v := loginParams()
	for _, k := range []string{"lti_message_hint", "lti_deployment_id", "client_id", "lti_storage_target"} {
		v.Del(k)
	}
	req, err := ParseLoginRequest(v)
	if err != nil {
		t.Fatalf("login without optional parameters: %v", err)
	}
	if req.MessageHint != "" || req.DeploymentID != "" || req.ClientID != "" || req.StorageTarget != "" {
		t.Errorf("optional parameters invented: %+v", req)
	}
}

func TestParseLoginRequestCanvasDeploymentID(t *testing.T) {
	v := loginParams()
	v.Del("lti_deployment_id")
	v.Set("deployment_id", "canvas-deployment")
	req, err := ParseLoginRequest(v)
	if err != nil {
		t.Fatal(err)
	}
	if req.DeploymentID != "canvas-deployment" {
		t.Errorf("deployment %q, want Canvas's deployment_id", req.DeploymentID)
	}
	v.Set("lti_deployment_id", "standard-deployment")
	if req, _ := ParseLoginRequest(v); req.DeploymentID != "standard-deployment" {
		t.Errorf("deployment %q, want lti_deployment_id to win", req.DeploymentID)
	}
}

func TestParseLoginRequestRejects(t *testing.T) {
	for _, tc := range []struct {
		name   string
		edit   func(v url.Values)
		want   Reason
		detail string
	}{
		{"IssuerMissing", func(v url.Values) { v.Del("iss") }, ReasonMalformedRequest, "iss"},
		{"LoginHintMissing", func(v url.Values) { v.Del("login_hint") }, ReasonMalformedRequest, "login_hint"},
		{"TargetLinkURIMissing", func(v url.Values) { v.Del("target_link_uri") }, ReasonMalformedRequest, "target_link_uri"},
		{"IssuerEmpty", func(v url.Values) { v.Set("iss", "") }, ReasonMalformedRequest, "iss"},
		{"AllRequiredMissing", func(v url.Values) {
			v.Del("iss")
			v.Del("login_hint")
			v.Del("target_link_uri")
		}, ReasonMalformedRequest, "iss, login_hint, target_link_uri"},
		{"RelativeTargetLinkURI", func(v url.Values) { v.Set("target_link_uri", "/lti/launch") }, ReasonBadTargetLinkURI, ""},
		{"SchemeRelativeTargetLinkURI", func(v url.Values) { v.Set("target_link_uri", "//tool.example.org/lti/launch") }, ReasonBadTargetLinkURI, ""},
		{"UnparsableTargetLinkURI", func(v url.Values) { v.Set("target_link_uri", "https://tool.example.org/%zz") }, ReasonBadTargetLinkURI, ""},
		{"TargetLinkURIWithControlCharacter", func(v url.Values) { v.Set("target_link_uri", "https://tool.example.org/\x7f") }, ReasonBadTargetLinkURI, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := loginParams()
			tc.edit(v)
			_, err := ParseLoginRequest(v)
			e := wantLoginError(t, err, tc.want)
			if !strings.Contains(e.Detail, tc.detail) {
				t.Errorf("detail %q does not name %q", e.Detail, tc.detail)
			}
		})
	}
}

func wantLoginError(t *testing.T, err error, reason Reason) *Error {
	t.Helper()
	e, ok := err.(*Error)
	if !ok {
		t.Fatalf("error %T %v, want *lti.Error %s", err, err, reason)
	}
	if e.Reason != reason || e.Message == "" {
		t.Fatalf("error %#v, want reason %s with a message", e, reason)
	}
	return e
}

func TestParseLoginRequestOverlongParams(t *testing.T) {
	for _, name := range []string{"iss", "login_hint", "target_link_uri", "lti_message_hint", "lti_deployment_id", "deployment_id", "client_id", "lti_storage_target"} {
		t.Run(name, func(t *testing.T) {
			long := func(n int) string {
				if name == "target_link_uri" {
					return "https://tool.example.org/" + strings.Repeat("a", n-len("https://tool.example.org/"))
				}
				return strings.Repeat("a", n)
			}
			v := loginParams()
			if name == "deployment_id" {
				v.Del("lti_deployment_id")
			}
			v.Set(name, long(maxParam))
			if _, err := ParseLoginRequest(v); err != nil {
				t.Fatalf("parameter of %d bytes rejected: %v", maxParam, err)
			}
			v.Set(name, long(maxParam+1))
			_, err := ParseLoginRequest(v)
			wantLoginError(t, err, ReasonMalformedRequest)
		})
	}
}

func TestAuthRequestURL(t *testing.T) {
	reg := Registration{ID: "reg-1", Issuer: testIssuer, ClientID: testClientID, AuthURL: testIssuer + "/api/lti/authorize_redirect"}
	req, err := ParseLoginRequest(loginParams())
	if err != nil {
		t.Fatal(err)
	}
	raw, err := AuthRequestURL(reg, req, "https://tool.example.org/lti/launch", "state-1", "nonce-1")
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if got := u.Scheme + "://" + u.Host + u.Path; got != reg.AuthURL {
		t.Errorf("redirects to %s, want %s", got, reg.AuthURL)
	}
	want := url.Values{
		"scope":            {"openid"},
		"response_type":    {"id_token"},
		"response_mode":    {"form_post"},
		"prompt":           {"none"},
		"client_id":        {testClientID},
		"redirect_uri":     {"https://tool.example.org/lti/launch"},
		"login_hint":       {"hint-42"},
		"lti_message_hint": {"message-hint"},
		"state":            {"state-1"},
		"nonce":            {"nonce-1"},
	}
	checkQuery(t, u.Query(), want)
}

func TestAuthRequestURLKeepsTheAuthURLsQuery(t *testing.T) {
	// Some platforms route tenants by a query parameter on the auth URL;
	// one that already carries OIDC parameters gets ours.
	reg := Registration{ID: "reg-1", ClientID: testClientID, AuthURL: "https://lms.example.edu/mod/lti/auth.php?tenant=north&prompt=login"}
	req := LoginRequest{Issuer: testIssuer, LoginHint: "hint & more", TargetLinkURI: "https://tool.example.org/lti/launch"}
	raw, err := AuthRequestURL(reg, req, "https://tool.example.org/lti/launch?x=1", "s", "n")
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if u.Path != "/mod/lti/auth.php" {
		t.Errorf("path %q", u.Path)
	}
	checkQuery(t, u.Query(), url.Values{
		"tenant":        {"north"},
		"scope":         {"openid"},
		"response_type": {"id_token"},
		"response_mode": {"form_post"},
		"prompt":        {"none"},
		"client_id":     {testClientID},
		"redirect_uri":  {"https://tool.example.org/lti/launch?x=1"},
		"login_hint":    {"hint & more"},
		"state":         {"s"},
		"nonce":         {"n"},
	})
}

func TestAuthRequestURLBadAuthURL(t *testing.T) {
	// A stored URL that never passed the check (issue 9's ";sandbox" host)
	// does not reach the Location header either.
	for _, bad := range []string{"https://[::1", "https://lms6.example;sandbox/auth", "http://lms.example.edu/auth"} {
		reg := Registration{ID: "reg-1", ClientID: testClientID, AuthURL: bad}
		_, err := AuthRequestURL(reg, LoginRequest{LoginHint: "h"}, "https://tool.example.org/lti/launch", "s", "n")
		e := wantLoginError(t, err, ReasonMalformedRequest)
		if e.Message != msgMisconfigured {
			t.Errorf("%s: message %q: a bad auth URL is our administrator's to fix", bad, e.Message)
		}
	}
}

func checkQuery(t *testing.T, got, want url.Values) {
	t.Helper()
	for k, w := range want {
		if g := got[k]; len(g) != 1 || g[0] != w[0] {
			t.Errorf("%s = %q, want %q", k, g, w[0])
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected parameter %s = %q", k, got[k])
		}
	}
}

// FuzzParseLoginRequest parses arbitrary query strings: an accepted login
// has the required parameters, an absolute target and bounded values.
func FuzzParseLoginRequest(f *testing.F) {
	f.Add(loginParams().Encode())
	f.Add("iss=a&login_hint=b&target_link_uri=https://t/")
	f.Add("iss=a&login_hint=b&target_link_uri=/relative")
	f.Add("iss=a&login_hint=b&target_link_uri=javascript:alert(1)")
	f.Add("iss=&iss=a&login_hint=b&target_link_uri=http:x")
	f.Add("iss=a;login_hint=b&target_link_uri=%zz")
	f.Add("deployment_id=1&iss=a&login_hint=b&target_link_uri=https://t/")
	f.Add("")
	f.Fuzz(func(t *testing.T, query string) {
		v, _ := url.ParseQuery(query)
		req, err := ParseLoginRequest(v)
		if err != nil {
			e, ok := err.(*Error)
			if !ok || (e.Reason != ReasonMalformedRequest && e.Reason != ReasonBadTargetLinkURI) || e.Message == "" {
				t.Fatalf("error %T %#v", err, err)
			}
			return
		}
		if req.Issuer == "" || req.LoginHint == "" || req.TargetLinkURI == "" {
			t.Fatalf("accepted without a required parameter: %+v", req)
		}
		if u, err := url.Parse(req.TargetLinkURI); err != nil || !u.IsAbs() {
			t.Fatalf("accepted target_link_uri %q", req.TargetLinkURI)
		}
		for _, s := range []string{req.Issuer, req.LoginHint, req.TargetLinkURI, req.MessageHint, req.DeploymentID, req.ClientID, req.StorageTarget} {
			if len(s) > maxParam {
				t.Fatalf("accepted a parameter of %d bytes", len(s))
			}
		}
		if req.Issuer != v.Get("iss") || req.LoginHint != v.Get("login_hint") {
			t.Fatalf("request %+v does not carry the parameters %v", req, v)
		}
		if d := v.Get("lti_deployment_id"); d != "" && req.DeploymentID != d || d == "" && req.DeploymentID != v.Get("deployment_id") {
			t.Fatalf("deployment %q from %v", req.DeploymentID, v)
		}
		// The answer to an accepted login is a URL on the platform's host
		// carrying the login's hints unchanged.
		reg := Registration{ID: "r", ClientID: "c", AuthURL: "https://lms.example.edu/auth?tenant=1"}
		raw, err := AuthRequestURL(reg, req, "https://tool.example.org/launch", "s", "n")
		if err != nil {
			t.Fatal(err)
		}
		u, err := url.Parse(raw)
		if err != nil || u.Host != "lms.example.edu" {
			t.Fatalf("auth URL %q", raw)
		}
		q := u.Query()
		if q.Get("login_hint") != req.LoginHint || q.Get("lti_message_hint") != req.MessageHint || q.Get("tenant") != "1" || q.Get("client_id") != "c" {
			t.Fatalf("auth URL %q lost parameters of %+v", raw, req)
		}
	})
}
