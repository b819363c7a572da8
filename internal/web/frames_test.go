package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/roundtable-lms/roundtable/internal/apptest"
	"github.com/roundtable-lms/roundtable/internal/config"
	"github.com/roundtable-lms/roundtable/internal/course"
	"github.com/roundtable-lms/roundtable/internal/session"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
	"github.com/roundtable-lms/roundtable/internal/tenant"
	"github.com/roundtable-lms/roundtable/internal/web"
	"github.com/roundtable-lms/roundtable/lti"
	"github.com/roundtable-lms/roundtable/lti/ltiplatform"
)

// frameAncestors returns the sources of the one frame-ancestors directive
// of a response's CSP, and fails on a sandbox directive (issue 9: a host
// "lms6.example;sandbox" pasted into the header sandboxed every page).
func frameAncestors(t *testing.T, h http.Header) []string {
	t.Helper()
	csp := h.Get("Content-Security-Policy")
	var sources []string
	n := 0
	for _, d := range strings.Split(csp, ";") {
		f := strings.Fields(d)
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "frame-ancestors":
			n++
			sources = f[1:]
		case "sandbox":
			t.Errorf("CSP has a sandbox directive: %q", csp)
		}
	}
	if n != 1 {
		t.Errorf("CSP %q has %d frame-ancestors directives, want 1", csp, n)
	}
	if strings.Contains(csp, "sandbox") {
		t.Errorf("CSP %q mentions sandbox", csp)
	}
	return sources
}

func mustOrigin(t *testing.T, raw string) string {
	t.Helper()
	o, err := lti.WebOrigin(raw)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// noRedirects is a client that shows each answer as it is.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func getPage(t *testing.T, rawURL string, cookies ...*http.Cookie) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/html")
	for _, c := range cookies {
		req.AddCookie(c)
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// otherPlatform starts a second LMS, on an origin of its own.
func otherPlatform(t *testing.T) *ltiplatform.Platform {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p, err := ltiplatform.New(ltiplatform.Config{Issuer: "http://" + ln.Addr().String(), Name: "Other LMS"})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: p.Handler()}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return p
}

// Two tenants: the pages of A's session may be framed by A's LMS, and not
// by B's, although B is registered and active (issue 9: every registered
// LMS could frame every tenant's pages). Pages of no session are framed by
// Roundtable alone.
func TestPagesAreFramedByTheirSessionsLMSOnly(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		ctx := context.Background()
		b := otherPlatform(t)
		if _, err := env.App.Registry.Add(ctx, tenant.Platform{Name: "Other LMS", Issuer: b.Issuer(), ClientID: "other-client",
			AuthURL: b.AuthURL(), JWKSURL: b.JWKSURL(), Deployments: []string{"d-1"}}); err != nil {
			t.Fatal(err)
		}
		a, other := mustOrigin(t, env.Platform.Issuer()), mustOrigin(t, b.Issuer())
		browser, res := env.Launch(t, apptest.Learner, nil)
		mustSeeActivity(t, res, "Alice Mbeki", "Learner")
		if fa := frameAncestors(t, res.Header); !slices.Contains(fa, a) || slices.Contains(fa, other) {
			t.Errorf("tenant A's page is framed by %v; want A's %s and not B's %s", fa, a, other)
		}
		u, _ := url.Parse(res.URL)
		thread, err := browser.Get(ctx, env.App.URL(u.Path+"/new?rt="+u.Query().Get("rt")))
		if err != nil || thread.StatusCode != http.StatusOK {
			t.Fatalf("new thread page: %v %d", err, thread.StatusCode)
		}
		if fa := frameAncestors(t, thread.Header); !slices.Equal(fa, []string{"'self'", a}) {
			t.Errorf("another page of A's session is framed by %v", fa)
		}
		for _, path := range []string{"/", "/a/no-such-link", "/lti/deep-link?dl=nothing"} {
			if fa := frameAncestors(t, getPage(t, env.App.URL(path)).Header); !slices.Equal(fa, []string{"'self'"}) {
				t.Errorf("%s, with no session, is framed by %v", path, fa)
			}
		}
	})
}

// loginPage starts a launch at the platform and returns the tool's answer
// to the login initiation.
func loginPage(t *testing.T, env *apptest.Env, req ltiplatform.LaunchRequest) *http.Response {
	t.Helper()
	if req.ClientID == "" {
		req.ClientID, req.UserID, req.CourseID, req.ResourceLinkID = apptest.ClientID, apptest.Learner, apptest.CourseID, apptest.LinkID
	}
	loginURL, err := env.Platform.StartLaunch(req)
	if err != nil {
		t.Fatal(err)
	}
	return getPage(t, loginURL)
}

// A refusal that names a platform is shown in that platform's frame,
// whatever its status (issue 11: a pending Moodle got "refused to
// connect" instead of "waiting for approval"). A refusal that names no
// registered platform is framed by Roundtable alone.
func TestRefusalsAreFramedByThePlatformTheyName(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		ctx := context.Background()
		lms := mustOrigin(t, env.Platform.Issuer())
		for _, status := range []string{tenant.StatusPending, tenant.StatusDisabled} {
			if err := env.App.Registry.SetStatus(ctx, env.Registered.ID, status); err != nil {
				t.Fatal(err)
			}
			resp := loginPage(t, env, ltiplatform.LaunchRequest{})
			if resp.StatusCode != http.StatusForbidden {
				t.Fatalf("%s platform's login: %d", status, resp.StatusCode)
			}
			if fa := frameAncestors(t, resp.Header); !slices.Equal(fa, []string{"'self'", lms}) {
				t.Errorf("the %s platform's refusal is framed by %v, want its LMS %s", status, fa, lms)
			}
		}
		if err := env.App.Registry.SetStatus(ctx, env.Registered.ID, tenant.StatusActive); err != nil {
			t.Fatal(err)
		}
		// An unknown deployment of a known platform.
		env.DB.Exec(`DELETE FROM deployments WHERE platform_id = ?`, env.Registered.ID)
		env.DB.Exec(`INSERT INTO deployments (platform_id, deployment_id, created_at) VALUES (?, 'another', CURRENT_TIMESTAMP)`, env.Registered.ID)
		resp := loginPage(t, env, ltiplatform.LaunchRequest{})
		if fa := frameAncestors(t, resp.Header); resp.StatusCode != http.StatusForbidden || !slices.Equal(fa, []string{"'self'", lms}) {
			t.Errorf("unknown deployment: %d, framed by %v", resp.StatusCode, fa)
		}
		// A platform nobody registered names nothing to frame by.
		q := url.Values{"iss": {"https://unknown.example"}, "login_hint": {"x"}, "target_link_uri": {env.App.URL("/lti/launch")}}
		resp = getPage(t, env.App.URL("/lti/login?"+q.Encode()))
		if fa := frameAncestors(t, resp.Header); resp.StatusCode != http.StatusForbidden || !slices.Equal(fa, []string{"'self'"}) {
			t.Errorf("unknown platform: %d, framed by %v", resp.StatusCode, fa)
		}
	})
}

// A bad value that reached the database (stored before the check existed)
// is left out of the header, never pasted into it.
func TestStoredBadOriginsNeverReachTheHeader(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		ctx := context.Background()
		lms := mustOrigin(t, env.Platform.Issuer())
		_, res := env.Launch(t, apptest.Learner, nil)
		mustSeeActivity(t, res, "Alice Mbeki", "Learner")
		var opened struct {
			OrgID, PlatformID, UserID, CourseID, ResourceLinkID, CohortID string
		}
		env.DB.Raw(`SELECT org_id, platform_id, user_id, course_id, resource_link_id, cohort_id FROM sessions`).Scan(&opened)
		page := func(origins []string) *http.Response {
			t.Helper()
			_, sess, err := env.App.Sessions.Create(ctx, env.DB.DB, session.Session{OrgID: opened.OrgID, PlatformID: opened.PlatformID, UserID: opened.UserID,
				CourseID: opened.CourseID, LinkID: opened.ResourceLinkID, CohortID: opened.CohortID, Roles: course.Roles{course.Learner},
				FrameOrigins: origins})
			if err != nil {
				t.Fatal(err)
			}
			resp := getPage(t, env.App.URL("/a/"+opened.ResourceLinkID+"?rt="+env.App.Sessions.Token(sess)))
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("page of a session framed by %v: %d", origins, resp.StatusCode)
			}
			return resp
		}
		fa := frameAncestors(t, page([]string{"https://lms6.example;sandbox", "https://lms7.example", "'unsafe-inline'", "https://a.example/x"}).Header)
		if !slices.Equal(fa, []string{"'self'", "https://lms7.example"}) {
			t.Errorf("frame-ancestors %v, want only the good stored origin", fa)
		}
		// A session from before sessions kept their origins takes its
		// platform's; a bad stored authorization URL is left out there too.
		env.DB.Exec(`UPDATE platforms SET auth_url = 'https://lms6.example;sandbox/auth' WHERE id = ?`, env.Registered.ID)
		if fa := frameAncestors(t, page(nil).Header); !slices.Equal(fa, []string{"'self'", lms}) {
			t.Errorf("a session without origins is framed by %v, want its platform's %s", fa, lms)
		}
		if err := env.App.Registry.SetStatus(ctx, env.Registered.ID, tenant.StatusPending); err != nil {
			t.Fatal(err)
		}
		if fa := frameAncestors(t, loginPage(t, env, ltiplatform.LaunchRequest{}).Header); !slices.Equal(fa, []string{"'self'", lms}) {
			t.Errorf("the refusal of a platform with a bad stored URL is framed by %v", fa)
		}
	})
}

// The registration page is framed by the origin of the configuration URL
// it was given (a Canvas school on its own domain frames it from there),
// checked as every LMS URL is.
func TestRegistrationPageIsFramedByTheConfigurationsOrigin(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		incomplete := fakeConfiguration(t, func(base string) string { return `{"issuer": "` + base + `"}` })
		reg := openRegistration(t, env, url.Values{"openid_configuration": {incomplete}, "registration_token": {"t"}})
		if fa := frameAncestors(t, reg.Header); !slices.Equal(fa, []string{"'self'", mustOrigin(t, incomplete)}) {
			t.Errorf("registration page framed by %v, want the configuration's origin", fa)
		}
		reg = openRegistration(t, env, url.Values{"openid_configuration": {"https://lms6.example;sandbox/.well-known/openid-configuration"}, "registration_token": {"t"}})
		if fa := frameAncestors(t, reg.Header); reg.Outcome != "failed" || !slices.Equal(fa, []string{"'self'"}) {
			t.Errorf("a configuration URL with a bad host: %q, framed by %v", reg.Outcome, fa)
		}
	})
}

// A configuration whose endpoints carry a bad host is refused before
// Roundtable registers with the LMS, and nothing is saved.
func TestDynamicRegistrationRefusesAnInjectedHost(t *testing.T) {
	eachDBOpen(t, func(t *testing.T, env *apptest.Env) {
		var posts atomic.Int32
		var srv *httptest.Server
		srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost {
				posts.Add(1)
				http.Error(w, "should not be called", http.StatusTeapot)
				return
			}
			var cfg map[string]any
			b, _ := json.Marshal(env.Platform.Configuration())
			json.Unmarshal(b, &cfg)
			cfg["issuer"] = srv.URL
			cfg["registration_endpoint"] = srv.URL + "/register"
			cfg["token_endpoint"] = srv.URL + "/token"
			cfg["jwks_uri"] = srv.URL + "/jwks"
			cfg["authorization_endpoint"] = "https://lms6.example;sandbox/auth"
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(cfg)
		}))
		t.Cleanup(srv.Close)
		reg := openRegistration(t, env, url.Values{"openid_configuration": {srv.URL + "/.well-known/openid-configuration"}, "registration_token": {"t"}})
		mustFail(t, env, reg, http.StatusBadGateway, "authorization_endpoint")
		if n := posts.Load(); n != 0 {
			t.Errorf("Roundtable registered with an LMS whose configuration it refused (%d posts)", n)
		}
	})
}

// The console refuses the host too, beside its field, and saves nothing.
func TestConsoleRefusesAnInjectedHost(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		c := newAdmin(t, env)
		c.get("/admin/platforms/new")
		res := c.post("/admin/platforms/new", url.Values{
			"name": {"Sixth LMS"}, "issuer": {"https://lms6.example"}, "client_id": {"client-6"},
			"auth_url": {"https://lms6.example;sandbox/auth"}, "jwks_url": {env.Platform.JWKSURL()}, "deployments": {"1"},
		})
		if res.StatusCode != http.StatusUnprocessableEntity || text(c.page, "#f-auth_url-error") == "" {
			t.Errorf("console: %d, error beside the field %q", res.StatusCode, text(c.page, "#f-auth_url-error"))
		}
		if n := env.Count(t, "platforms"); n != 1 {
			t.Errorf("%d platforms after a refused one", n)
		}
	})
}

// Signing out ends the session on the server: neither the cookie nor the
// link token opens the activity again.
func TestSignOutEndsTheSession(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		b, res := env.Launch(t, apptest.Learner, nil)
		d := mustSeeActivity(t, res, "Alice Mbeki", "Learner")
		u, _ := url.Parse(res.URL)
		token, activity := u.Query().Get("rt"), env.App.URL(u.Path)
		var cookie *http.Cookie
		for _, c := range b.Cookies(activity) {
			if c.Name == web.SessionCookieName(strings.TrimPrefix(u.Path, "/a/")) {
				cookie = c
			}
		}
		if cookie == nil || token == "" {
			t.Fatalf("launch gave cookie %v and token %q", cookie, token)
		}
		if d.Find("nav form[data-testid=sign-out-form] button[data-testid=sign-out]").Length() != 1 {
			t.Fatal("no Sign out control in the activity's header")
		}
		// The page's script can take a fresh token, and only with one.
		resp, err := http.Get(env.App.URL(u.Path + "/token?rt=" + token))
		if err != nil {
			t.Fatal(err)
		}
		var fresh struct{ Token string }
		json.NewDecoder(resp.Body).Decode(&fresh)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || fresh.Token == "" || resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("token refresh: %d %q", resp.StatusCode, fresh.Token)
		}
		if resp := getPage(t, env.App.URL(u.Path+"/token")); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("token refresh without a session: %d", resp.StatusCode)
		}

		out := submitForm(t, b, res, "form[data-testid=sign-out-form]", nil, "")
		if out.StatusCode != http.StatusOK || doc(t, out.Body).Find("[data-testid=signed-out]").Length() != 1 {
			t.Fatalf("sign out: %d\n%.500s", out.StatusCode, out.Body)
		}
		if fa := frameAncestors(t, out.Header); !slices.Contains(fa, mustOrigin(t, env.Platform.Issuer())) {
			t.Errorf("the signed-out page is not shown in the LMS frame: %v", fa)
		}
		if n := env.Count(t, "sessions"); n != 0 {
			t.Errorf("%d sessions after signing out", n)
		}
		for name, resp := range map[string]*http.Response{
			"cookie":      getPage(t, activity, cookie),
			"token":       getPage(t, activity+"?rt="+token),
			"fresh token": getPage(t, activity+"?rt="+fresh.Token),
		} {
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("after signing out, the %s opens the activity: %d", name, resp.StatusCode)
			}
		}
		if res, err := b.Get(context.Background(), activity); err != nil || res.StatusCode != http.StatusUnauthorized {
			t.Errorf("after signing out, the browser still opens the activity: %v %d", err, res.StatusCode)
		}
	})
}

// A page reached with the link token alone tells its script how to keep
// the token fresh; a page whose session the cookie carries, the first one
// after the launch included, has no token and tells its script to take it
// out of the address.
func TestTokenPagesCarryTheirRefresh(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		b, res := env.Launch(t, apptest.Learner, nil)
		u, _ := url.Parse(res.URL)
		if u.Query().Get("rt") == "" {
			t.Fatalf("the launch's redirect carries no token: %s", res.URL)
		}
		first := mustSeeActivity(t, res, "Alice Mbeki", "Learner").Find("body")
		if _, ok := first.Attr("data-rt"); ok {
			t.Error("the page after the launch, whose cookie came back, carries a token")
		}
		if _, ok := first.Attr("data-session-cookie"); !ok {
			t.Error("the page after the launch does not tell its script that the cookie carries its session")
		}
		cookieless, err := ltiplatform.NewBrowser().Get(context.Background(), res.URL)
		if err != nil {
			t.Fatal(err)
		}
		d := mustSeeActivity(t, cookieless, "Alice Mbeki", "Learner")
		body := d.Find("body")
		if body.AttrOr("data-rt", "") == "" || body.AttrOr("data-rt-refresh", "") != u.Path+"/token" || body.AttrOr("data-rt-every", "") == "" {
			t.Errorf("body of a page reached with a token alone: rt %q refresh %q every %q",
				body.AttrOr("data-rt", ""), body.AttrOr("data-rt-refresh", ""), body.AttrOr("data-rt-every", ""))
		}
		if _, ok := body.Attr("data-session-cookie"); ok {
			t.Error("a page with no cookie says the cookie carries its session")
		}
		if d.Find(`script[src^="/static/js/session.js"]`).Length() != 1 {
			t.Error("no session script")
		}
		plain, err := b.Get(context.Background(), env.App.URL(u.Path))
		if err != nil || plain.StatusCode != http.StatusOK {
			t.Fatalf("page by cookie: %v", err)
		}
		if _, ok := doc(t, plain.Body).Find("body").Attr("data-rt"); ok {
			t.Error("a page the cookie opened carries a token")
		}
		ended := getPage(t, env.App.URL(u.Path))
		if ended.StatusCode != http.StatusUnauthorized {
			t.Fatalf("no session: %d", ended.StatusCode)
		}
	})
}

// startHTTPS boots Roundtable with an https base URL, still served over
// plain HTTP on loopback as behind a proxy that ends TLS, and a browser
// that reaches it there.
func startHTTPS(t *testing.T, kind store.Dialect) (*apptest.Env, *ltiplatform.Browser) {
	t.Helper()
	env := apptest.StartWith(t, kind, func(c *config.Config) {
		c.BaseURL = &url.URL{Scheme: "https", Host: "tool.test"}
	})
	b := ltiplatform.NewBrowser()
	addr := env.App.Addr()
	b.HTTPClient().Transport = &http.Transport{DialTLSContext: func(ctx context.Context, network, a string) (net.Conn, error) {
		if a != "tool.test:443" {
			return nil, fmt.Errorf("no TLS to %s here", a)
		}
		// The proxy's side: TLS ends before Roundtable.
		return (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	}}
	return env, b
}

// Served over https, every answer carries HSTS and the session and browser
// cookies are __Host- cookies; over http (the demo) neither.
func TestHTTPSBaseURLSendsHSTSAndHostCookies(t *testing.T) {
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			env, b := startHTTPS(t, kind)
			ctx := context.Background()
			res, err := b.Launch(ctx, env.Platform, ltiplatform.LaunchRequest{ClientID: apptest.ClientID, UserID: apptest.Learner,
				CourseID: apptest.CourseID, ResourceLinkID: apptest.LinkID})
			if err != nil {
				t.Fatal(err)
			}
			mustSeeActivity(t, res, "Alice Mbeki", "Learner")
			if h := res.Header.Get("Strict-Transport-Security"); !strings.HasPrefix(h, "max-age=") || h == "max-age=0" {
				t.Errorf("HSTS %q", h)
			}
			names := map[string]*http.Cookie{}
			for _, c := range b.Cookies(env.App.URL("/")) {
				names[c.Name] = c
			}
			u, _ := url.Parse(res.URL)
			sessionCookie := web.SessionCookieName(strings.TrimPrefix(u.Path, "/a/"))
			for _, want := range []string{"__Host-" + sessionCookie, "__Host-rt_browser"} {
				if names[want] == nil {
					t.Errorf("no %s cookie; have %v", want, names)
				}
			}
			if names[sessionCookie] != nil || names["rt_browser"] != nil {
				t.Error("unprefixed cookies over https")
			}
			// The prefixed cookie carries the session.
			page, err := b.Get(ctx, env.App.URL(u.Path))
			if err != nil || page.StatusCode != http.StatusOK {
				t.Errorf("page by the __Host- cookie: %v", err)
			}
			// An unprefixed cookie, as a sibling host could set, opens nothing.
			req, _ := http.NewRequest(http.MethodGet, env.App.URL(u.Path), nil)
			req.AddCookie(&http.Cookie{Name: sessionCookie, Value: names["__Host-"+sessionCookie].Value})
			jarless := &http.Client{Transport: b.HTTPClient().Transport}
			resp, err := jarless.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("an unprefixed session cookie over https opens the activity: %d", resp.StatusCode)
			}
		})
	}
}

// Over http (the demo) neither HSTS nor __Host- cookies.
func TestHTTPBaseURLSendsNoHSTSNorHostCookies(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		b, res := env.Launch(t, apptest.Learner, nil)
		mustSeeActivity(t, res, "Alice Mbeki", "Learner")
		if h := res.Header.Get("Strict-Transport-Security"); h != "" {
			t.Errorf("HSTS %q over http", h)
		}
		for _, c := range b.Cookies(env.App.URL("/")) {
			if strings.HasPrefix(c.Name, "__Host-") {
				t.Errorf("cookie %s over http", c.Name)
			}
		}
	})
}
