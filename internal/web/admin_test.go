package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/roundtable-lms/roundtable/internal/admin"
	"github.com/roundtable-lms/roundtable/internal/apptest"
	"github.com/roundtable-lms/roundtable/internal/tenant"
	"github.com/roundtable-lms/roundtable/lti"
	"github.com/roundtable-lms/roundtable/lti/ltiplatform"
)

const (
	adminEmail    = "ops@example.edu"
	adminPassword = "correct horse battery staple"
)

// console is an admin's browser on the admin console.
type console struct {
	t   *testing.T
	env *apptest.Env
	b   *ltiplatform.Browser
	// page is the last page seen; its CSRF token signs the next post.
	page *goquery.Document
}

// newAdmin creates the admin account (with cheap hashing) and a browser
// signed in to the console.
func newAdmin(t *testing.T, env *apptest.Env) *console {
	t.Helper()
	env.App.Admins.Params = admin.Params{Memory: 1024, Time: 1, Threads: 1}
	if _, err := env.App.Admins.Create(context.Background(), adminEmail, adminPassword); err != nil {
		t.Fatal(err)
	}
	c := &console{t: t, env: env, b: ltiplatform.NewBrowser()}
	res := c.signIn(adminEmail, adminPassword)
	if res.StatusCode != 200 || !strings.HasSuffix(res.URL, "/admin/platforms") {
		t.Fatalf("sign in ended at %s with %d:\n%.600s", res.URL, res.StatusCode, res.Body)
	}
	if got := text(c.page, "[data-testid=admin-email]"); got != adminEmail {
		t.Fatalf("signed in as %q", got)
	}
	return c
}

func (c *console) url(path string) string { return c.env.App.URL(path) }

// get opens a console page and follows redirects.
func (c *console) get(path string) *ltiplatform.Result {
	c.t.Helper()
	res, err := c.b.Get(context.Background(), c.url(path))
	if err != nil {
		c.t.Fatal(err)
	}
	c.page = doc(c.t, res.Body)
	return res
}

// post submits a form with the CSRF token of the last page.
func (c *console) post(path string, fields url.Values) *ltiplatform.Result {
	c.t.Helper()
	if fields == nil {
		fields = url.Values{}
	}
	if _, ok := fields["csrf"]; !ok {
		tok, _ := c.page.Find("input[name=csrf]").First().Attr("value")
		fields.Set("csrf", tok)
	}
	res, err := c.b.PostForm(context.Background(), c.url(path), fields)
	if err != nil {
		c.t.Fatal(err)
	}
	c.page = doc(c.t, res.Body)
	return res
}

func (c *console) signIn(email, password string) *ltiplatform.Result {
	c.t.Helper()
	c.get("/admin/login")
	return c.post("/admin/login", url.Values{"email": {email}, "password": {password},
		"csrf": {attr(c.page, "form[action='/admin/login'] input[name=csrf]", "value")}})
}

func attr(d *goquery.Document, sel, name string) string {
	v, _ := d.Find(sel).First().Attr(name)
	return v
}

// rawClient sends requests without cookies and without following redirects.
var rawClient = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func send(t *testing.T, client *http.Client, method, u string, form url.Values) *http.Response {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept", "text/html")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// adminRoutes lists every console route but sign-in, with a real
// platform id and key id where the route needs one.
func adminRoutes(env *apptest.Env) (gets, posts []string) {
	id := env.Registered.ID
	gets = []string{"/admin", "/admin/", "/admin/platforms", "/admin/platforms/new", "/admin/platforms/" + id,
		"/admin/platforms/" + id + "/edit", "/admin/platforms/" + id + "/delete", "/admin/keys", "/admin/lms-setup", "/admin/registrations", "/admin/no-such-page"}
	posts = []string{"/admin/logout", "/admin/platforms/new", "/admin/platforms/" + id + "/edit", "/admin/platforms/" + id + "/deployments",
		"/admin/platforms/" + id + "/deployments/remove", "/admin/platforms/" + id + "/approve", "/admin/platforms/" + id + "/disable",
		"/admin/platforms/" + id + "/enable", "/admin/platforms/" + id + "/delete", "/admin/platforms/" + id + "/keys/rotate", "/admin/platforms/" + id + "/keys/retire"}
	return gets, posts
}

func mustBeRefused(t *testing.T, env *apptest.Env, client *http.Client, query string) {
	t.Helper()
	gets, posts := adminRoutes(env)
	for _, p := range gets {
		resp := send(t, client, http.MethodGet, env.App.URL(p+query), nil)
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/admin/login") {
			t.Errorf("GET %s: %d to %q, want 303 to /admin/login", p, resp.StatusCode, loc)
		}
	}
	for _, p := range posts {
		form := url.Values{"name": {"x"}, "deployment_id": {apptest.DeploymentID}, "kid": {"x"}}
		if resp := send(t, client, http.MethodPost, env.App.URL(p+query), form); resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST %s: %d, want 403", p, resp.StatusCode)
		}
	}
	// Nothing changed.
	p, err := env.App.Registry.Get(context.Background(), env.Registered.ID)
	if err != nil || p.Status != tenant.StatusActive || len(p.Deployments) != 1 {
		t.Errorf("the platform changed: %+v %v", p, err)
	}
	if n := env.Count(t, "registration_keys"); n != 1 {
		t.Errorf("%d registration keys, want 1", n)
	}
}

func TestAdminPagesNeedSignIn(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		mustBeRefused(t, env, rawClient, "")

		// The sign-in page itself is open, and says who it is for.
		resp := send(t, rawClient, http.MethodGet, env.App.URL("/admin/login"), nil)
		if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Errorf("sign-in page: %d, CSP %q", resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
		}
		// GET redirects keep where the admin wanted to go.
		resp = send(t, rawClient, http.MethodGet, env.App.URL("/admin/keys"), nil)
		if loc := resp.Header.Get("Location"); loc != "/admin/login?next=%2Fadmin%2Fkeys" {
			t.Errorf("redirect to %q", loc)
		}
	})
}

// A learner's LTI session, by cookie or by link token, is no admin session.
func TestLTISessionCannotReachAdmin(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		for _, who := range []string{apptest.Learner, apptest.Instructor} {
			b, res := env.Launch(t, who, nil)
			if res.StatusCode != 200 {
				t.Fatalf("launch: %d", res.StatusCode)
			}
			u, _ := url.Parse(res.URL)
			token := u.Query().Get("rt")
			if token == "" || len(b.Cookies(env.App.URL("/admin/platforms"))) == 0 {
				t.Fatal("the launch left no session token or cookie to try")
			}
			page, err := b.Get(context.Background(), env.App.URL("/admin/platforms?rt="+url.QueryEscape(token)))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(page.URL, "/admin/login") || doc(t, page.Body).Find("input[name=password]").Length() != 1 {
				t.Errorf("%s reached %s (%d)", who, page.URL, page.StatusCode)
			}
			// The same browser, cookies and all, cannot post either.
			mustBeRefused(t, env, b.HTTPClient(), "?rt="+url.QueryEscape(token))
		}
	})
}

func TestAdminCSRF(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		c := newAdmin(t, env)
		id := env.Registered.ID
		c.get("/admin/platforms/" + id)
		for _, tok := range []string{"", "forged-token", strings.Repeat("A", 43)} {
			for _, p := range []string{"/admin/platforms/" + id + "/disable", "/admin/platforms/" + id + "/keys/rotate", "/admin/platforms/" + id + "/delete", "/admin/logout"} {
				res := c.post(p, url.Values{"csrf": {tok}})
				if res.StatusCode != http.StatusForbidden {
					t.Errorf("POST %s with token %q: %d, want 403", p, tok, res.StatusCode)
				}
			}
		}
		p, err := env.App.Registry.Get(context.Background(), id)
		if err != nil || p.Status != tenant.StatusActive {
			t.Errorf("the platform changed: %+v %v", p, err)
		}
		if n := env.Count(t, "registration_keys"); n != 1 {
			t.Errorf("%d keys after forged rotations", n)
		}
		// Still signed in; the real token works.
		c.get("/admin/platforms/" + id)
		if res := c.post("/admin/platforms/"+id+"/disable", nil); res.StatusCode != 200 || text(c.page, "[data-testid=status]") != "Disabled" {
			t.Errorf("disable with the token: %d %q", res.StatusCode, text(c.page, "[data-testid=status]"))
		}

		// The sign-in form needs its own token, matching its cookie.
		other := ltiplatform.NewBrowser()
		res, err := other.PostForm(context.Background(), env.App.URL("/admin/login"), url.Values{"email": {adminEmail}, "password": {adminPassword}})
		if err != nil || res.StatusCode != http.StatusForbidden {
			t.Errorf("sign-in without the form's token: %v %d", err, res.StatusCode)
		}
	})
}

func TestAdminSignInWaitAndSignOut(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		clk := &fakeClock{}
		clk.set(time.Now())
		env.App.Admins.Now = clk.now
		c := newAdmin(t, env)
		c.post("/admin/logout", nil)
		if res := c.get("/admin/platforms"); !strings.Contains(res.URL, "/admin/login") {
			t.Fatalf("after sign out: %s", res.URL)
		}

		res := c.signIn("nobody@example.edu", adminPassword)
		if res.StatusCode != http.StatusUnauthorized || !strings.Contains(text(c.page, "[data-testid=login-error]"), "do not match") {
			t.Errorf("unknown email: %d %q", res.StatusCode, text(c.page, "[data-testid=login-error]"))
		}
		if v := attr(c.page, "input[name=email]", "value"); v != "nobody@example.edu" {
			t.Errorf("the email was not kept: %q", v)
		}
		if attr(c.page, "#f-email", "aria-describedby") != "login-error" {
			t.Error("the email field is not described by the error")
		}
		for i := 1; i <= 5; i++ {
			if res := c.signIn(adminEmail, "wrong password number"); res.StatusCode != http.StatusUnauthorized {
				t.Fatalf("failure %d: %d", i, res.StatusCode)
			}
		}
		if msg := text(c.page, "[data-testid=login-error]"); !strings.Contains(msg, "after 5 failed attempts, each further attempt must wait, from 30 seconds up to 15 minutes") {
			t.Errorf("the refusal does not say what comes next: %q", msg)
		}
		// The sixth attempt must wait, even with the right password; the
		// page says how long, and so does Retry-After.
		res = c.signIn(adminEmail, adminPassword)
		msg := text(c.page, "[data-testid=login-error]")
		if res.StatusCode != http.StatusTooManyRequests || !strings.Contains(msg, "Wait 30 seconds") || text(c.page, "#login-error h2") != "Wait before trying again" {
			t.Errorf("right password during the wait: %d %q", res.StatusCode, msg)
		}
		if ra := res.Header.Get("Retry-After"); ra != "30" {
			t.Errorf("Retry-After %q during a 30-second wait", ra)
		}
		if res := c.get("/admin/platforms"); !strings.Contains(res.URL, "/admin/login") {
			t.Errorf("a sign-in during the wait opened the console: %s", res.URL)
		}
	})
}

// jwksServer answers with a fixed status and body.
func jwksServer(t *testing.T, status int, body string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/jwks"
}

func TestAdminAddPlatformByHand(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		c := newAdmin(t, env)
		c.get("/admin/platforms/new")
		form := url.Values{
			"name": {"Second LMS"}, "issuer": {"https://lms2.example.edu"}, "client_id": {"client-2"},
			"auth_url": {"https://lms2.example.edu/auth"}, "token_url": {"https://lms2.example.edu/token"},
			"deployments": {"d-1\r\nd-2\r\n\r\nd-1"},
		}
		// The form chooses the registration's id, and shows its own keyset
		// URL, before it is saved: the LMS needs it first.
		var formID, shownJWKS string
		try := func(jwks string) *ltiplatform.Result {
			f := url.Values{}
			for k, v := range form {
				f[k] = v
			}
			f.Set("jwks_url", jwks)
			c.get("/admin/platforms/new")
			formID, shownJWKS = attr(c.page, "input[name=id]", "value"), text(c.page, "[data-testid=registration-jwks-url]")
			if formID == "" || shownJWKS != env.App.URL("/lti/platforms/"+formID+"/jwks.json") {
				t.Fatalf("the form shows keyset URL %q for id %q", shownJWKS, formID)
			}
			f.Set("id", formID)
			res := c.post("/admin/platforms/new", f)
			if res.StatusCode != http.StatusOK && attr(c.page, "input[name=id]", "value") != formID {
				t.Errorf("the form came back with another id: %q, posted %q", attr(c.page, "input[name=id]", "value"), formID)
			}
			return res
		}
		for name, jwks := range map[string]string{
			"404":          env.Platform.URL("/no-such-keys"),
			"not JSON":     jwksServer(t, 200, "<html>hello</html>"),
			"no keys":      jwksServer(t, 200, `{"keys":[]}`),
			"unreachable":  "http://127.0.0.1:1/jwks",
			"not https":    "http://lms2.example.edu/jwks",
			"not absolute": "lms2.example.edu/jwks",
		} {
			res := try(jwks)
			if res.StatusCode != http.StatusUnprocessableEntity {
				t.Errorf("%s: %d", name, res.StatusCode)
			}
			if msg := text(c.page, "#f-jwks_url-error"); msg == "" {
				t.Errorf("%s: no error beside the JWKS field", name)
			}
			if c.page.Find("[data-testid=error-summary] a[href='#f-jwks_url']").Length() != 1 {
				t.Errorf("%s: the error summary does not link to the field", name)
			}
			in := c.page.Find("#f-jwks_url")
			if v, _ := in.Attr("aria-invalid"); v != "true" {
				t.Errorf("%s: field not marked invalid", name)
			}
			if d, _ := in.Attr("aria-describedby"); !strings.Contains(d, "f-jwks_url-error") {
				t.Errorf("%s: field not described by its error (%q)", name, d)
			}
			if _, ok := in.Attr("autofocus"); !ok {
				t.Errorf("%s: the first field in error does not take focus", name)
			}
			if attr(c.page, "#f-name", "value") != "Second LMS" || attr(c.page, "#f-jwks_url", "value") != jwks {
				t.Errorf("%s: the fields were not kept", name)
			}
			if n := env.Count(t, "platforms"); n != 1 {
				t.Fatalf("%s: %d platforms stored", name, n)
			}
		}

		// Required fields, each with its own error.
		c.get("/admin/platforms/new")
		res := c.post("/admin/platforms/new", url.Values{"name": {""}})
		if res.StatusCode != http.StatusUnprocessableEntity || c.page.Find(".field-error").Length() != 6 {
			t.Errorf("empty form: %d with %d field errors", res.StatusCode, c.page.Find(".field-error").Length())
		}
		if _, ok := c.page.Find("#f-name").Attr("autofocus"); !ok {
			t.Error("the first field in error is not focused")
		}

		// The same issuer and client id as a registered platform.
		form.Set("issuer", env.Platform.Issuer())
		form.Set("client_id", apptest.ClientID)
		if res := try(env.Platform.JWKSURL()); res.StatusCode != http.StatusConflict || !strings.Contains(text(c.page, "#f-client_id-error"), "already holds client ID") {
			t.Errorf("conflict: %d %q", res.StatusCode, text(c.page, "#f-client_id-error"))
		}

		form.Set("issuer", "https://lms2.example.edu")
		form.Set("client_id", "client-2")
		res = try(env.Platform.JWKSURL())
		if res.StatusCode != 200 || !strings.Contains(res.URL, "/admin/platforms/") || text(c.page, "[data-testid=flash]") != "Platform added." {
			t.Fatalf("save: %d at %s\n%.500s", res.StatusCode, res.URL, res.Body)
		}
		if text(c.page, "h1") != "Second LMS" || text(c.page, "[data-testid=status]") != "Active" {
			t.Errorf("detail page: %q %q", text(c.page, "h1"), text(c.page, "[data-testid=status]"))
		}
		var deps []string
		c.page.Find("[data-testid=deployments] .mono").Each(func(_ int, s *goquery.Selection) { deps = append(deps, s.Text()) })
		if strings.Join(deps, ",") != "d-1,d-2" {
			t.Errorf("deployments %v", deps)
		}

		// Edit: the same form, filled in.
		id := res.URL[strings.LastIndex(res.URL, "/")+1:]
		id = strings.SplitN(id, "?", 2)[0]
		// Saved under the id whose keyset URL the form showed, which now
		// publishes the registration's key.
		if id != formID || text(c.page, "[data-testid=registration-jwks-url]") != shownJWKS {
			t.Errorf("saved as %s showing %q; the form showed %q for %s", id, text(c.page, "[data-testid=registration-jwks-url]"), shownJWKS, formID)
		}
		if set, err := lti.FetchKeySet(context.Background(), http.DefaultClient, shownJWKS); err != nil || set.Len() != 1 {
			t.Errorf("the new registration's JWKS: %v", err)
		}
		// The same form sent again (its id is saved now) adds nothing.
		again := url.Values{"id": {formID}, "jwks_url": {env.Platform.JWKSURL()}}
		for k, v := range form {
			again[k] = v
		}
		again.Set("client_id", "client-3")
		if res := c.post("/admin/platforms/new", again); res.StatusCode != http.StatusConflict || !strings.Contains(text(c.page, "#f-name-error"), "already saved") {
			t.Errorf("the form sent twice: %d %q", res.StatusCode, text(c.page, "#f-name-error"))
		}
		c.get("/admin/platforms/" + id)
		c.get("/admin/platforms/" + id + "/edit")
		if attr(c.page, "#f-client_id", "value") != "client-2" || !strings.Contains(c.page.Find("#f-deployments").Text(), "d-2") {
			t.Errorf("edit form not filled in")
		}
		f := url.Values{}
		c.page.Find("form.admin-form input, form.admin-form textarea").Each(func(_ int, s *goquery.Selection) {
			n, _ := s.Attr("name")
			v, _ := s.Attr("value")
			if goquery.NodeName(s) == "textarea" {
				v = s.Text()
			}
			f.Set(n, v)
		})
		f.Set("name", "Second LMS (renamed)")
		f.Set("deployments", "d-2\nd-3")
		if res := c.post("/admin/platforms/"+id+"/edit", f); res.StatusCode != 200 || text(c.page, "h1") != "Second LMS (renamed)" {
			t.Fatalf("edit: %d %q %q %v", res.StatusCode, text(c.page, "h1"), text(c.page, "[data-testid=error-summary]"), f)
		}
		p, _ := env.App.Registry.Get(context.Background(), id)
		if strings.Join(p.Deployments, ",") != "d-2,d-3" {
			t.Errorf("deployments after edit: %v", p.Deployments)
		}

		// Deployments one by one.
		if res := c.post("/admin/platforms/"+id+"/deployments", url.Values{"deployment_id": {" d-4 "}}); res.StatusCode != 200 {
			t.Fatalf("add deployment: %d", res.StatusCode)
		}
		if res := c.post("/admin/platforms/"+id+"/deployments", url.Values{"deployment_id": {"d-4"}}); res.StatusCode != http.StatusUnprocessableEntity ||
			!strings.Contains(text(c.page, "#f-deployment_id-error"), "already") {
			t.Errorf("duplicate deployment: %d", res.StatusCode)
		}
		c.get("/admin/platforms/" + id)
		c.post("/admin/platforms/"+id+"/deployments/remove", url.Values{"deployment_id": {"d-2"}})
		p, _ = env.App.Registry.Get(context.Background(), id)
		if strings.Join(p.Deployments, ",") != "d-3,d-4" {
			t.Errorf("deployments: %v", p.Deployments)
		}

		// The list shows both, with their health.
		ctx := context.Background()
		if err := env.App.Registry.TouchLaunch(ctx, env.Registered.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := env.App.Registry.RecordRefusal(ctx, id, (&lti.Error{Reason: lti.ReasonUnknownKID}).WithGiven("kid", "k9")); err != nil {
			t.Fatal(err)
		}
		c.get("/admin/platforms")
		if n := c.page.Find("[data-testid=platforms] tbody tr").Length(); n != 2 {
			t.Errorf("%d rows in the platform list", n)
		}
		seeded := c.page.Find("tr[data-platform='" + env.Registered.ID + "']")
		if got := strings.TrimSpace(seeded.Find("[data-testid=last-launch]").Text()); got != "just now" {
			t.Errorf("last launch of the seeded platform: %q", got)
		}
		added := c.page.Find("tr[data-platform='" + id + "']")
		if got := strings.TrimSpace(added.Find("[data-testid=last-launch]").Text()); got != "Never" {
			t.Errorf("last launch of the new platform: %q", got)
		}
		if got := strings.Join(strings.Fields(added.Find("[data-testid=last-error]").Text()), " "); got != `Reason: key id (kid) not in the platform's key set. The request said: kid = "k9" (just now)` {
			t.Errorf("last error of the new platform: %q", got)
		}
	})
}

func TestAdminApproveDisableDelete(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		ctx := context.Background()
		const clientID, deploymentID = "pending-client", "deployment-p"
		p, err := env.App.Registry.Add(ctx, tenant.Platform{Name: "Pending LMS", Issuer: env.Platform.Issuer(), ClientID: clientID,
			AuthURL: env.Platform.AuthURL(), TokenURL: env.Platform.TokenURL(), JWKSURL: env.Platform.JWKSURL(),
			Status: tenant.StatusPending, Deployments: []string{deploymentID}})
		if err != nil {
			t.Fatal(err)
		}
		if err := env.Platform.AddTool(ltiplatform.Tool{ClientID: clientID, DeploymentID: deploymentID, Name: "Roundtable (pending)",
			LoginURL: env.App.URL("/lti/login"), RedirectURIs: []string{env.App.URL("/lti/launch")}, JWKSURL: env.App.Web.JWKSURL(p.ID)}); err != nil {
			t.Fatal(err)
		}
		launch := func() *ltiplatform.Result {
			res, err := ltiplatform.NewBrowser().Launch(ctx, env.Platform, ltiplatform.LaunchRequest{
				ClientID: clientID, UserID: apptest.Learner, CourseID: apptest.CourseID, ResourceLinkID: apptest.LinkID})
			if pe, ok := err.(*ltiplatform.PageError); ok {
				return &ltiplatform.Result{StatusCode: pe.StatusCode, URL: pe.URL, Body: pe.Body}
			}
			if err != nil {
				t.Fatal(err)
			}
			return res
		}
		res := launch()
		if res.StatusCode != http.StatusForbidden || !strings.Contains(res.Body, "waiting for the Roundtable administrator") {
			t.Fatalf("pending launch: %d\n%.400s", res.StatusCode, res.Body)
		}

		c := newAdmin(t, env)
		if got := text(c.page, "[data-testid=pending-count]"); !strings.Contains(got, "1 platform waits") {
			t.Errorf("pending count %q", got)
		}
		row := c.page.Find("tr[data-platform='" + p.ID + "']")
		if got := strings.TrimSpace(row.Find("[data-testid=status]").Text()); got != "Pending approval" {
			t.Errorf("list status %q", got)
		}
		if got := strings.TrimSpace(row.Find("[data-testid=last-error]").Text()); !strings.Contains(got, "pending") {
			t.Logf("last error in the list: %q", got)
		}
		c.get("/admin/platforms/" + p.ID)
		if c.page.Find("[data-testid=pending-notice]").Length() != 1 {
			t.Error("no pending notice on the detail page")
		}
		if res := c.post("/admin/platforms/"+p.ID+"/approve", nil); res.StatusCode != 200 || text(c.page, "[data-testid=status]") != "Active" {
			t.Fatalf("approve: %d %q", res.StatusCode, text(c.page, "[data-testid=status]"))
		}
		if res := launch(); res.StatusCode != 200 || !strings.Contains(res.URL, "/a/") {
			t.Fatalf("launch after approval: %d at %s\n%.400s", res.StatusCode, res.URL, res.Body)
		}
		if res := c.post("/admin/platforms/"+p.ID+"/approve", nil); res.StatusCode != http.StatusConflict {
			t.Errorf("approving an active platform: %d", res.StatusCode)
		}

		c.get("/admin/platforms/" + p.ID)
		c.post("/admin/platforms/"+p.ID+"/disable", nil)
		if res := launch(); res.StatusCode != http.StatusForbidden || !strings.Contains(res.Body, "turned off") {
			t.Errorf("launch of a disabled platform: %d", res.StatusCode)
		}
		c.post("/admin/platforms/"+p.ID+"/enable", nil)
		if res := launch(); res.StatusCode != 200 {
			t.Errorf("launch after enabling: %d", res.StatusCode)
		}

		// Delete, through a confirmation that names what goes.
		c.get("/admin/platforms/" + p.ID)
		c.get("/admin/platforms/" + p.ID + "/delete")
		summary := text(c.page, "[data-testid=delete-summary]")
		for _, want := range []string{"Pending LMS", clientID, env.Platform.Issuer()} {
			if !strings.Contains(summary, want) {
				t.Errorf("the confirmation does not name %q:\n%s", want, summary)
			}
		}
		if got := text(c.page, "[data-testid=delete-courses]"); !strings.HasPrefix(got, "1 course,") {
			t.Errorf("courses to delete: %q", got)
		}
		if got := text(c.page, "[data-testid=delete-users]"); !strings.HasPrefix(got, "1 person") {
			t.Errorf("people to delete: %q", got)
		}
		res = c.post("/admin/platforms/"+p.ID+"/delete", nil)
		if res.StatusCode != 200 || !strings.HasSuffix(strings.SplitN(res.URL, "?", 2)[0], "/admin/platforms") || text(c.page, "[data-testid=flash]") == "" {
			t.Errorf("delete: %d at %s", res.StatusCode, res.URL)
		}
		if _, err := env.App.Registry.Get(ctx, p.ID); err == nil {
			t.Error("the platform is still there")
		}
		if res := launch(); res.StatusCode != http.StatusForbidden {
			t.Errorf("launch of a deleted platform: %d", res.StatusCode)
		}
		// The seeded platform is untouched.
		if _, res := env.Launch(t, apptest.Learner, nil); res.StatusCode != 200 {
			t.Errorf("the other platform's launch: %d", res.StatusCode)
		}
		if res := c.get("/admin/platforms/" + p.ID); res.StatusCode != http.StatusNotFound {
			t.Errorf("a deleted platform's page: %d", res.StatusCode)
		}
	})
}

func jwksKIDs(t *testing.T, jwksURL string) []string {
	t.Helper()
	resp, err := http.Get(jwksURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set struct {
		Keys []struct {
			KID string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.KID)
	}
	return kids
}

// Each registration's keys are rotated and retired on its own page; the
// other registrations keep theirs.
func TestAdminRotatesOneRegistrationsKeys(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		ctx := context.Background()
		env.App.Keys.Bits = 1024 // quicker rotations
		id := env.Registered.ID
		other, err := env.App.Registry.Add(ctx, tenant.Platform{Name: "Other LMS", Issuer: "https://other.example.edu", ClientID: "other",
			AuthURL: "https://other.example.edu/auth", JWKSURL: "https://other.example.edu/jwks", Deployments: []string{"d"}})
		if err != nil {
			t.Fatal(err)
		}
		otherKIDs := jwksKIDs(t, env.App.Web.JWKSURL(other.ID))
		// The seeded registration still signs with the key every LMS
		// shared before (as an upgraded installation's do).
		if err := env.DB.Exec(`UPDATE registration_keys SET shared = ? WHERE platform_id = ?`, true, id).Error; err != nil {
			t.Fatal(err)
		}

		c := newAdmin(t, env)
		c.get("/admin/platforms/" + id)
		if n := c.page.Find("[data-testid=keys] tbody tr").Length(); n != 1 {
			t.Fatalf("%d keys listed", n)
		}
		if text(c.page, "[data-testid=registration-jwks-url]") != env.App.Web.JWKSURL(id) {
			t.Errorf("the page gives keyset URL %q", text(c.page, "[data-testid=registration-jwks-url]"))
		}
		if c.page.Find("[data-testid=shared-key-notice]").Length() != 1 {
			t.Error("no warning that the LMS may still use the shared URL")
		}
		first := attr(c.page, "[data-testid=keys] tbody tr", "data-kid")
		if kids := jwksKIDs(t, env.App.URL("/.well-known/jwks.json")); len(kids) != 1 || kids[0] != first {
			t.Errorf("shared JWKS %v, want the shared key %s", kids, first)
		}
		c.get("/admin/keys")
		row := c.page.Find("tr[data-platform='" + id + "']")
		if strings.TrimSpace(row.Find("[data-testid=jwks-url]").Text()) != env.App.Web.JWKSURL(id) || row.Find("[data-testid=shared]").Length() != 1 {
			t.Errorf("keys overview row %q", strings.Join(strings.Fields(row.Text()), " "))
		}
		if n := c.page.Find("[data-testid=registration-keys] tbody tr").Length(); n != 2 {
			t.Errorf("%d registrations on the keys page", n)
		}

		c.get("/admin/platforms/" + id)
		if res := c.post("/admin/platforms/"+id+"/keys/rotate", nil); res.StatusCode != 200 || !strings.Contains(text(c.page, "[data-testid=flash]"), "New signing key") {
			t.Fatalf("rotate: %d", res.StatusCode)
		}
		rows := c.page.Find("[data-testid=keys] tbody tr")
		if rows.Length() != 2 {
			t.Fatalf("%d keys after rotation", rows.Length())
		}
		newKID, _ := rows.First().Attr("data-kid")
		states := []string{strings.TrimSpace(rows.Eq(0).Find("[data-testid=key-state] .status").Text()), strings.TrimSpace(rows.Eq(1).Find("[data-testid=key-state] .status").Text())}
		if newKID == first || states[0] != "Signing" || states[1] != "Published" {
			t.Errorf("after rotation: %s %v", newKID, states)
		}
		if c.page.Find("[data-testid=shared-key-notice]").Length() != 0 {
			t.Error("the shared-key warning stays after the rotation")
		}
		if kids := jwksKIDs(t, env.App.Web.JWKSURL(id)); len(kids) != 2 || !slices.Contains(kids, first) || !slices.Contains(kids, newKID) {
			t.Errorf("JWKS after rotation: %v", kids)
		}
		// The new key is this registration's alone: neither the shared URL
		// nor the other registration publishes it, and the other keeps its key.
		if kids := jwksKIDs(t, env.App.URL("/.well-known/jwks.json")); slices.Contains(kids, newKID) {
			t.Errorf("the shared URL publishes the new key: %v", kids)
		}
		if kids := jwksKIDs(t, env.App.Web.JWKSURL(other.ID)); !slices.Equal(kids, otherKIDs) {
			t.Errorf("the other registration's JWKS changed: %v, was %v", kids, otherKIDs)
		}
		// Launches keep working after a rotation.
		if _, res := env.Launch(t, apptest.Learner, nil); res.StatusCode != 200 {
			t.Errorf("launch after rotation: %d", res.StatusCode)
		}

		if res := c.post("/admin/platforms/"+id+"/keys/retire", url.Values{"kid": {newKID}}); res.StatusCode != http.StatusConflict || !strings.Contains(text(c.page, "[data-testid=keys-error]"), "cannot be retired") {
			t.Errorf("retire the signing key: %d", res.StatusCode)
		}
		if c.page.Find("tr[data-kid='"+newKID+"'] form").Length() != 0 {
			t.Error("the signing key offers a retire button")
		}
		if res := c.post("/admin/platforms/"+other.ID+"/keys/retire", url.Values{"kid": {first}}); res.StatusCode != http.StatusNotFound {
			t.Errorf("retiring another registration's key: %d", res.StatusCode)
		}
		if res := c.post("/admin/platforms/"+id+"/keys/retire", url.Values{"kid": {first}}); res.StatusCode != 200 {
			t.Fatalf("retire: %d", res.StatusCode)
		}
		if got := strings.TrimSpace(c.page.Find("tr[data-kid='" + first + "'] [data-testid=key-state] .status").Text()); got != "Retired" {
			t.Errorf("retired key state %q", got)
		}
		if kids := jwksKIDs(t, env.App.Web.JWKSURL(id)); len(kids) != 1 || kids[0] != newKID {
			t.Errorf("JWKS after retiring: %v", kids)
		}
		// No registration holds the shared key any more: the shared URL
		// stops publishing it.
		if kids := jwksKIDs(t, env.App.URL("/.well-known/jwks.json")); len(kids) != 0 {
			t.Errorf("shared JWKS after retiring: %v", kids)
		}
	})
}

func TestAdminLMSSetupPage(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		c := newAdmin(t, env)
		res := c.get("/admin/lms-setup")
		if res.StatusCode != 200 {
			t.Fatalf("%d", res.StatusCode)
		}
		base := env.App.URL("")
		// The keyset and Canvas configuration URLs are those of the next
		// registration by hand, whose id the "add by hand" links carry.
		newID := strings.TrimPrefix(attr(c.page, "a[href^='/admin/platforms/new?preset=canvas']", "href"), "/admin/platforms/new?preset=canvas&id=")
		if !tenant.ValidID(newID) {
			t.Fatalf("the Canvas link carries no registration id: %q", newID)
		}
		want := map[string]string{
			"register": base + "/lti/register", "canvas-config": base + "/lti/config.json?platform=" + newID, "login": base + "/lti/login",
			"redirect": base + "/lti/launch", "target": base + "/lti/launch", "jwks": base + "/lti/platforms/" + newID + "/jwks.json",
		}
		for id, v := range want {
			in := c.page.Find("#v-" + id)
			if got, _ := in.Attr("value"); got != v {
				t.Errorf("%s: %q, want %q", id, got, v)
			}
			if c.page.Find("label[for='v-"+id+"']").Length() != 1 {
				t.Errorf("%s has no label", id)
			}
			btn := c.page.Find("button[data-copy='v-" + id + "']")
			if btn.Length() != 1 || !strings.HasPrefix(attr(c.page, "button[data-copy='v-"+id+"']", "aria-label"), "Copy ") {
				t.Errorf("%s has no labelled copy button", id)
			}
		}
		if c.page.Find("#copy-status[aria-live=polite]").Length() != 1 {
			t.Error("no live region for the copy announcements")
		}
		if c.page.Find(`script[src^="/static/js/copy.js"]`).Length() != 1 || c.page.Find("script:not([src])").Length() != 0 {
			t.Error("copy.js missing, or an inline script")
		}
		var lms []string
		c.page.Find("section.lms h2").Each(func(_ int, s *goquery.Selection) { lms = append(lms, s.Text()) })
		if strings.Join(lms, ",") != "Moodle,Canvas,Brightspace (D2L),Blackboard Learn,Sakai" {
			t.Errorf("LMS sections %v", lms)
		}
		if resp := send(t, rawClient, http.MethodGet, env.App.URL(attr(c.page, `script[src^="/static/js/copy.js"]`, "src")), nil); resp.StatusCode != 200 {
			t.Errorf("copy.js: %d", resp.StatusCode)
		}
		// Every console page: one h1, labelled fields, no inline script.
		for _, p := range []string{"/admin/platforms", "/admin/platforms/new", "/admin/platforms/" + env.Registered.ID, "/admin/keys", "/admin/lms-setup", "/admin/platforms/" + env.Registered.ID + "/delete"} {
			c.get(p)
			if n := c.page.Find("h1").Length(); n != 1 {
				t.Errorf("%s: %d h1", p, n)
			}
			c.page.Find("main input:not([type=hidden]), main textarea").Each(func(_ int, s *goquery.Selection) {
				id, _ := s.Attr("id")
				if id == "" || c.page.Find("label[for='"+id+"']").Length() != 1 {
					t.Errorf("%s: field %q has no label", p, id)
				}
			})
			if c.page.Find("script:not([src])").Length() != 0 {
				t.Errorf("%s: inline script", p)
			}
		}
	})
}
