package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/roundtable-lms/roundtable/internal/apptest"
	"github.com/roundtable-lms/roundtable/internal/config"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
	"github.com/roundtable-lms/roundtable/internal/tenant"
	"github.com/roundtable-lms/roundtable/lti"
	"github.com/roundtable-lms/roundtable/lti/ltiplatform"
)

// eachDBOpen is eachDB with the open registration policy.
func eachDBOpen(t *testing.T, fn func(t *testing.T, env *apptest.Env)) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			fn(t, apptest.StartWith(t, kind, func(c *config.Config) { c.Registration = config.RegistrationOpen }))
		})
	}
}

// registration is the tool's answer to a registration initiation.
type registration struct {
	Status  int
	Header  http.Header
	Doc     *goquery.Document
	Outcome string
	Message string
}

// openRegistration opens the tool's registration page as the platform's
// admin page would, with the given openid_configuration and token.
func openRegistration(t *testing.T, env *apptest.Env, query url.Values) registration {
	t.Helper()
	resp, err := http.Get(env.App.URL("/lti/register") + "?" + query.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	d := doc(t, string(body))
	outcome, _ := d.Find("[data-testid=register]").Attr("data-outcome")
	return registration{Status: resp.StatusCode, Header: resp.Header, Doc: d, Outcome: outcome,
		Message: text(d, "[data-testid=register-message]")}
}

// registerWithPlatform runs the registration the built-in platform starts.
func registerWithPlatform(t *testing.T, env *apptest.Env) registration {
	t.Helper()
	u, err := url.Parse(env.Platform.RegistrationURL(env.App.URL("/lti/register")))
	if err != nil {
		t.Fatal(err)
	}
	return openRegistration(t, env, u.Query())
}

// dynamicPlatform is the registration the dynamic registration saved.
func dynamicPlatform(t *testing.T, env *apptest.Env) tenant.Platform {
	t.Helper()
	ps, err := env.App.Registry.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if p.ClientID != apptest.ClientID {
			return p
		}
	}
	t.Fatal("no dynamic registration saved")
	return tenant.Platform{}
}

// launchLink launches user through the registration's course link.
func launchLink(t *testing.T, env *apptest.Env, clientID, user string) *ltiplatform.Result {
	t.Helper()
	b := ltiplatform.NewBrowser()
	res, err := b.Launch(context.Background(), env.Platform, ltiplatform.LaunchRequest{
		ClientID: clientID, UserID: user, CourseID: apptest.CourseID, ResourceLinkID: clientID + "-" + apptest.CourseID,
	})
	if pe, ok := err.(*ltiplatform.PageError); ok {
		return &ltiplatform.Result{StatusCode: pe.StatusCode, URL: pe.URL, Body: pe.Body}
	}
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestDynamicRegistrationThenLaunch(t *testing.T) {
	eachDBOpen(t, func(t *testing.T, env *apptest.Env) {
		reg := registerWithPlatform(t, env)
		if reg.Status != http.StatusOK || reg.Outcome != "registered" {
			t.Fatalf("registration: %d %q %q", reg.Status, reg.Outcome, reg.Message)
		}
		p := dynamicPlatform(t, env)
		if p.Status != tenant.StatusActive || p.RegisteredBy != tenant.RegisteredDynamically || p.Issuer != env.Platform.Issuer() ||
			p.LMSFamily != env.Platform.ProductFamilyCode() || p.ProductVersion == "" || len(p.Deployments) != 1 {
			t.Errorf("saved %+v", p)
		}
		for _, s := range []string{lti.AGSScopeScore, lti.AGSScopeLineItem, lti.NRPSScopeMembershipReadOnly} {
			if !strings.Contains(p.AnnouncedScopes, s) {
				t.Errorf("announced scopes %q lack %s", p.AnnouncedScopes, s)
			}
		}
		tool, err := env.Platform.Tool(p.ClientID)
		if err != nil || tool.DeploymentID != p.Deployments[0] {
			t.Fatalf("platform tool %+v %v", tool, err)
		}
		// The LMS was given the registration's own keyset, which holds one
		// key no other registration has.
		if tool.JWKSURL != env.App.Web.JWKSURL(p.ID) {
			t.Errorf("the LMS holds keyset URL %q, want the registration's %q", tool.JWKSURL, env.App.Web.JWKSURL(p.ID))
		}
		if kids := jwksKIDs(t, tool.JWKSURL); len(kids) != 1 || slices.Contains(jwksKIDs(t, env.App.Web.JWKSURL(env.Registered.ID)), kids[0]) {
			t.Errorf("the new registration's JWKS %v shares a key with the seeded registration's", kids)
		}
		if got := text(reg.Doc, "[data-testid=register-client-id]"); got != p.ClientID {
			t.Errorf("page shows client id %q", got)
		}
		// The page closes itself through a script of ours, and the LMS that
		// registers may frame it.
		if reg.Doc.Find(`script[src^="/static/js/register-close.js"]`).Length() != 1 {
			t.Error("no close script")
		}
		if v, _ := reg.Doc.Find("[data-lti-close]").Attr("data-lti-close-after"); v == "" {
			t.Error("the page does not close by itself")
		}
		if csp := reg.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'self' "+env.Platform.Issuer()) {
			t.Errorf("CSP %q does not let the platform frame the page", csp)
		}

		res := launchLink(t, env, p.ClientID, apptest.Learner)
		if res.StatusCode != http.StatusOK || !strings.Contains(res.URL, "/a/") {
			t.Fatalf("launch through the new registration: %d %s\n%.500s", res.StatusCode, res.URL, res.Body)
		}
		if got := text(doc(t, res.Body), "[data-testid=user-name]"); got != "Alice Mbeki" {
			t.Errorf("launched as %q", got)
		}
		if n := env.Count(t, "platforms"); n != 2 {
			t.Errorf("%d platforms", n)
		}
	})
}

func TestDynamicRegistrationAwaitsApproval(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		reg := registerWithPlatform(t, env)
		if reg.Status != http.StatusOK || reg.Outcome != "pending" || !strings.Contains(reg.Message, "approves") {
			t.Fatalf("registration: %d %q %q", reg.Status, reg.Outcome, reg.Message)
		}
		p := dynamicPlatform(t, env)
		if p.Status != tenant.StatusPending {
			t.Fatalf("status %q, want pending", p.Status)
		}
		res := launchLink(t, env, p.ClientID, apptest.Learner)
		if res.StatusCode != http.StatusForbidden || !strings.Contains(text(doc(t, res.Body), "main"), "waiting for the Roundtable administrator to approve") {
			t.Fatalf("launch before approval: %d\n%.600s", res.StatusCode, res.Body)
		}
		if err := env.App.Registry.SetStatus(context.Background(), p.ID, tenant.StatusActive); err != nil {
			t.Fatal(err)
		}
		if res := launchLink(t, env, p.ClientID, apptest.Learner); res.StatusCode != http.StatusOK {
			t.Fatalf("launch after approval: %d\n%.600s", res.StatusCode, res.Body)
		}
	})
}

// mustFail checks a failed registration: a clear page, and nothing saved.
func mustFail(t *testing.T, env *apptest.Env, reg registration, status int, inMessage string) {
	t.Helper()
	if reg.Status != status || reg.Outcome != "failed" {
		t.Fatalf("status %d outcome %q (%q), want %d failed", reg.Status, reg.Outcome, reg.Message, status)
	}
	if !strings.Contains(reg.Message, inMessage) {
		t.Errorf("message %q lacks %q", reg.Message, inMessage)
	}
	if text(reg.Doc, "[data-testid=error-ref]") == "" {
		t.Error("no reference on the page")
	}
	if n := env.Count(t, "platforms"); n != 1 {
		t.Errorf("%d platforms after a failed registration, want only the seeded one", n)
	}
	if n := env.Count(t, "deployments"); n != 1 {
		t.Errorf("%d deployments after a failed registration", n)
	}
	if n := env.Count(t, "registration_keys"); n != 1 {
		t.Errorf("%d registration keys after a failed registration, want only the seeded one's", n)
	}
}

func TestDynamicRegistrationTokens(t *testing.T) {
	eachDBOpen(t, func(t *testing.T, env *apptest.Env) {
		cfgURL := env.Platform.OpenIDConfigurationURL()
		reg := openRegistration(t, env, url.Values{"openid_configuration": {cfgURL}, "registration_token": {"made-up"}})
		mustFail(t, env, reg, http.StatusBadGateway, "Your LMS refused the registration (HTTP 401).")

		q, _ := url.Parse(env.Platform.RegistrationURL(env.App.URL("/lti/register")))
		if reg := openRegistration(t, env, q.Query()); reg.Outcome != "registered" {
			t.Fatalf("first use: %d %q", reg.Status, reg.Message)
		}
		reg = openRegistration(t, env, q.Query())
		if reg.Outcome != "failed" || !strings.Contains(reg.Message, "HTTP 401") {
			t.Errorf("reused token: %d %q %q", reg.Status, reg.Outcome, reg.Message)
		}
		if n := env.Count(t, "platforms"); n != 2 {
			t.Errorf("%d platforms, want the seeded one and one registration", n)
		}
	})
}

func TestDynamicRegistrationBadInput(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		for name, q := range map[string]url.Values{
			"nothing":        {},
			"no config":      {"registration_token": {"x"}},
			"not a URL":      {"openid_configuration": {"lms.example.edu/config"}, "registration_token": {"x"}},
			"javascript URL": {"openid_configuration": {"javascript:alert(1)"}},
		} {
			t.Run(name, func(t *testing.T) {
				mustFail(t, env, openRegistration(t, env, q), http.StatusBadRequest, "Start the registration from your LMS")
			})
		}
	})
}

// fakeConfiguration serves an OpenID configuration document as is.
func fakeConfiguration(t *testing.T, body func(base string) string) string {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, body(srv.URL))
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/.well-known/openid-configuration"
}

func TestDynamicRegistrationBadPlatform(t *testing.T) {
	eachDBOpen(t, func(t *testing.T, env *apptest.Env) {
		// A configuration copied from the real platform but served from
		// another origin: its issuer does not match.
		b, _ := json.Marshal(env.Platform.Configuration())
		mismatch := fakeConfiguration(t, func(string) string { return string(b) })
		mustFail(t, env, openRegistration(t, env, url.Values{"openid_configuration": {mismatch}, "registration_token": {"t"}}),
			http.StatusBadGateway, "does not match the address it was read from")

		malformed := fakeConfiguration(t, func(string) string { return `{"issuer": "oops` })
		mustFail(t, env, openRegistration(t, env, url.Values{"openid_configuration": {malformed}, "registration_token": {"t"}}),
			http.StatusBadGateway, "not valid JSON")

		incomplete := fakeConfiguration(t, func(base string) string { return `{"issuer": "` + base + `"}` })
		mustFail(t, env, openRegistration(t, env, url.Values{"openid_configuration": {incomplete}, "registration_token": {"t"}}),
			http.StatusBadGateway, "registration_endpoint")

		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		gone := "http://" + ln.Addr().String() + "/.well-known/openid-configuration"
		ln.Close()
		mustFail(t, env, openRegistration(t, env, url.Values{"openid_configuration": {gone}, "registration_token": {"t"}}),
			http.StatusBadGateway, "could not reach your LMS")
	})
}

func TestDynamicRegistrationRefusedByPlatform(t *testing.T) {
	eachDBOpen(t, func(t *testing.T, env *apptest.Env) {
		env.Platform.SetRegistrationMode(ltiplatform.RegistrationRefuse)
		reg := registerWithPlatform(t, env)
		mustFail(t, env, reg, http.StatusBadGateway, "Your LMS refused the registration (HTTP 422).")
		// The LMS's reason is for the administrator, in the console.
		const said = "Registration refused by the administrator of this LMS; scope: is not allowed (HTTP 422)"
		if strings.Contains(reg.Message, "administrator of this LMS") {
			t.Errorf("the page repeats the LMS's words: %q", reg.Message)
		}
		c := newAdmin(t, env)
		c.get("/admin/registrations")
		f := c.page.Find("[data-testid=registration-failure][data-reference='" + text(reg.Doc, "[data-testid=error-ref]") + "']")
		if f.Length() != 1 || text(goquery.NewDocumentFromNode(f.Nodes[0]), "[data-testid=failure-said]") != said {
			t.Errorf("console: %q", f.Text())
		}

		env.Platform.SetRegistrationMode(ltiplatform.RegistrationMalformed)
		mustFail(t, env, registerWithPlatform(t, env), http.StatusBadGateway, "not valid JSON")
	})
}

func TestFirstDeploymentOfDynamicRegistration(t *testing.T) {
	eachDBOpen(t, func(t *testing.T, env *apptest.Env) {
		env.Platform.SetRegistrationMode(ltiplatform.RegistrationNoDeployment)
		if reg := registerWithPlatform(t, env); reg.Outcome != "registered" ||
			text(reg.Doc, "[data-testid=register-deployment]") != "learned from the first launch" {
			t.Fatalf("registration: %d %q %q", reg.Status, reg.Outcome, text(reg.Doc, "[data-testid=register-deployment]"))
		}
		p := dynamicPlatform(t, env)
		if len(p.Deployments) != 0 {
			t.Fatalf("deployments %v before any launch", p.Deployments)
		}
		tool, _ := env.Platform.Tool(p.ClientID)
		if res := launchLink(t, env, p.ClientID, apptest.Learner); res.StatusCode != http.StatusOK {
			t.Fatalf("first launch: %d\n%.600s", res.StatusCode, res.Body)
		}
		if p = dynamicPlatform(t, env); len(p.Deployments) != 1 || p.Deployments[0] != tool.DeploymentID {
			t.Fatalf("deployments %v after the first launch, want [%s]", p.Deployments, tool.DeploymentID)
		}
		if res := launchLink(t, env, p.ClientID, apptest.Instructor); res.StatusCode != http.StatusOK {
			t.Fatalf("second launch, same deployment: %d", res.StatusCode)
		}
		// Another deployment is not taken on trust.
		tool.DeploymentID = "deployment-elsewhere"
		if err := env.Platform.AddTool(tool); err != nil {
			t.Fatal(err)
		}
		if res := launchLink(t, env, p.ClientID, apptest.Learner); res.StatusCode != http.StatusForbidden {
			t.Fatalf("unknown second deployment: %d, want 403", res.StatusCode)
		}
		if p = dynamicPlatform(t, env); len(p.Deployments) != 1 {
			t.Errorf("deployments %v", p.Deployments)
		}
		// A registration made by hand never learns deployments by launch.
		if ok, err := env.App.Registry.AcceptDeployment(context.Background(), env.Registered.ID, "sneaky"); ok || err != nil {
			t.Errorf("manual registration accepted a deployment: %v %v", ok, err)
		}
	})
}

func TestCanvasConfiguration(t *testing.T) {
	env := apptest.Start(t, storetest.Kinds[0])
	// The configuration is per registration: without one it explains where
	// to find the right URL, and names no key.
	for _, q := range []string{"", "?platform=", "?platform=..%2Fx"} {
		resp, err := http.Get(env.App.URL("/lti/config.json" + q))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "admin console") || strings.Contains(string(body), "jwk") {
			t.Errorf("config.json%s: %d %s", q, resp.StatusCode, body)
		}
	}
	resp, err := http.Get(env.App.URL("/lti/config.json?platform=" + env.Registered.ID))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var cfg struct {
		Title, Description string
		OIDCInitiationURL  string `json:"oidc_initiation_url"`
		TargetLinkURI      string `json:"target_link_uri"`
		PublicJWKURL       string `json:"public_jwk_url"`
		Scopes             []string
		CustomFields       map[string]string `json:"custom_fields"`
		Extensions         []struct {
			Platform     string
			PrivacyLevel string `json:"privacy_level"`
			Settings     struct {
				Placements []struct {
					Placement     string
					MessageType   string `json:"message_type"`
					TargetLinkURI string `json:"target_link_uri"`
				}
			}
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Title != "Roundtable" || cfg.OIDCInitiationURL != env.App.URL("/lti/login") || cfg.TargetLinkURI != env.App.URL("/lti/launch") ||
		cfg.PublicJWKURL != env.App.URL("/lti/platforms/"+env.Registered.ID+"/jwks.json") {
		t.Errorf("URLs %+v", cfg)
	}
	if len(cfg.Scopes) != 5 || cfg.CustomFields["section_ids"] != "$Canvas.course.sectionIds" {
		t.Errorf("scopes %v custom %v", cfg.Scopes, cfg.CustomFields)
	}
	if len(cfg.Extensions) != 1 || cfg.Extensions[0].Platform != "canvas.instructure.com" || cfg.Extensions[0].PrivacyLevel != "public" {
		t.Fatalf("extensions %+v", cfg.Extensions)
	}
	want := map[string]string{"course_navigation": lti.MessageResourceLink, "link_selection": lti.MessageDeepLinking, "assignment_selection": lti.MessageDeepLinking,
		"editor_button": lti.MessageDeepLinking}
	for _, p := range cfg.Extensions[0].Settings.Placements {
		if want[p.Placement] != p.MessageType {
			t.Errorf("placement %s with %s", p.Placement, p.MessageType)
		}
		delete(want, p.Placement)
	}
	if len(want) != 0 {
		t.Errorf("missing placements %v", want)
	}
}
