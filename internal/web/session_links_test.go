package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/roundtable-lms/roundtable/internal/apptest"
	"github.com/roundtable-lms/roundtable/internal/web"
	"github.com/roundtable-lms/roundtable/lti/ltiplatform"
)

// sessionURLs are the addresses on a page that lead back into the
// activity's session, forms aside: its links under /a/ and the addresses
// its scripts fetch.
func sessionURLs(d *goquery.Document) []string {
	var out []string
	d.Find("a[href^='/a/']").Each(func(_ int, s *goquery.Selection) {
		out = append(out, s.AttrOr("href", ""))
	})
	d.Find("[data-live-src], [data-suggest-url]").Each(func(_ int, s *goquery.Selection) {
		out = append(out, s.AttrOr("data-live-src", s.AttrOr("data-suggest-url", "")))
	})
	return out
}

// carriesToken reports whether a link or action of a page carries a token.
func carriesToken(t *testing.T, href string) bool {
	t.Helper()
	u, err := url.Parse(href)
	if err != nil {
		t.Fatalf("bad link %q: %v", href, err)
	}
	return u.Query().Get("rt") != ""
}

// mustCarryNoToken checks that no link, form or script address of a page
// carries the session token: the cookie carries the session.
func mustCarryNoToken(t *testing.T, m *member) {
	t.Helper()
	urls := sessionURLs(m.page)
	if len(urls) == 0 {
		t.Fatalf("no links on %s", m.res.URL)
	}
	for _, href := range urls {
		if carriesToken(t, href) {
			t.Errorf("%s: %q carries the token though the cookie came back", m.res.URL, href)
		}
	}
	m.page.Find("form").Each(func(_ int, f *goquery.Selection) {
		if carriesToken(t, f.AttrOr("action", "")) {
			t.Errorf("%s: form %q carries the token though the cookie came back", m.res.URL, f.AttrOr("action", ""))
		}
	})
	if n := m.page.Find("input[name=rt]").Length(); n != 0 {
		t.Errorf("%s: %d forms carry the token though the cookie came back", m.res.URL, n)
	}
	if _, ok := m.page.Find("body").Attr("data-rt"); ok {
		t.Errorf("%s: the page keeps a token fresh though the cookie came back", m.res.URL)
	}
	_, told := m.page.Find("body").Attr("data-session-cookie")
	if u, _ := url.Parse(m.res.URL); u.Query().Get("rt") != "" && !told {
		// The first page after the launch keeps the token in its address:
		// its script must be told to drop it.
		t.Errorf("%s: a page with the token in its address does not tell its script the cookie works", m.res.URL)
	}
}

// mustCarryToken checks that every link, form and script address of a
// page carries the session token: the cookie did not come back.
func mustCarryToken(t *testing.T, m *member) {
	t.Helper()
	urls := sessionURLs(m.page)
	if len(urls) == 0 {
		t.Fatalf("no links on %s", m.res.URL)
	}
	for _, href := range urls {
		if !carriesToken(t, href) {
			t.Errorf("%s: %q carries no token and no cookie came back", m.res.URL, href)
		}
	}
	m.page.Find("form").Each(func(_ int, f *goquery.Selection) {
		if !carriesToken(t, f.AttrOr("action", "")) && f.Find("input[name=rt]").Length() == 0 {
			t.Errorf("%s: form %q carries no token and no cookie came back", m.res.URL, f.AttrOr("action", ""))
		}
	})
	if m.page.Find("body").AttrOr("data-rt", "") == "" {
		t.Errorf("%s: the page does not keep its token fresh", m.res.URL)
	}
}

// Links and forms carry the link token exactly where the session cookie
// did not come back: a browser that keeps cookies gets pages without it
// (after the first, whose address its script cleans), and one that drops
// them (third-party cookies blocked in the LMS frame) gets it everywhere,
// through reading, posting and replying.
func TestLinksCarryTheTokenOnlyWhereTheCookieDidNotComeBack(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		alice := join(t, env, apptest.Learner)
		launchURL := alice.res.URL
		if u, _ := url.Parse(launchURL); u.Query().Get("rt") == "" {
			t.Fatalf("the launch's redirect carries no token: %s", launchURL)
		}
		if _, ok := alice.page.Find("body").Attr("data-session-cookie"); !ok {
			t.Error("the first page after the launch does not tell its script to drop the token from its address")
		}
		mustCarryNoToken(t, alice)
		alice.ask("question", "Where are the gloves kept?", "In the store room?", nil)
		if u, _ := url.Parse(alice.res.URL); u.Query().Get("rt") != "" {
			t.Errorf("the redirect after posting carries the token: %s", alice.res.URL)
		}
		mustCarryNoToken(t, alice)
		alice.reply("Found them, thanks.")
		if alice.res.StatusCode != http.StatusOK || !strings.Contains(alice.res.Body, "Found them, thanks.") {
			t.Fatalf("reply by cookie: %d", alice.res.StatusCode)
		}
		mustCarryNoToken(t, alice)
		alice.list()
		mustCarryNoToken(t, alice)

		// The same launch in a browser whose cookie never comes back.
		framed := &member{t: t, env: env, b: ltiplatform.NewBrowser()}
		framed.rt = alice.rt
		framed.visit(framed.b.Get(context.Background(), launchURL))
		if framed.res.StatusCode != http.StatusOK {
			t.Fatalf("page by token: %d", framed.res.StatusCode)
		}
		if _, ok := framed.page.Find("body").Attr("data-session-cookie"); ok {
			t.Error("a page without a cookie says the cookie carries its session")
		}
		mustCarryToken(t, framed)
		framed.follow("[data-testid=thread-link]")
		mustCarryToken(t, framed)
		framed.reply("And the goggles are beside them.")
		if framed.res.StatusCode != http.StatusOK || !strings.Contains(framed.res.Body, "And the goggles are beside them.") {
			t.Fatalf("reply by token: %d %.500s", framed.res.StatusCode, framed.res.Body)
		}
		if u, _ := url.Parse(framed.res.URL); u.Query().Get("rt") == "" {
			t.Errorf("the redirect after replying without a cookie lost the token: %s", framed.res.URL)
		}
		mustCarryToken(t, framed)
		framed.list()
		mustCarryToken(t, framed)
		framed.follow("[data-testid=ask]")
		mustCarryToken(t, framed)
	})
}

// Two activities open in two tabs of one browser keep their own sessions
// with cookies alone: each activity has its own cookie, so the second
// launch does not take the first activity's, and a post in one lands in
// that one.
func TestTwoActivitiesInTwoTabsKeepTheirOwnSessions(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		addLink(t, env, "link-second", nil)
		first := join(t, env, apptest.Learner)
		second := &member{t: t, env: env, b: first.b}
		res, err := first.b.Launch(context.Background(), env.Platform, ltiplatform.LaunchRequest{ClientID: apptest.ClientID,
			UserID: apptest.Learner, CourseID: apptest.CourseID, ResourceLinkID: "link-second"})
		second.visit(res, err)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("second launch: %d %.500s", res.StatusCode, res.Body)
		}
		firstPath, secondPath := pathOf(t, first.res.URL), pathOf(t, second.res.URL)
		if firstPath == secondPath {
			t.Fatalf("two activities, one page: %s", firstPath)
		}
		cookies := 0
		for _, c := range first.b.Cookies(env.App.URL("/")) {
			if strings.HasPrefix(c.Name, "rt_session_") {
				cookies++
			}
		}
		if cookies != 2 {
			t.Errorf("%d session cookies for two activities", cookies)
		}
		// Each tab goes on without tokens, in its own activity.
		first.visit(first.b.Get(context.Background(), env.App.URL(firstPath)))
		second.visit(second.b.Get(context.Background(), env.App.URL(secondPath)))
		if first.res.StatusCode != http.StatusOK || second.res.StatusCode != http.StatusOK {
			t.Fatalf("tabs by cookie: %d %d", first.res.StatusCode, second.res.StatusCode)
		}
		if a, b := text(first.page, "h1"), text(second.page, "h1"); a != "Week 1 discussion" || b == a {
			t.Errorf("the tabs show %q and %q", a, b)
		}
		mustCarryNoToken(t, first)
		mustCarryNoToken(t, second)
		first.ask("discussion", "Only in the first activity", "Posted from the first tab.", nil)
		if !strings.HasPrefix(pathOf(t, first.res.URL), firstPath+"/t/") {
			t.Errorf("a post from the first tab ended at %s", first.res.URL)
		}
		second.ask("discussion", "Only in the second activity", "Posted from the second tab.", nil)
		if !strings.HasPrefix(pathOf(t, second.res.URL), secondPath+"/t/") {
			t.Errorf("a post from the second tab ended at %s", second.res.URL)
		}
		first.visit(first.b.Get(context.Background(), env.App.URL(firstPath)))
		second.visit(second.b.Get(context.Background(), env.App.URL(secondPath)))
		if got := threadTitles(first.page); len(got) != 1 || got[0] != "Only in the first activity" {
			t.Errorf("first activity's threads: %q", got)
		}
		if got := threadTitles(second.page); len(got) != 1 || got[0] != "Only in the second activity" {
			t.Errorf("second activity's threads: %q", got)
		}
	})
}

// A browser keeps at most a few session cookies: launching many
// activities drops the oldest, and the newest still works by cookie.
func TestSessionCookiesAreBounded(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		b := ltiplatform.NewBrowser()
		var last string
		for i := range web.MaxSessionCookies + 2 {
			link := "link-many-" + string(rune('a'+i))
			addLink(t, env, link, nil)
			res, err := b.Launch(context.Background(), env.Platform, ltiplatform.LaunchRequest{ClientID: apptest.ClientID,
				UserID: apptest.Learner, CourseID: apptest.CourseID, ResourceLinkID: link})
			if err != nil || res.StatusCode != http.StatusOK {
				t.Fatalf("launch %s: %v", link, err)
			}
			last = pathOf(t, res.URL)
		}
		var names []string
		for _, c := range b.Cookies(env.App.URL("/")) {
			if strings.HasPrefix(c.Name, "rt_session_") {
				names = append(names, c.Name)
			}
		}
		if len(names) != web.MaxSessionCookies {
			t.Errorf("%d session cookies after %d launches, want %d", len(names), web.MaxSessionCookies+2, web.MaxSessionCookies)
		}
		res, err := b.Get(context.Background(), env.App.URL(last))
		if err != nil || res.StatusCode != http.StatusOK {
			t.Errorf("the newest activity by cookie: %v %d", err, res.StatusCode)
		}
	})
}

// withQuery sets a query parameter of rawURL, whether or not it has a query.
func withQuery(t *testing.T, rawURL, key, value string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
}
