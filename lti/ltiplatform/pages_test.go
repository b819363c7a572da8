package ltiplatform_test

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/roundtable-lms/roundtable/lti/ltiplatform"
)

func TestHomeListsCourses(t *testing.T) {
	e := newEnv(t)
	res, err := ltiplatform.NewBrowser().Get(t.Context(), e.p.URL("/"))
	must(t, err)
	doc := parseHTML(t, res.Body)
	link := doc.one(t, "li.course a")
	if link.text() != "World History" || link.attr("href") != "/courses/c-101" {
		t.Errorf("course link %q %v", link.text(), link.Attr)
	}
	if got := doc.one(t, "html").attr("lang"); got != "en" {
		t.Errorf("lang %q", got)
	}
}

func TestCoursePageListsPeopleAndOpenAs(t *testing.T) {
	e := newEnv(t)
	res, err := ltiplatform.NewBrowser().Get(t.Context(), e.p.URL("/courses/c-101"))
	must(t, err)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	doc := parseHTML(t, res.Body)
	if h := doc.one(t, "h1").text(); h != "World History" {
		t.Errorf("h1 %q", h)
	}
	people := doc.all("tr.person")
	if len(people) != 3 {
		t.Fatalf("%d people", len(people))
	}
	if got := people[0].one(t, "th").text(); got != "Ana Lima" {
		t.Errorf("first person %q", got)
	}
	if got := people[0].one(t, ".badge").text(); got != "Instructor" {
		t.Errorf("Ana's badge %q", got)
	}
	if got := len(people[1].all("span.role")); got != 2 {
		t.Errorf("Ben has %d badges", got)
	}
	if got := people[2].one(t, ".badge").text(); got != "No role" {
		t.Errorf("Cy's badge %q", got)
	}
	acts := doc.all("article.activity")
	if len(acts) != 2 || acts[0].one(t, "h3").text() != "Week 1 discussion" {
		t.Fatalf("activities %d", len(acts))
	}
	opens := acts[0].all("a.open-as")
	if len(opens) != 3 || opens[1].text() != "Open as Ben Okafor" {
		t.Fatalf("open-as links %d", len(opens))
	}
	if got, want := opens[1].attr("href"), ltiplatform.LaunchPagePath("c-101", "rl-1", "u-ben"); got != want {
		t.Errorf("href %q, want %q", got, want)
	}

	res, err = ltiplatform.NewBrowser().Get(t.Context(), e.p.URL("/courses/nope"))
	must(t, err)
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("unknown course: %d", res.StatusCode)
	}
}

func TestLaunchPageEmbedsTool(t *testing.T) {
	e := newEnv(t)
	b := ltiplatform.NewBrowser()
	res, err := b.Get(t.Context(), e.p.URL(ltiplatform.LaunchPagePath("c-101", "rl-1", "u-ben")))
	must(t, err)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", res.StatusCode, res.Body)
	}
	doc := parseHTML(t, res.Body)
	if got := doc.one(t, "header.top p").text(); got != "Signed in to Demo LMS as Ben Okafor" {
		t.Errorf("header %q", got)
	}
	crumbs := doc.all("nav.crumbs li")
	if len(crumbs) != 3 || crumbs[1].one(t, "a").attr("href") != "/courses/c-101" {
		t.Errorf("breadcrumb %d", len(crumbs))
	}
	back := doc.all("main p a")
	if len(back) == 0 || back[0].text() != "Back to course" {
		t.Error("no Back to course link")
	}
	frame := doc.one(t, "iframe")
	if frame.attr("title") != "Roundtable activity" || frame.attr("allow") != "clipboard-write" {
		t.Errorf("iframe %v", frame.Attr)
	}
	src, err := url.Parse(frame.attr("src"))
	must(t, err)
	q := src.Query()
	if src.Scheme+"://"+src.Host+src.Path != e.tool.URL("/lti/login") || q.Get("lti_storage_target") != "_parent" ||
		q.Get("login_hint") != "u-ben" || q.Get("iss") != e.p.Issuer() {
		t.Errorf("iframe src %s", src)
	}
	script := doc.one(t, "script").text()
	for _, s := range []string{"lti.capabilities", "lti.put_data", "lti.get_data", "lti.frameResize", "event.source.postMessage"} {
		if !strings.Contains(script, s) {
			t.Errorf("storage script lacks %s", s)
		}
	}

	// The iframe's URL launches the tool, which learns the storage target.
	ar, err := b.Login(t.Context(), src.String())
	must(t, err)
	res, err = b.PostForm(t.Context(), ar.Action, ar.Fields)
	must(t, err)
	if res.StatusCode != 200 || ar.Fields.Get("lti_storage_target") != "_parent" {
		t.Fatalf("launch from the page: %d %s", res.StatusCode, res.Body)
	}

	for _, bad := range []string{
		ltiplatform.LaunchPagePath("c-101", "rl-404", "u-ben"),
		ltiplatform.LaunchPagePath("c-101", "rl-1", "ghost"),
	} {
		res, err := b.Get(t.Context(), e.p.URL(bad))
		must(t, err)
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d", bad, res.StatusCode)
		}
	}
}

func TestJWKS(t *testing.T) {
	e := newEnv(t)
	pub, err := fetchKey(t.Context(), e.p.JWKSURL(), e.p.KID())
	must(t, err)
	if !pub.Equal(e.p.PublicKey()) {
		t.Error("JWKS key differs from the signing key")
	}
	if e.p.KID() != ltiplatform.Thumbprint(e.p.PublicKey()) {
		t.Error("kid is not the thumbprint")
	}
	if e.p.AuthURL() != e.p.Issuer()+"/auth" || e.p.TokenURL() != e.p.Issuer()+"/token" ||
		e.p.JWKSURL() != e.p.Issuer()+"/.well-known/jwks.json" {
		t.Error("endpoint URLs")
	}
}

func TestKeyFileKeepsKID(t *testing.T) {
	file := filepath.Join(t.TempDir(), "keys", "platform.pem")
	cfg := ltiplatform.Config{Issuer: "http://127.0.0.1:9001", KeyFile: file}
	p1, err := ltiplatform.New(cfg)
	must(t, err)
	p2, err := ltiplatform.New(cfg)
	must(t, err)
	if p1.KID() != p2.KID() {
		t.Errorf("kid changed across runs: %s, %s", p1.KID(), p2.KID())
	}
	fi, err := os.Stat(file)
	must(t, err)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v", fi.Mode())
	}
	must(t, os.WriteFile(file, []byte("garbage"), 0o600))
	if _, err := ltiplatform.New(cfg); err == nil {
		t.Error("garbage key file accepted")
	}
}

func TestNewValidatesIssuer(t *testing.T) {
	for _, iss := range []string{"", "127.0.0.1:9001", "ftp://x", "http://x/?q=1"} {
		if _, err := ltiplatform.New(ltiplatform.Config{Issuer: iss}); err == nil {
			t.Errorf("issuer %q accepted", iss)
		}
	}
	p, err := ltiplatform.New(ltiplatform.Config{Issuer: "http://127.0.0.1:9001/"})
	must(t, err)
	if p.Issuer() != "http://127.0.0.1:9001" || p.URL("x") != "http://127.0.0.1:9001/x" {
		t.Errorf("issuer %q", p.Issuer())
	}
}

// The tool's Secure session cookie must survive on http://127.0.0.1.
func TestBrowserSendsSecureCookiesToLoopback(t *testing.T) {
	e := newEnv(t)
	b := ltiplatform.NewBrowser()
	login, err := e.p.StartLaunch(e.launch("u-ana", "rl-1"))
	must(t, err)
	ar, err := b.Login(t.Context(), login)
	must(t, err)
	if cs := b.Cookies(e.tool.URL("/lti/launch")); len(cs) != 1 || cs[0].Name != "tool_state" {
		t.Fatalf("cookies %v", cs)
	}
	// A fresh browser lacks the cookie: the tool refuses the state.
	res, err := ltiplatform.NewBrowser().PostForm(t.Context(), ar.Action, ar.Fields)
	must(t, err)
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("launch without the state cookie: %d", res.StatusCode)
	}
}
