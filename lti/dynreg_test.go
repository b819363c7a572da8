package lti

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/roundtable-lms/roundtable/internal/egress"
)

// fakePlatform serves an OpenID configuration and a registration endpoint.
type fakePlatform struct {
	srv *httptest.Server
	// config edits the configuration before it is served.
	config func(cfg map[string]any)
	// rawConfig, when set, is served instead.
	rawConfig string
	// answer answers the registration; nil registers normally.
	answer func(w http.ResponseWriter, reg map[string]any)

	configAuth, registerAuth, userAgent string
	posted                              map[string]any
}

func newFakePlatform(t *testing.T) *fakePlatform {
	fp := &fakePlatform{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		fp.configAuth, fp.userAgent = r.Header.Get("Authorization"), r.Header.Get("User-Agent")
		if fp.rawConfig != "" {
			w.Write([]byte(fp.rawConfig))
			return
		}
		base := fp.srv.URL
		cfg := map[string]any{
			"issuer":                                base,
			"authorization_endpoint":                base + "/auth",
			"registration_endpoint":                 base + "/register",
			"jwks_uri":                              base + "/jwks",
			"token_endpoint":                        base + "/token",
			"scopes_supported":                      []string{"openid", AGSScopeScore, AGSScopeLineItem, NRPSScopeMembershipReadOnly},
			"id_token_signing_alg_values_supported": []string{"RS256"},
			ClaimPlatformConfiguration: map[string]any{
				"product_family_code": "canvas",
				"version":             "2024.1",
				"messages_supported": []any{
					map[string]any{"type": MessageResourceLink, "placements": []string{"course_navigation", "account_navigation"}},
					map[string]any{"type": MessageDeepLinking, "placements": []string{"link_selection"}},
				},
				"variables": []string{"$Canvas.course.sectionIds"},
			},
		}
		if fp.config != nil {
			fp.config(cfg)
		}
		json.NewEncoder(w).Encode(cfg)
	})
	mux.HandleFunc("POST /register", func(w http.ResponseWriter, r *http.Request) {
		fp.registerAuth = r.Header.Get("Authorization")
		fp.posted = map[string]any{}
		json.NewDecoder(r.Body).Decode(&fp.posted)
		if fp.answer != nil {
			fp.answer(w, fp.posted)
			return
		}
		out := map[string]any{}
		for k, v := range fp.posted {
			out[k] = v
		}
		out["client_id"] = "10000000000042"
		out["scope"] = AGSScopeScore
		json.NewEncoder(w).Encode(out)
	})
	fp.srv = httptest.NewServer(mux)
	t.Cleanup(fp.srv.Close)
	return fp
}

func (fp *fakePlatform) configURL() string { return fp.srv.URL + "/.well-known/openid-configuration" }

func testTool() ToolDescription {
	return ToolDescription{
		Name: "Tool", LoginURL: "https://tool.example/login", RedirectURIs: []string{"https://tool.example/launch"},
		TargetLinkURI: "https://tool.example/launch", JWKSURL: "https://tool.example/jwks",
		Scopes: []string{AGSScopeScore, AGSScopeResultReadOnly, NRPSScopeMembershipReadOnly},
		Claims: []string{"iss", "sub"},
		Custom: map[string]string{"sections": "$Canvas.course.sectionIds", "user": "$Unknown.var", "plain": "x"},
		Messages: []ToolMessage{
			{Type: MessageResourceLink, Placements: []string{"course_navigation", "ContentArea"}},
			{Type: MessageDeepLinking, Placements: []string{"assignment_selection"}},
		},
	}
}

func register(t *testing.T, fp *fakePlatform) (*PlatformConfiguration, *ClientRegistration, error) {
	t.Helper()
	ctx := context.Background()
	cfg, err := FetchPlatformConfiguration(ctx, http.DefaultClient, fp.configURL(), "tok-123")
	if err != nil {
		return nil, nil, err
	}
	answer, err := RegisterClient(ctx, http.DefaultClient, cfg.RegistrationEndpoint, "tok-123", cfg.ClientRegistration(testTool()))
	return cfg, answer, err
}

func wantReason(t *testing.T, err error, reason Reason, inMessage string) {
	t.Helper()
	var le *Error
	if !errors.As(err, &le) {
		t.Fatalf("error %v is not an *lti.Error", err)
	}
	if le.Reason != reason {
		t.Fatalf("reason %s, want %s (%v)", le.Reason, reason, err)
	}
	if !strings.Contains(le.Message, inMessage) {
		t.Fatalf("message %q does not contain %q", le.Message, inMessage)
	}
}

func TestDynamicRegistrationRoundTrip(t *testing.T) {
	fp := newFakePlatform(t)
	cfg, answer, err := register(t, fp)
	if err != nil {
		t.Fatal(err)
	}
	if fp.configAuth != "Bearer tok-123" || fp.registerAuth != "Bearer tok-123" {
		t.Errorf("token not sent as Bearer: %q %q", fp.configAuth, fp.registerAuth)
	}
	if fp.userAgent != UserAgent {
		t.Errorf("user agent %q", fp.userAgent)
	}
	if cfg.LTI.ProductFamilyCode != "canvas" || answer.ClientID != "10000000000042" {
		t.Errorf("config %+v answer %+v", cfg.LTI, answer)
	}
	if got := answer.AnnouncedScopes("ignored"); !slices.Equal(got, []string{AGSScopeScore}) {
		t.Errorf("announced %v", got)
	}
	// What was posted: the fixed OIDC fields, scopes the platform offers,
	// placements it lists, variables it knows.
	p := fp.posted
	for k, want := range map[string]any{"application_type": "web", "token_endpoint_auth_method": "private_key_jwt",
		"initiate_login_uri": "https://tool.example/login", "jwks_uri": "https://tool.example/jwks", "client_name": "Tool"} {
		if p[k] != want {
			t.Errorf("%s = %v, want %v", k, p[k], want)
		}
	}
	if got := p["scope"]; got != AGSScopeScore+" "+NRPSScopeMembershipReadOnly {
		t.Errorf("scope %q", got)
	}
	if got := p["grant_types"]; len(got.([]any)) != 2 {
		t.Errorf("grant_types %v", got)
	}
	tc := p[ClaimToolConfiguration].(map[string]any)
	if tc["domain"] != "tool.example" || tc["target_link_uri"] != "https://tool.example/launch" {
		t.Errorf("tool configuration %v", tc)
	}
	custom := tc["custom_parameters"].(map[string]any)
	if custom["sections"] != "$Canvas.course.sectionIds" || custom["plain"] != "x" || custom["user"] != nil {
		t.Errorf("custom parameters %v: want only known variables", custom)
	}
	msgs := tc["messages"].([]any)
	if len(msgs) != 2 {
		t.Fatalf("messages %v", msgs)
	}
	rl, dl := msgs[0].(map[string]any), msgs[1].(map[string]any)
	if pl := rl["placements"].([]any); len(pl) != 1 || pl[0] != "course_navigation" {
		t.Errorf("resource link placements %v", pl)
	}
	if _, ok := dl["placements"]; ok {
		t.Errorf("deep linking placements %v, want none of those the platform lacks", dl["placements"])
	}
}

func TestDynamicRegistrationReturnsDeployment(t *testing.T) {
	fp := newFakePlatform(t)
	fp.answer = func(w http.ResponseWriter, reg map[string]any) {
		reg["client_id"] = "abc"
		reg[ClaimToolConfiguration].(map[string]any)["deployment_id"] = "7"
		delete(reg, "scope")
		json.NewEncoder(w).Encode(reg)
	}
	_, answer, err := register(t, fp)
	if err != nil {
		t.Fatal(err)
	}
	if answer.DeploymentID() != "7" {
		t.Errorf("deployment %q", answer.DeploymentID())
	}
	if got := answer.AnnouncedScopes("a b"); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("no scope answered: announced %v, want the requested ones", got)
	}
}

func TestDynamicRegistrationConfigurationRejected(t *testing.T) {
	cases := []struct {
		name    string
		edit    func(cfg map[string]any)
		raw     string
		reason  Reason
		message string
	}{
		{"issuer other host", func(c map[string]any) { c["issuer"] = "https://lms.example.edu" }, "", ReasonIssuerMismatch, "does not match"},
		{"issuer other path", func(c map[string]any) { c["issuer"] = c["issuer"].(string) + "/other" }, "", ReasonIssuerMismatch, "does not match"},
		{"no issuer", func(c map[string]any) { delete(c, "issuer") }, "", ReasonRegistrationIncomplete, "issuer"},
		{"no registration endpoint", func(c map[string]any) { delete(c, "registration_endpoint") }, "", ReasonRegistrationIncomplete, "registration_endpoint"},
		{"relative jwks", func(c map[string]any) { c["jwks_uri"] = "/jwks" }, "", ReasonRegistrationIncomplete, "jwks_uri"},
		{"no lti claim", func(c map[string]any) { delete(c, ClaimPlatformConfiguration) }, "", ReasonRegistrationIncomplete, ClaimPlatformConfiguration},
		{"no RS256", func(c map[string]any) { c["id_token_signing_alg_values_supported"] = []string{"HS256"} }, "", ReasonRegistrationIncomplete, "RS256"},
		{"no scopes", func(c map[string]any) { delete(c, "scopes_supported") }, "", ReasonRegistrationIncomplete, "scopes_supported"},
		{"no resource link", func(c map[string]any) {
			c[ClaimPlatformConfiguration].(map[string]any)["messages_supported"] = []string{MessageDeepLinking}
		}, "", ReasonRegistrationIncomplete, MessageResourceLink},
		{"not JSON", nil, "<html>Sign in</html>", ReasonRegistrationMalformed, "not valid JSON"},
		{"registration elsewhere", func(c map[string]any) { c["registration_endpoint"] = "https://collector.example/register" }, "", ReasonRegistrationElsewhere, "another site"},
		{"registration on another port", func(c map[string]any) {
			// A valid port, but not the configuration's.
			u, _ := url.Parse(c["registration_endpoint"].(string))
			other := "65000"
			if u.Port() == other {
				other = "65001"
			}
			u.Host = u.Hostname() + ":" + other
			c["registration_endpoint"] = u.String()
		}, "", ReasonRegistrationElsewhere, "another site"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fp := newFakePlatform(t)
			fp.config, fp.rawConfig = tc.edit, tc.raw
			_, _, err := register(t, fp)
			wantReason(t, err, tc.reason, tc.message)
			if fp.posted != nil {
				t.Error("a registration was posted after a bad configuration")
			}
		})
	}
}

func TestDynamicRegistrationUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = FetchPlatformConfiguration(context.Background(), http.DefaultClient, "http://"+addr+"/.well-known/openid-configuration", "t")
	wantReason(t, err, ReasonRegistrationUnreachable, "could not reach")
	_, err = FetchPlatformConfiguration(context.Background(), http.DefaultClient, "ftp://example.com/x", "t")
	wantReason(t, err, ReasonRegistrationBadRequest, "openid_configuration")
}

func TestDynamicRegistrationRefused(t *testing.T) {
	cases := []struct {
		name   string
		status int
		body   string
		want   string
	}{
		{"canvas errorMessage", 401, `{"errorMessage":"JWT did not include expected contents"}`, "JWT did not include expected contents (HTTP 401)"},
		{"canvas list", 422, `{"errors":["Registration already used",{"field":"scope","message":"is not allowed"}]}`, "Registration already used; scope: is not allowed (HTTP 422)"},
		{"canvas map", 422, `{"errors":{"redirect_uris":[{"attribute":"redirect_uris","message":"is invalid"}]}}`, "redirect_uris: is invalid (HTTP 422)"},
		{"oauth", 400, `{"error":"invalid_redirect_uri","error_description":"redirect_uris must be https"}`, "invalid_redirect_uri: redirect_uris must be https (HTTP 400)"},
		{"oauth code only", 401, `{"error":"invalid_token"}`, "invalid_token (HTTP 401)"},
		{"text", 403, "Forbidden by policy", "Forbidden by policy (HTTP 403)"},
		{"html", 500, "<html><body>oops</body></html>", "HTTP 500 Internal Server Error"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fp := newFakePlatform(t)
			fp.answer = func(w http.ResponseWriter, _ map[string]any) {
				w.WriteHeader(tc.status)
				w.Write([]byte(tc.body))
			}
			_, _, err := register(t, fp)
			// The person sees Roundtable's words; the platform's reason
			// and body are kept for the admin console.
			wantReason(t, err, ReasonRegistrationRefused, fmt.Sprintf("Your LMS refused the registration (HTTP %d).", tc.status))
			le := err.(*Error)
			if strings.Contains(le.Message, tc.want) {
				t.Errorf("message %q repeats the platform's words", le.Message)
			}
			if le.Answer == nil || le.Answer.Status != tc.status || le.Answer.Said != tc.want || le.Answer.Body != tc.body {
				t.Errorf("answer %+v", le.Answer)
			}
		})
	}
	for name, body := range map[string]string{"not JSON": `{"client_id": "half`, "no client id": `{"scope": "x"}`} {
		t.Run(name, func(t *testing.T) {
			fp := newFakePlatform(t)
			fp.answer = func(w http.ResponseWriter, _ map[string]any) { w.Write([]byte(body)) }
			_, _, err := register(t, fp)
			wantReason(t, err, ReasonRegistrationMalformed, "")
		})
	}
}

func TestMessagesSupportedAsStrings(t *testing.T) {
	cfg, err := ParsePlatformConfiguration([]byte(`{"https://purl.imsglobal.org/spec/lti-platform-configuration":
		{"product_family_code":"moodle","messages_supported":["LtiResourceLinkRequest",{"type":"LtiDeepLinkingRequest"}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := cfg.LTI.Supports(MessageResourceLink); !ok {
		t.Error("string message type not understood")
	}
	if ok, _ := cfg.LTI.Supports(MessageDeepLinking); !ok {
		t.Error("object message type not understood")
	}
}

// FuzzRegistrationDocuments feeds arbitrary bytes to the parsers of what a
// platform sends during registration: none may panic, and a parsed
// registration always has a client id.
func FuzzRegistrationDocuments(f *testing.F) {
	f.Add([]byte(`{"issuer":"https://lms.example","authorization_endpoint":"https://lms.example/a","registration_endpoint":"https://lms.example/r","jwks_uri":"https://lms.example/j","token_endpoint":"https://lms.example/t","scopes_supported":["openid"],"id_token_signing_alg_values_supported":["RS256"],"https://purl.imsglobal.org/spec/lti-platform-configuration":{"product_family_code":"moodle","messages_supported":[{"type":"LtiResourceLinkRequest"}]}}`))
	f.Add([]byte(`{"client_id":"1","scope":"a b","https://purl.imsglobal.org/spec/lti-tool-configuration":{"deployment_id":"3","messages":[{"type":"x"}]}}`))
	f.Add([]byte(`{"errors":{"a":[{"attribute":"b","message":"c"}],"d":[1,null,true]}}`))
	f.Add([]byte(`{"error":"invalid_client_metadata","error_description":"x"}`))
	f.Add([]byte(`{"https://purl.imsglobal.org/spec/lti-platform-configuration":{"messages_supported":["a",{"type":1}]}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if cfg, err := ParsePlatformConfiguration(body); err == nil {
			_ = cfg.Validate("https://lms.example/.well-known/openid-configuration")
			_ = cfg.ClientRegistration(testTool())
		}
		if reg, err := ParseRegistrationResponse(body); err == nil {
			if strings.TrimSpace(reg.ClientID) == "" {
				t.Fatal("registration accepted without a client id")
			}
			_ = reg.DeploymentID()
			_ = reg.AnnouncedScopes("x")
		}
		if msg := platformMessage(422, body); msg == "" || len(msg) > 420 {
			t.Fatalf("platform message %q", msg)
		}
	})
}

func TestRegistrationEndpointOnTheConfigurationsOrigin(t *testing.T) {
	for _, tc := range []struct {
		config, endpoint string
		ok               bool
	}{
		{"https://moodle.example.edu/mod/lti/openid-configuration.php", "https://moodle.example.edu/mod/lti/openid-registration.php", true},
		{"https://moodle.example.edu/mod/lti/openid-configuration.php", "https://MOODLE.example.edu:443/register", true},
		{"https://moodle.example.edu/c", "http://moodle.example.edu/register", false},
		{"https://moodle.example.edu/c", "https://moodle.example.edu:8443/register", false},
		{"https://moodle.example.edu/c", "https://evil.example/register", false},
		{"https://school.instructure.com/api/lti/security/openid-configuration", "https://school.instructure.com/api/lti/registrations", true},
		{"https://school.instructure.com/api/lti/security/openid-configuration", "https://other.instructure.com/api/lti/registrations", false},
		// Canvas Cloud reads the configuration from its issuer host and
		// registers on the school's own host, vanity domains included.
		{"https://canvas.instructure.com/api/lti/security/openid-configuration?registration_token=x", "https://school.instructure.com/api/lti/registrations", true},
		{"https://canvas.beta.instructure.com/api/lti/security/openid-configuration", "https://canvas.school.edu/api/lti/registrations", true},
		{"https://canvas.instructure.com/api/lti/security/openid-configuration", "http://canvas.school.edu/api/lti/registrations", false},
		{"http://canvas.instructure.com/api/lti/security/openid-configuration", "https://canvas.school.edu/api/lti/registrations", false},
		{"https://canvas.instructure.com.evil.example/c", "https://evil.example/register", false},
	} {
		cu, _ := url.Parse(tc.config)
		if got := registrationEndpointAllowed(cu, tc.endpoint); got != tc.ok {
			t.Errorf("configuration %s, endpoint %s: %v, want %v", tc.config, tc.endpoint, got, tc.ok)
		}
	}
}

// A guarded client refuses a platform on loopback, and the registration
// says so in Roundtable's words.
func TestDynamicRegistrationOnAForbiddenAddress(t *testing.T) {
	fp := newFakePlatform(t)
	guarded := egress.NewClient(egress.Config{})
	_, err := FetchPlatformConfiguration(context.Background(), guarded, fp.configURL(), "tok")
	wantReason(t, err, ReasonRegistrationForbidden, "private or local networks")
	if fp.configAuth != "" {
		t.Fatal("the platform was reached")
	}
	cfg, err := FetchPlatformConfiguration(context.Background(), http.DefaultClient, fp.configURL(), "tok")
	if err != nil {
		t.Fatal(err)
	}
	_, err = RegisterClient(context.Background(), guarded, cfg.RegistrationEndpoint, "tok", cfg.ClientRegistration(testTool()))
	wantReason(t, err, ReasonRegistrationForbidden, "to complete the registration")
	if fp.posted != nil {
		t.Fatal("the registration was posted")
	}
}

// Canvas, as its own code answers (security_controller.rb and
// dynamic_registration_controller.rb): variables without "$", placements
// as URIs, scope = requested + openid, a top-level deployment_id, errors
// as {"errorMessage"}.
func TestCanvasRegistrationAnswers(t *testing.T) {
	fp := newFakePlatform(t)
	fp.config = func(c map[string]any) {
		c["authorization_server"] = "sso.canvaslms.com"
		c[ClaimPlatformConfiguration] = map[string]any{
			"product_family_code": "canvas", "version": "OpenSource",
			"messages_supported": []any{
				map[string]any{"type": MessageResourceLink, "placements": []string{
					"https://canvas.instructure.com/lti/account_navigation", "https://canvas.instructure.com/lti/course_navigation", "ContentArea"}},
				map[string]any{"type": MessageDeepLinking, "placements": []string{
					"https://canvas.instructure.com/lti/assignment_selection", "https://canvas.instructure.com/lti/editor_button",
					"https://canvas.instructure.com/lti/link_selection", "ContentArea", "RichTextEditor"}},
			},
			"variables": []string{"Canvas.course.id", "Canvas.course.sectionIds", "Person.name.full"},
		}
	}
	fp.answer = func(w http.ResponseWriter, reg map[string]any) {
		reg["client_id"] = "10000000000042"
		reg["scope"] = reg["scope"].(string) + " openid"
		reg["deployment_id"] = "9:8865aa05b4b79b64a91a86042e43af5ea8ae79eb"
		json.NewEncoder(w).Encode(reg)
	}
	tool := testTool()
	tool.Messages = []ToolMessage{
		{Type: MessageResourceLink, Placements: []string{"course_navigation"}},
		{Type: MessageDeepLinking, Placements: []string{"link_selection", "assignment_selection", "editor_button", "ContentArea", "RichTextEditor", "homework_submission"}},
	}
	ctx := context.Background()
	cfg, err := FetchPlatformConfiguration(ctx, http.DefaultClient, fp.configURL(), "tok")
	if err != nil {
		t.Fatal(err)
	}
	reg := cfg.ClientRegistration(tool)
	if got := reg.ToolConfiguration.CustomParameters["sections"]; got != "$Canvas.course.sectionIds" {
		t.Errorf("section ids custom parameter %q: Canvas lists its variables without the $", got)
	}
	if _, ok := reg.ToolConfiguration.CustomParameters["user"]; ok {
		t.Error("an unknown variable was kept")
	}
	msgs := reg.ToolConfiguration.Messages
	if !slices.Equal(msgs[0].Placements, []string{"https://canvas.instructure.com/lti/course_navigation"}) {
		t.Errorf("resource link placements %v", msgs[0].Placements)
	}
	if !slices.Equal(msgs[1].Placements, []string{"https://canvas.instructure.com/lti/link_selection", "https://canvas.instructure.com/lti/assignment_selection",
		"https://canvas.instructure.com/lti/editor_button", "ContentArea", "RichTextEditor"}) {
		t.Errorf("deep linking placements %v", msgs[1].Placements)
	}
	answer, err := RegisterClient(ctx, http.DefaultClient, cfg.RegistrationEndpoint, "tok", reg)
	if err != nil {
		t.Fatal(err)
	}
	if answer.DeploymentID() != "9:8865aa05b4b79b64a91a86042e43af5ea8ae79eb" {
		t.Errorf("deployment %q", answer.DeploymentID())
	}
	if got := answer.AnnouncedScopes(reg.Scope); slices.Contains(got, "openid") || !slices.Equal(got, strings.Fields(reg.Scope)) {
		t.Errorf("announced %v, want what was requested without openid", got)
	}
	if b, _ := json.Marshal(reg); strings.Contains(string(b), `"deployment_id"`) {
		t.Errorf("the registration sent carries a deployment id: %s", b)
	}

	fp.answer = func(w http.ResponseWriter, _ map[string]any) {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"errorMessage":"JWT did not include expected contents"}`)
	}
	_, err = RegisterClient(ctx, http.DefaultClient, cfg.RegistrationEndpoint, "tok", reg)
	wantReason(t, err, ReasonRegistrationRefused, "(HTTP 401)")
	if a := err.(*Error).Answer; a == nil || a.Said != "JWT did not include expected contents (HTTP 401)" {
		t.Errorf("answer %+v", a)
	}
}

func TestAnswerKeptAsText(t *testing.T) {
	a := newAnswer(500, "bad\x00 \xff", append([]byte("x\x00\xfe"), make([]byte, 3000)...))
	if strings.ContainsRune(a.Body, 0) || strings.ContainsRune(a.Said, 0) || !utf8.ValidString(a.Body) || !utf8.ValidString(a.Said) {
		t.Errorf("answer %q / %q", a.Said, a.Body[:10])
	}
	if len(a.Body) > maxAnswerBody+3 {
		t.Errorf("%d bytes kept", len(a.Body))
	}
}
