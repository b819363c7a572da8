package ltiplatform_test

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/roundtable-lms/roundtable/lti/ltiplatform"
)

// authRequest builds a correct authorization request for a fresh launch.
func (e *env) authRequest(t *testing.T, user string) url.Values {
	t.Helper()
	login, err := e.p.StartLaunch(e.launch(user, "rl-1"))
	must(t, err)
	u, _ := url.Parse(login)
	return url.Values{
		"scope": {"openid"}, "response_type": {"id_token"}, "response_mode": {"form_post"},
		"prompt": {"none"}, "client_id": {clientID}, "redirect_uri": {e.tool.URL("/lti/launch")},
		"login_hint": {user}, "lti_message_hint": {u.Query().Get("lti_message_hint")},
		"state": {"st-1"}, "nonce": {"n-1"},
	}
}

func TestAuthorizationRequestRejected(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(e *env, v url.Values)
		// code is the OIDC error posted back; empty means a 400 page
		// because the redirect URI cannot be trusted.
		code string
	}{
		{"unknown client", func(_ *env, v url.Values) { v.Set("client_id", "evil") }, ""},
		{"missing client", func(_ *env, v url.Values) { v.Del("client_id") }, ""},
		{"wrong redirect_uri", func(_ *env, v url.Values) { v.Set("redirect_uri", "https://evil.example/launch") }, ""},
		{"redirect_uri prefix", func(_ *env, v url.Values) { v.Set("redirect_uri", v.Get("redirect_uri")+"/x") }, ""},
		{"duplicate parameter", func(_ *env, v url.Values) { v.Add("nonce", "n-2") }, ""},
		{"scope without openid", func(_ *env, v url.Values) { v.Set("scope", "profile") }, "invalid_scope"},
		{"response_type code", func(_ *env, v url.Values) { v.Set("response_type", "code") }, "unsupported_response_type"},
		{"response_mode query", func(_ *env, v url.Values) { v.Set("response_mode", "query") }, "invalid_request"},
		{"prompt login", func(_ *env, v url.Values) { v.Set("prompt", "login") }, "invalid_request"},
		{"missing prompt", func(_ *env, v url.Values) { v.Del("prompt") }, "invalid_request"},
		{"missing nonce", func(_ *env, v url.Values) { v.Del("nonce") }, "invalid_request"},
		{"missing state", func(_ *env, v url.Values) { v.Del("state") }, "invalid_request"},
		{"missing login_hint", func(_ *env, v url.Values) { v.Del("login_hint") }, "login_required"},
		{"login_hint mismatch", func(_ *env, v url.Values) { v.Set("login_hint", "u-ben") }, "login_required"},
		{"missing lti_message_hint", func(_ *env, v url.Values) { v.Del("lti_message_hint") }, "invalid_request"},
		{"forged lti_message_hint", func(_ *env, v url.Values) { v.Set("lti_message_hint", "AAAA") }, "invalid_request"},
		{"expired lti_message_hint", func(e *env, _ url.Values) { e.clock.Add(11 * time.Minute) }, "invalid_request"},
		{"lti_message_hint of another client", func(e *env, v url.Values) {
			must(t, e.p.AddTool(ltiplatform.Tool{ClientID: "other", DeploymentID: "d", LoginURL: e.tool.URL("/lti/login"),
				RedirectURIs: []string{e.tool.URL("/lti/launch")}}))
			v.Set("client_id", "other")
		}, "invalid_request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			v := e.authRequest(t, "u-ana")
			tc.mutate(e, v)
			ar, err := ltiplatform.NewBrowser().Authorize(t.Context(), e.p.AuthURL()+"?"+v.Encode())
			if tc.code == "" {
				var pe *ltiplatform.PageError
				if !errors.As(err, &pe) || pe.StatusCode != http.StatusBadRequest {
					t.Fatalf("want a 400 page, got %v %+v", err, ar)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := ar.Fields.Get("error"); got != tc.code {
				t.Errorf("error = %q (%s), want %q", got, ar.Fields.Get("error_description"), tc.code)
			}
			if ar.Fields.Get("id_token") != "" || ar.Fields.Get("error_description") == "" {
				t.Errorf("fields %v", ar.Fields)
			}
			if ar.Fields.Get("state") != v.Get("state") || ar.Action != e.tool.URL("/lti/launch") {
				t.Errorf("error not posted back with state: %+v", ar)
			}
		})
	}
}

func TestAuthorizationHintIsSingleUse(t *testing.T) {
	e := newEnv(t)
	v := e.authRequest(t, "u-ana")
	b := ltiplatform.NewBrowser()
	first, err := b.Authorize(t.Context(), e.p.AuthURL()+"?"+v.Encode())
	must(t, err)
	if first.Fields.Get("id_token") == "" || first.Fields.Get("state") != "st-1" {
		t.Fatalf("first use: %v", first.Fields)
	}
	again, err := b.Authorize(t.Context(), e.p.AuthURL()+"?"+v.Encode())
	must(t, err)
	if again.Fields.Get("error") != "invalid_request" || again.Fields.Get("id_token") != "" {
		t.Fatalf("reused hint: %v", again.Fields)
	}
}

func TestAuthorizationByPost(t *testing.T) {
	e := newEnv(t)
	v := e.authRequest(t, "u-ana")
	res, err := ltiplatform.NewBrowser().PostForm(t.Context(), e.p.AuthURL(), v)
	must(t, err)
	ar, err := ltiplatform.ParseForm(res.Body, mustURL(t, res.URL))
	must(t, err)
	if ar.Fields.Get("id_token") == "" {
		t.Fatalf("fields %v", ar.Fields)
	}
	if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}
}

// The auto-post page submits by script and still offers a button in
// noscript for browsers without JavaScript.
func TestAutoPostPageWorksWithoutScript(t *testing.T) {
	e := newEnv(t)
	v := e.authRequest(t, "u-ana")
	res, err := ltiplatform.NewBrowser().Get(t.Context(), e.p.AuthURL()+"?"+v.Encode())
	must(t, err)
	doc := parseHTML(t, res.Body)
	form := doc.one(t, "form")
	if form.attr("method") != "post" || form.attr("action") != e.tool.URL("/lti/launch") {
		t.Errorf("form %v", form.Attr)
	}
	if btn := doc.one(t, "noscript button"); btn.attr("type") != "submit" {
		t.Errorf("noscript button %v", btn.Attr)
	}
	if !strings.Contains(doc.one(t, "script").text(), "submit()") {
		t.Error("no auto-submit script")
	}
	csp := res.Header.Get("Content-Security-Policy")
	nonce := doc.one(t, "script").attr("nonce")
	if nonce == "" || !strings.Contains(csp, "'nonce-"+nonce+"'") {
		t.Errorf("script nonce %q, CSP %q", nonce, csp)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	must(t, err)
	return u
}

// FuzzAuthRequest feeds arbitrary query strings to the authorization
// endpoint: it must answer 200 or 400, never fail or panic.
func FuzzAuthRequest(f *testing.F) {
	f.Add("scope=openid&response_type=id_token&response_mode=form_post&prompt=none&client_id=roundtable-client&redirect_uri=x&login_hint=u-ana&lti_message_hint=h&state=s&nonce=n")
	f.Add("client_id=roundtable-client&client_id=roundtable-client")
	f.Add("%zz&;;=&&")
	f.Add("")
	srv := newEnv(f)
	f.Fuzz(func(t *testing.T, query string) {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			req, err := http.NewRequest(method, srv.p.AuthURL()+"?"+query, strings.NewReader(query))
			if err != nil {
				return
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("%s %q: status %d", method, query, resp.StatusCode)
			}
		}
	})
}
