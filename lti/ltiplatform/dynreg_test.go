package ltiplatform_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/roundtable-lms/roundtable/lti"
	"github.com/roundtable-lms/roundtable/lti/ltiplatform"
)

// clientRegistration is what the fake tool registers.
func (e *env) clientRegistration() lti.ClientRegistration {
	cfg := e.p.Configuration()
	return cfg.ClientRegistration(lti.ToolDescription{
		Name: "Fake tool two", LoginURL: e.tool.URL("/lti/login"), RedirectURIs: []string{e.tool.URL("/lti/launch")},
		TargetLinkURI: e.tool.URL("/lti/launch"), JWKSURL: e.tool.URL("/lti/jwks"),
		Scopes:   []string{lti.AGSScopeScore, "https://example.com/scope/unknown"},
		Claims:   []string{"iss", "sub"},
		Messages: []lti.ToolMessage{{Type: lti.MessageResourceLink, Label: "Fake two", Placements: []string{"course_navigation"}}},
	})
}

// post sends a registration with a Bearer token and decodes the answer.
func (e *env) post(t *testing.T, token string, body any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	if s, ok := body.(string); ok {
		b = []byte(s)
	}
	req, _ := http.NewRequest(http.MethodPost, e.p.RegistrationEndpoint(), bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := map[string]any{}
	json.Unmarshal(raw, &out)
	out["raw"] = string(raw)
	return resp.StatusCode, out
}

func TestOpenIDConfigurationValidates(t *testing.T) {
	e := newEnv(t)
	cfg, err := lti.FetchPlatformConfiguration(context.Background(), http.DefaultClient, e.p.OpenIDConfigurationURL(), "")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.LTI.ProductFamilyCode != e.p.ProductFamilyCode() || cfg.RegistrationEndpoint != e.p.RegistrationEndpoint() {
		t.Errorf("configuration %+v", cfg)
	}
}

func TestRegistrationAddsToolAndPlacesIt(t *testing.T) {
	e := newEnv(t)
	status, out := e.post(t, e.p.NewRegistrationToken(), e.clientRegistration())
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, out["raw"])
	}
	answer, err := lti.ParseRegistrationResponse([]byte(out["raw"].(string)))
	if err != nil {
		t.Fatal(err)
	}
	if answer.DeploymentID() == "" || answer.Scope != lti.AGSScopeScore {
		t.Errorf("deployment %q scope %q: want a deployment and only the supported scope", answer.DeploymentID(), answer.Scope)
	}
	tool, err := e.p.Tool(answer.ClientID)
	if err != nil || tool.DeploymentID != answer.DeploymentID() || tool.LoginURL != e.tool.URL("/lti/login") {
		t.Fatalf("tool %+v %v", tool, err)
	}
	var placed *ltiplatform.ResourceLink
	for _, l := range e.p.Links("c-101") {
		if l.ClientID == answer.ClientID {
			placed = &l
		}
	}
	if placed == nil || placed.Title != "Fake two" {
		t.Fatalf("no link to the new tool in the course: %+v", e.p.Links("c-101"))
	}
	// The new tool launches like any other (the web tests launch a real
	// tool through a dynamic registration).
	loginURL, err := e.p.StartLaunch(ltiplatform.LaunchRequest{
		ClientID: answer.ClientID, UserID: "u-ana", CourseID: "c-101", ResourceLinkID: placed.ID})
	if err != nil {
		t.Fatal(err)
	}
	q := mustParse(t, loginURL).Query()
	if q.Get("client_id") != answer.ClientID || q.Get("lti_deployment_id") != answer.DeploymentID() {
		t.Errorf("login initiation %s", loginURL)
	}
}

func mustParse(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestRegistrationTokens(t *testing.T) {
	e := newEnv(t)
	reg := e.clientRegistration()
	if status, out := e.post(t, "", reg); status != http.StatusUnauthorized || out["error"] != "invalid_token" {
		t.Errorf("no token: %d %v", status, out["raw"])
	}
	if status, _ := e.post(t, "made-up", reg); status != http.StatusUnauthorized {
		t.Errorf("unknown token: %d", status)
	}
	tok := e.p.NewRegistrationToken()
	if status, _ := e.post(t, tok, reg); status != http.StatusOK {
		t.Fatalf("first use: %d", status)
	}
	if status, _ := e.post(t, tok, reg); status != http.StatusUnauthorized {
		t.Errorf("reused token: %d", status)
	}
	tok = e.p.NewRegistrationToken()
	e.clock.Add(61 * time.Minute)
	if status, _ := e.post(t, tok, reg); status != http.StatusUnauthorized {
		t.Errorf("expired token: %d", status)
	}
	if n := len(e.p.Tools()); n != 2 {
		t.Errorf("%d tools, want the seeded one and one registration", n)
	}
}

func TestRegistrationBodyChecked(t *testing.T) {
	e := newEnv(t)
	cases := map[string]struct {
		edit func(r *lti.ClientRegistration)
		code string
	}{
		"relative redirect": {func(r *lti.ClientRegistration) { r.RedirectURIs = []string{"/launch"} }, "invalid_redirect_uri"},
		"no redirect":       {func(r *lti.ClientRegistration) { r.RedirectURIs = nil }, "invalid_redirect_uri"},
		"no jwks":           {func(r *lti.ClientRegistration) { r.JWKSURI = "" }, "invalid_client_metadata"},
		"no tool claim":     {func(r *lti.ClientRegistration) { r.ToolConfiguration = nil }, "invalid_client_metadata"},
		"secret auth":       {func(r *lti.ClientRegistration) { r.TokenEndpointAuthMethod = "client_secret_basic" }, "invalid_client_metadata"},
		"native app":        {func(r *lti.ClientRegistration) { r.ApplicationType = "native" }, "invalid_client_metadata"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			reg := e.clientRegistration()
			tc.edit(&reg)
			status, out := e.post(t, e.p.NewRegistrationToken(), reg)
			if status != http.StatusBadRequest || out["error"] != tc.code || out["error_description"] == "" {
				t.Errorf("%d %v", status, out["raw"])
			}
		})
	}
	if status, out := e.post(t, e.p.NewRegistrationToken(), "{not json"); status != http.StatusBadRequest || out["error"] != "invalid_client_metadata" {
		t.Errorf("not JSON: %d %v", status, out["raw"])
	}
	if n := len(e.p.Tools()); n != 1 {
		t.Errorf("%d tools after refused registrations", n)
	}
}

func TestRegistrationModes(t *testing.T) {
	e := newEnv(t)
	e.p.SetRegistrationMode(ltiplatform.RegistrationRefuse)
	status, out := e.post(t, e.p.NewRegistrationToken(), e.clientRegistration())
	if status != http.StatusUnprocessableEntity || out["errors"] == nil {
		t.Errorf("refuse: %d %v", status, out["raw"])
	}
	e.p.SetRegistrationMode(ltiplatform.RegistrationMalformed)
	status, out = e.post(t, e.p.NewRegistrationToken(), e.clientRegistration())
	if _, err := lti.ParseRegistrationResponse([]byte(out["raw"].(string))); status != http.StatusOK || err == nil {
		t.Errorf("malformed: %d %v", status, out["raw"])
	}
	if n := len(e.p.Tools()); n != 1 {
		t.Errorf("%d tools after refused registrations", n)
	}
	e.p.SetRegistrationMode(ltiplatform.RegistrationNoDeployment)
	status, out = e.post(t, e.p.NewRegistrationToken(), e.clientRegistration())
	answer, err := lti.ParseRegistrationResponse([]byte(out["raw"].(string)))
	if status != http.StatusOK || err != nil || answer.DeploymentID() != "" {
		t.Errorf("no deployment: %d %v", status, out["raw"])
	}
}

func TestRegistrationURL(t *testing.T) {
	e := newEnv(t)
	u, err := url.Parse(e.p.RegistrationURL("https://tool.example/lti/register?x=1"))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if q.Get("openid_configuration") != e.p.OpenIDConfigurationURL() || q.Get("registration_token") == "" || q.Get("x") != "1" {
		t.Errorf("registration URL %s", u)
	}
}

func TestRegisterToolPage(t *testing.T) {
	e := newEnv(t)
	resp, err := http.PostForm(e.p.URL("/admin/tools/register"), url.Values{"url": {"https://tool.example/lti/register"}})
	if err != nil {
		t.Fatal(err)
	}
	d, err := goquery.NewDocumentFromReader(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %v", resp.StatusCode, err)
	}
	src, _ := d.Find("iframe#register-frame").Attr("src")
	if !strings.HasPrefix(src, "https://tool.example/lti/register?") || !strings.Contains(src, "registration_token=") {
		t.Errorf("frame src %q", src)
	}
	if origin, _ := d.Find("iframe#register-frame").Attr("data-origin"); origin != "https://tool.example" {
		t.Errorf("origin %q", origin)
	}
	if n := d.Find("table.tools tr.tool").Length(); n != 1 {
		t.Errorf("%d tools listed", n)
	}
	resp, err = http.PostForm(e.p.URL("/admin/tools/register"), url.Values{"url": {"not a url"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad URL: %d", resp.StatusCode)
	}
}
