package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/roundtable-lms/roundtable/internal/apptest"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
	"github.com/roundtable-lms/roundtable/lti"
	"github.com/roundtable-lms/roundtable/lti/ltiplatform"
)

// eachDB runs fn against a fresh tool and platform on each database kind,
// both at the same time and alongside the package's other tests that use
// it (each has its own app, database and LMS).
func eachDB(t *testing.T, fn func(t *testing.T, env *apptest.Env)) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			fn(t, apptest.Start(t, kind))
		})
	}
}

func doc(t testing.TB, body string) *goquery.Document {
	t.Helper()
	d, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func text(d *goquery.Document, sel string) string {
	return strings.TrimSpace(d.Find(sel).First().Text())
}

// mustSeeActivity checks that a launch ended on the activity page of the
// seeded discussion, as the named person in the given role.
func mustSeeActivity(t *testing.T, res *ltiplatform.Result, name, role string) *goquery.Document {
	t.Helper()
	if res.StatusCode != http.StatusOK || !strings.Contains(res.URL, "/a/") {
		t.Fatalf("launch ended at %s with %d:\n%.600s", res.URL, res.StatusCode, res.Body)
	}
	d := doc(t, res.Body)
	if got := text(d, "h1"); got != "Week 1 discussion" {
		t.Errorf("heading %q, want the activity title", got)
	}
	if got := text(d, "[data-testid=user-name]"); got != name {
		t.Errorf("user name %q, want %q", got, name)
	}
	if got := text(d, "[data-testid=user-role]"); got != role {
		t.Errorf("role %q, want %q", got, role)
	}
	return d
}

func TestValidLaunches(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		_, res := env.Launch(t, apptest.Learner, nil)
		d := mustSeeActivity(t, res, "Alice Mbeki", "Learner")
		if got := text(d, ".course-name"); got != "Workplace Safety Essentials" {
			t.Errorf("course name %q", got)
		}
		if got := text(d, "[data-testid=cohort-size]"); got != "Just you in this cohort so far" {
			t.Errorf("cohort size %q", got)
		}
		if d.Find(`script[src^="/static/js/frame.js"]`).Length() != 1 {
			t.Error("the page does not load the frame-resize script")
		}

		// The instructor first sets the activity up (see setup_test.go).
		ib, res := env.Launch(t, apptest.Instructor, nil)
		d = mustSeeActivity(t, pastSetup(t, ib, res), "Ines Okafor", "Instructor")
		if got := text(d, "[data-testid=cohort-size]"); got != "2 people in your cohort" {
			t.Errorf("cohort size after a second launch: %q", got)
		}
		_, res = env.Launch(t, apptest.Assistant, nil)
		mustSeeActivity(t, res, "Tom Reyes", "Teaching assistant")

		// The variants the certification sends, all to be accepted.
		setRoles := func(roles ...any) *ltiplatform.Tamper {
			if roles == nil {
				roles = []any{} // an empty array, not null
			}
			return &ltiplatform.Tamper{Claims: func(c map[string]any) { c[lti.ClaimRoles] = roles }}
		}
		drop := func(names ...string) *ltiplatform.Tamper {
			return &ltiplatform.Tamper{Claims: func(c map[string]any) {
				for _, n := range names {
					delete(c, n)
				}
			}}
		}
		pseudonym := func() string {
			var p string
			env.DB.Raw("SELECT pseudonym FROM users WHERE subject = ?", apptest.Learner2).Scan(&p)
			return p
		}
		variants := []struct {
			name   string
			tamper *ltiplatform.Tamper
			who    func() string
			role   string
		}{
			{"short role", setRoles("Instructor"), nil, "Instructor"},
			{"unknown role", setRoles("http://example.com/roles#Wizard"), nil, "Learner"},
			{"multiple roles", setRoles(lti.RoleLearner, lti.RoleMentor, lti.RoleInstructor), nil, "Instructor"},
			{"no role", setRoles(), nil, "Learner"},
			{"names only", drop("email"), nil, "Learner"},
			{"email only", drop("name", "given_name", "family_name"), pseudonym, "Learner"},
			{"no PII", drop("name", "given_name", "family_name", "email", "picture", "locale"), pseudonym, "Learner"},
			{"unknown claims", &ltiplatform.Tamper{Claims: func(c map[string]any) { c["https://example.com/claim/extra"] = map[string]any{"x": 1} }}, nil, "Learner"},
		}
		for _, v := range variants {
			_, res := env.Launch(t, apptest.Learner2, v.tamper)
			want := "Bob Lindqvist"
			if v.who != nil {
				want = v.who()
				if want == "" || strings.Contains(want, "Bob") {
					t.Fatalf("%s: no pseudonym stored (%q)", v.name, want)
				}
			}
			t.Run(v.name, func(t *testing.T) { mustSeeActivity(t, res, want, v.role) })
		}

		// A launch with no context: the activity stands as its own course.
		b := ltiplatform.NewBrowser()
		res, err := b.Launch(context.Background(), env.Platform, ltiplatform.LaunchRequest{
			ClientID: apptest.ClientID, UserID: apptest.Learner, ResourceLinkID: apptest.LooseLinkID})
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != 200 || text(doc(t, res.Body), "h1") != "Open forum" {
			t.Fatalf("no-context launch: %d %.300s", res.StatusCode, res.Body)
		}
	})
}

func TestLaunchRecordsPeopleCourseLinkAndCohort(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		env.Launch(t, apptest.Learner, nil)
		lastLaunch := func() (at string) {
			env.DB.Raw(`SELECT CAST(m.last_launch_at AS TEXT) FROM memberships m JOIN users u ON u.org_id = m.org_id AND u.id = m.user_id WHERE u.subject = ?`, apptest.Learner).Scan(&at)
			return at
		}
		first := lastLaunch()
		env.Launch(t, apptest.Instructor, nil)
		env.Launch(t, apptest.Learner, nil)
		// A relaunch within a minute with the same roles writes nothing.
		if again := lastLaunch(); first == "" || again != first {
			t.Errorf("membership rewritten by a quick relaunch: %q then %q", first, again)
		}
		// A day later the launch records it again, and nothing else.
		if err := env.DB.Exec(`UPDATE memberships SET last_launch_at = ? WHERE user_id IN (SELECT id FROM users WHERE subject = ?)`,
			time.Now().UTC().Add(-24*time.Hour), apptest.Learner).Error; err != nil {
			t.Fatal(err)
		}
		dayAgo := lastLaunch()
		env.Launch(t, apptest.Learner, nil)
		if later := lastLaunch(); later == dayAgo {
			t.Errorf("a launch a day later left the membership's last launch at %q", later)
		}
		for table, want := range map[string]int64{"users": 2, "courses": 1, "memberships": 2, "resource_links": 1, "cohorts": 1, "cohort_members": 2, "sessions": 4} {
			if got := env.Count(t, table); got != want {
				t.Errorf("%s: %d rows, want %d", table, got, want)
			}
		}
		var touched int64
		env.DB.Raw(`SELECT COUNT(*) FROM platforms WHERE last_launch_at IS NOT NULL`).Scan(&touched)
		if touched != 1 {
			t.Errorf("the platform's last launch is not recorded for the admin's health view")
		}
		var counted int64
		env.DB.Raw(`SELECT member_count FROM cohorts`).Scan(&counted)
		if counted != 2 {
			t.Errorf("cohort member_count %d, want 2 (one per distinct person)", counted)
		}
		var m struct{ Roles, LtiRoles string }
		env.DB.Raw(`SELECT m.roles, m.lti_roles FROM memberships m JOIN users u ON u.org_id = m.org_id AND u.id = m.user_id WHERE u.subject = ?`, apptest.Instructor).Scan(&m)
		if m.Roles != "instructor" || !strings.Contains(m.LtiRoles, "membership#Instructor") {
			t.Errorf("instructor membership: %+v", m)
		}
		var l struct{ AgsLineitems, NrpsURL, Title string }
		env.DB.Raw(`SELECT ags_lineitems, nrps_url, title FROM resource_links`).Scan(&l)
		if l.Title != "Week 1 discussion" || !strings.HasPrefix(l.AgsLineitems, env.Platform.Issuer()) || !strings.HasPrefix(l.NrpsURL, env.Platform.Issuer()) {
			t.Errorf("resource link keeps title and service endpoints: %+v", l)
		}
		var u struct{ Name, Email, Locale string }
		env.DB.Raw(`SELECT name, email, locale FROM users WHERE subject = ?`, apptest.Learner).Scan(&u)
		if u.Name != "Alice Mbeki" || u.Email != "alice@example.edu" || u.Locale != "en-GB" {
			t.Errorf("user: %+v", u)
		}
	})
}

// rejection runs a launch that must fail: a 4xx page with a reference,
// and nothing stored.
func mustReject(t *testing.T, env *apptest.Env, res *ltiplatform.Result, wantStatus int) {
	t.Helper()
	if res.StatusCode != wantStatus {
		t.Errorf("status %d, want %d; page:\n%.400s", res.StatusCode, wantStatus, res.Body)
	}
	d := doc(t, res.Body)
	if d.Find("[role=alert] h1").Length() != 1 || text(d, "[data-testid=error-ref]") == "" {
		t.Errorf("the refusal page lacks a heading or a reference:\n%.400s", res.Body)
	}
	for _, table := range []string{"users", "courses", "memberships", "resource_links", "sessions"} {
		if n := env.Count(t, table); n != 0 {
			t.Errorf("a rejected launch stored %d rows in %s", n, table)
		}
	}
}

func TestCertificationRejections(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		claims := func(f func(c map[string]any)) *ltiplatform.Tamper { return &ltiplatform.Tamper{Claims: f} }
		del := func(name string) *ltiplatform.Tamper { return claims(func(c map[string]any) { delete(c, name) }) }
		set := func(name string, v any) *ltiplatform.Tamper { return claims(func(c map[string]any) { c[name] = v }) }
		now := float64(time.Now().Unix())
		cases := []struct {
			name   string
			tamper *ltiplatform.Tamper
			status int
		}{
			{"no kid", &ltiplatform.Tamper{OmitKID: true}, 401},
			{"incorrect kid", &ltiplatform.Tamper{KID: "not-a-platform-key"}, 401},
			{"wrong LTI version", set(lti.ClaimVersion, "1.2.0"), 401},
			{"no LTI version", del(lti.ClaimVersion), 401},
			{"invalid message type", set(lti.ClaimMessageType, "LtiInvalidRequest"), 401},
			{"missing message type", del(lti.ClaimMessageType), 401},
			{"missing roles claim", del(lti.ClaimRoles), 401},
			{"missing deployment id", del(lti.ClaimDeploymentID), 401},
			{"unknown deployment id", set(lti.ClaimDeploymentID, "deployment-9"), 403},
			{"missing resource link id", set(lti.ClaimResourceLink, map[string]any{"title": "x"}), 401},
			{"missing sub", del("sub"), 401},
			{"expired", claims(func(c map[string]any) { c["exp"] = now - 3600; c["iat"] = now - 3700 }), 401},
			{"issued in the future", set("iat", now+3600), 401},
			{"no exp", del("exp"), 401},
			{"wrong issuer", set("iss", "https://evil.example.com"), 401},
			{"wrong audience", set("aud", "someone-else"), 401},
			{"several audiences without azp", claims(func(c map[string]any) { c["aud"] = []any{apptest.ClientID, "other"}; delete(c, "azp") }), 401},
			{"wrong azp", set("azp", "other"), 401},
			{"nonce not ours", set("nonce", "forged-nonce"), 401},
			{"target link not ours", set(lti.ClaimTargetLinkURI, "https://evil.example.com/launch"), 400},
			{"signed by another platform's key", &ltiplatform.Tamper{SigningKey: ltiplatform.NewForeignKey()}, 401},
			{"HS256 signed with the public key", &ltiplatform.Tamper{Algorithm: "HS256"}, 401},
			{"alg none", &ltiplatform.Tamper{Algorithm: "none"}, 401},
			{"RS512 instead of RS256", &ltiplatform.Tamper{Algorithm: "RS512"}, 401},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				_, res := env.Launch(t, apptest.Learner, tc.tamper)
				mustReject(t, env, res, tc.status)
			})
		}
		t.Run("bad signature", func(t *testing.T) {
			b, ar := login(t, env)
			tok := ar.Fields.Get("id_token")
			ar.Fields.Set("id_token", tok[:len(tok)-4]+flip(tok[len(tok)-4:]))
			mustReject(t, env, post(t, b, ar), 401)
		})
		t.Run("malformed token", func(t *testing.T) {
			b, ar := login(t, env)
			ar.Fields.Set("id_token", "not.a.jwt!")
			mustReject(t, env, post(t, b, ar), 401)
		})
		t.Run("no state", func(t *testing.T) {
			b, ar := login(t, env)
			ar.Fields.Del("state")
			mustReject(t, env, post(t, b, ar), 400)
		})
		t.Run("unknown state", func(t *testing.T) {
			b, ar := login(t, env)
			ar.Fields.Set("state", "made-up")
			mustReject(t, env, post(t, b, ar), 401)
		})
		t.Run("state from another browser", func(t *testing.T) {
			_, ar := login(t, env)
			mustReject(t, env, post(t, ltiplatform.NewBrowser(), ar), 401)
		})
		t.Run("platform answered an error", func(t *testing.T) {
			b, ar := login(t, env)
			ar.Fields = url.Values{"error": {"login_required"}, "error_description": {"hint expired"}, "state": {ar.Fields.Get("state")}}
			mustReject(t, env, post(t, b, ar), 400)
		})
	})
}

func TestNonceReplayIsRejected(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		b, ar := login(t, env)
		first := post(t, b, ar)
		if first.StatusCode != 200 {
			t.Fatalf("first launch: %d", first.StatusCode)
		}
		sessions := env.Count(t, "sessions")
		second := post(t, b, ar)
		if second.StatusCode != 401 || !strings.Contains(second.Body, "already been used") {
			t.Fatalf("replayed launch: %d %.300s", second.StatusCode, second.Body)
		}
		if env.Count(t, "sessions") != sessions {
			t.Fatal("the replay created a session")
		}
	})
}

func TestLoginInitiationRefusals(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		ctx := context.Background()
		good, err := env.Platform.StartLaunch(ltiplatform.LaunchRequest{ClientID: apptest.ClientID, UserID: apptest.Learner, CourseID: apptest.CourseID, ResourceLinkID: apptest.LinkID})
		if err != nil {
			t.Fatal(err)
		}
		edit := func(f func(q url.Values)) string {
			u, _ := url.Parse(good)
			q := u.Query()
			f(q)
			u.RawQuery = q.Encode()
			return u.String()
		}
		cases := []struct {
			name   string
			url    string
			status int
		}{
			{"unknown issuer", edit(func(q url.Values) { q.Set("iss", "https://unknown.example.com") }), 403},
			{"unknown client", edit(func(q url.Values) { q.Set("client_id", "nobody") }), 403},
			{"unknown deployment", edit(func(q url.Values) { q.Set("lti_deployment_id", "nope") }), 403},
			{"target link not ours", edit(func(q url.Values) { q.Set("target_link_uri", "https://evil.example.com/") }), 400},
			{"no login hint", edit(func(q url.Values) { q.Del("login_hint") }), 400},
			{"no issuer", edit(func(q url.Values) { q.Del("iss") }), 400},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				res, err := ltiplatform.NewBrowser().Get(ctx, tc.url)
				if err != nil {
					t.Fatal(err)
				}
				if res.StatusCode != tc.status || doc(t, res.Body).Find("[data-testid=error-ref]").Length() != 1 {
					t.Fatalf("status %d, want %d:\n%.300s", res.StatusCode, tc.status, res.Body)
				}
			})
		}
		if n := env.Count(t, "used_login_states"); n != 0 {
			t.Errorf("refused logins spent %d states", n)
		}

		// A good login redirects to the platform with every parameter.
		resp, err := ltiplatform.NewBrowser().HTTPClient().Get(good)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		q := loc.Query()
		if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc.String(), env.Platform.AuthURL()) {
			t.Fatalf("login answered %d to %s", resp.StatusCode, loc)
		}
		for k, want := range map[string]string{"scope": "openid", "response_type": "id_token", "response_mode": "form_post",
			"prompt": "none", "client_id": apptest.ClientID, "redirect_uri": env.App.URL("/lti/launch"), "login_hint": apptest.Learner} {
			if q.Get(k) != want {
				t.Errorf("%s=%q, want %q", k, q.Get(k), want)
			}
		}
		if len(q.Get("state")) < 30 || len(q.Get("nonce")) < 30 || q.Get("lti_message_hint") == "" {
			t.Errorf("state, nonce or message hint missing: %v", q)
		}
		var bc *http.Cookie
		for _, c := range resp.Cookies() {
			if c.Name == "rt_browser" {
				bc = c
			}
		}
		if bc == nil || !bc.Secure || !bc.HttpOnly || bc.SameSite != http.SameSiteNoneMode || !bc.Partitioned {
			t.Errorf("state cookie must be Secure, HttpOnly, SameSite=None, Partitioned: %+v", bc)
		}
	})
}

func TestPlatformChangesTakeEffectWithoutRestart(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		ctx := context.Background()
		if err := env.App.Registry.Remove(ctx, env.Registered.ID); err != nil {
			t.Fatal(err)
		}
		_, res := env.Launch(t, apptest.Learner, nil)
		if res.StatusCode != 403 {
			t.Fatalf("launch after removal: %d", res.StatusCode)
		}
		// Registered anew, the LMS starts an organisation of its own: its
		// last registration's removal took the old one with it.
		reg := env.Registered
		reg.ID, reg.OrgID = "", ""
		if _, err := env.App.Registry.Add(ctx, reg); err != nil {
			t.Fatal(err)
		}
		_, res = env.Launch(t, apptest.Learner, nil)
		mustSeeActivity(t, res, "Alice Mbeki", "Learner")
	})
}

func TestSessionWorksWithoutCookies(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		b, res := env.Launch(t, apptest.Learner, nil)
		u, _ := url.Parse(res.URL)
		tok := u.Query().Get("rt")
		if tok == "" {
			t.Fatal("the launch redirect carries no session token")
		}
		// A browser that never got the cookie (third-party cookies blocked).
		cookieless := ltiplatform.NewBrowser()
		r, err := cookieless.Get(context.Background(), res.URL)
		if err != nil {
			t.Fatal(err)
		}
		mustSeeActivity(t, r, "Alice Mbeki", "Learner")
		// Without the token or cookie: a clear 401.
		r, _ = cookieless.Get(context.Background(), env.App.URL(u.Path))
		if r.StatusCode != 401 || !strings.Contains(r.Body, "Open that activity from your course") {
			t.Fatalf("no session: %d %.200s", r.StatusCode, r.Body)
		}
		// A forged token: 401.
		r, _ = cookieless.Get(context.Background(), env.App.URL(u.Path)+"?rt="+flip(tok))
		if r.StatusCode != 401 {
			t.Fatalf("forged token: %d", r.StatusCode)
		}
		// With the cookie alone.
		r, _ = b.Get(context.Background(), env.App.URL(u.Path))
		mustSeeActivity(t, r, "Alice Mbeki", "Learner")
		// A token for this activity does not open another course's activity.
		_, other := env.Launch(t, apptest.Learner2, nil)
		ou, _ := url.Parse(other.URL)
		if ou.Path != u.Path {
			t.Fatalf("same link, different paths: %s %s", ou.Path, u.Path)
		}
		r, _ = cookieless.Get(context.Background(), env.App.URL("/a/not-a-link")+"?rt="+tok)
		if r.StatusCode != 401 {
			t.Fatalf("token used on another activity: %d", r.StatusCode)
		}
	})
}

func TestJWKSAndHealth(t *testing.T) {
	env := apptest.Start(t, store.SQLite)
	ctx := context.Background()
	set, err := lti.FetchKeySet(ctx, http.DefaultClient, env.App.Web.JWKSURL(env.Registered.ID))
	if err != nil {
		t.Fatal(err)
	}
	k, _ := set.Key(0)
	if set.Len() != 1 || k.KeyID() == "" || k.Algorithm().String() != "RS256" || k.KeyUsage() != "sig" {
		t.Fatalf("jwks: %d keys, kid %q alg %v use %q", set.Len(), k.KeyID(), k.Algorithm(), k.KeyUsage())
	}
	// No registration made before keys were per registration: the shared
	// URL publishes nothing, and an unknown registration has no JWKS.
	if set, err := lti.FetchKeySet(ctx, http.DefaultClient, env.App.URL("/.well-known/jwks.json")); err == nil && set.Len() != 0 {
		t.Errorf("shared JWKS on a new installation: %d keys", set.Len())
	}
	for _, id := range []string{"00000000-0000-7000-8000-000000000000", "not-an-id"} {
		resp, err := http.Get(env.App.URL("/lti/platforms/" + id + "/jwks.json"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("JWKS of unknown registration %s: %d", id, resp.StatusCode)
		}
	}
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200} {
		resp, err := http.Get(env.App.URL(path))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s: %d", path, resp.StatusCode)
		}
	}
	env.DB.Close()
	resp, err := http.Get(env.App.URL("/readyz"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 {
		t.Errorf("readyz with the database closed: %d", resp.StatusCode)
	}
}

func login(t *testing.T, env *apptest.Env) (*ltiplatform.Browser, *ltiplatform.AuthResponse) {
	t.Helper()
	loginURL, err := env.Platform.StartLaunch(ltiplatform.LaunchRequest{ClientID: apptest.ClientID, UserID: apptest.Learner, CourseID: apptest.CourseID, ResourceLinkID: apptest.LinkID})
	if err != nil {
		t.Fatal(err)
	}
	b := ltiplatform.NewBrowser()
	ar, err := b.Login(context.Background(), loginURL)
	if err != nil {
		t.Fatal(err)
	}
	return b, ar
}

func post(t *testing.T, b *ltiplatform.Browser, ar *ltiplatform.AuthResponse) *ltiplatform.Result {
	t.Helper()
	res, err := b.PostForm(context.Background(), ar.Action, ar.Fields)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// flip changes the first character of s.
func flip(s string) string {
	if s[0] == 'A' {
		return "B" + s[1:]
	}
	return "A" + s[1:]
}

// Where the LMS offers platform storage and no cookie comes back, the
// launch is granted only through the page the server rendered, after the
// browser confirmed state and nonce from the LMS's storage.
func TestPlatformStorageLaunchWithoutCookies(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		ctx := context.Background()
		loginURL, err := env.Platform.StartLaunch(ltiplatform.LaunchRequest{ClientID: apptest.ClientID, UserID: apptest.Learner,
			CourseID: apptest.CourseID, ResourceLinkID: apptest.LinkID, StorageTarget: "_parent"})
		if err != nil {
			t.Fatal(err)
		}
		// A browser that keeps no cookies for the tool.
		b := ltiplatform.NewBrowser()
		res, err := b.Get(ctx, loginURL)
		if err != nil {
			t.Fatal(err)
		}
		d := doc(t, res.Body)
		box := d.Find("#lti-storage")
		next, _ := box.Attr("data-next")
		if mode, _ := box.Attr("data-mode"); res.StatusCode != 200 || mode != "put" || !strings.HasPrefix(next, env.Platform.AuthURL()) {
			t.Fatalf("login with a storage target: %d, mode %q, next %q", res.StatusCode, mode, next)
		}
		if origin, _ := box.Attr("data-origin"); origin != strings.TrimSuffix(env.Platform.Issuer(), "/") {
			t.Errorf("put_data goes to %q, want the platform's origin", origin)
		}
		cookieless := ltiplatform.NewBrowser()
		ar, err := cookieless.Authorize(ctx, next)
		if err != nil {
			t.Fatal(err)
		}
		page := post(t, cookieless, ar)
		d = doc(t, page.Body)
		ticket, _ := d.Find("#launch-form input[name=storage_ticket]").Attr("value")
		if mode, _ := d.Find("#lti-storage").Attr("data-mode"); page.StatusCode != 200 || mode != "get" || ticket == "" {
			t.Fatalf("launch without cookie: %d mode %q ticket %q\n%.300s", page.StatusCode, mode, ticket, page.Body)
		}
		if n := env.Count(t, "sessions"); n != 0 {
			t.Fatal("a session was granted before the browser confirmed the state")
		}
		forged := url.Values{"id_token": {ar.Fields.Get("id_token")}, "state": {ar.Fields.Get("state")}, "storage_ticket": {flip(ticket)}}
		if r, _ := cookieless.PostForm(ctx, ar.Action, forged); r.StatusCode != 200 || env.Count(t, "sessions") != 0 {
			t.Fatalf("a forged ticket was accepted: %d", r.StatusCode)
		}
		confirmed := url.Values{"id_token": {ar.Fields.Get("id_token")}, "state": {ar.Fields.Get("state")}, "storage_ticket": {ticket}}
		r, err := cookieless.PostForm(ctx, ar.Action, confirmed)
		if err != nil {
			t.Fatal(err)
		}
		mustSeeActivity(t, r, "Alice Mbeki", "Learner")
		if r, _ := cookieless.PostForm(ctx, ar.Action, confirmed); r.StatusCode != 401 {
			t.Fatalf("the confirmed launch replayed: %d", r.StatusCode)
		}
	})
}

// The page right after a returning person's launch is built from what the
// launch read; it must match the page the database gives on a reload.
func TestPageAfterRelaunchMatchesReload(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		env.Launch(t, apptest.Instructor, nil)
		env.Launch(t, apptest.Learner, nil)
		b, res := env.Launch(t, apptest.Learner, nil) // settled: nothing new to record
		mustSeeActivity(t, res, "Alice Mbeki", "Learner")
		reload, err := b.Get(context.Background(), res.URL)
		if err != nil {
			t.Fatal(err)
		}
		first, _ := doc(t, res.Body).Find("main").Html()
		again, _ := doc(t, reload.Body).Find("main").Html()
		if first != again {
			t.Fatalf("the page after the launch differs from the reload at line %s", firstDifference(first, again))
		}
		if got := text(doc(t, reload.Body), "[data-testid=cohort-size]"); got != "2 people in your cohort" {
			t.Errorf("cohort size %q", got)
		}
	})
}

// firstDifference is where two pages' lines first differ, with both
// lines and a few before them: short enough to survive a CI log's cut.
func firstDifference(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	i := 0
	for i < len(al) && i < len(bl) && al[i] == bl[i] {
		i++
	}
	line := func(ls []string, i int) string {
		if i < len(ls) {
			return ls[i]
		}
		return "(end)"
	}
	from := max(0, i-3)
	return fmt.Sprintf("%d:\n%s\n- %s\n+ %s", i+1, strings.Join(al[from:i], "\n"), line(al, i), line(bl, i))
}
