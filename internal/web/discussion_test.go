package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/roundtable-lms/roundtable/internal/apptest"
	"github.com/roundtable-lms/roundtable/lti"
	"github.com/roundtable-lms/roundtable/lti/ltiplatform"
)

// member is a launched person with their browser and the page they are on.
type member struct {
	rt   string // the person's own session token
	t    testing.TB
	env  *apptest.Env
	b    *ltiplatform.Browser
	res  *ltiplatform.Result
	page *goquery.Document
}

func join(t testing.TB, env *apptest.Env, user string) *member {
	t.Helper()
	b, res := env.Launch(t, user, nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("launch %s: %d %.300s", user, res.StatusCode, res.Body)
	}
	// The first page after a launch carries the session's link token, which
	// tests use to open pages where the cookie is not sent; the pages after
	// it carry none while the cookie works.
	launched, _ := url.Parse(res.URL)
	rt := launched.Query().Get("rt")
	// Staff first set the seeded activity up, with the defaults.
	res = pastSetup(t, b, res)
	if u, _ := url.Parse(res.URL); u.Query().Get("rt") != "" {
		rt = u.Query().Get("rt")
	}
	return &member{rt: rt, t: t, env: env, b: b, res: res, page: doc(t, res.Body)}
}

// abs resolves a link or form action of the current page.
func (m *member) abs(href string) string {
	base, _ := url.Parse(m.res.URL)
	u, err := base.Parse(href)
	if err != nil {
		m.t.Fatalf("bad link %q: %v", href, err)
	}
	return u.String()
}

func (m *member) visit(res *ltiplatform.Result, err error) *ltiplatform.Result {
	m.t.Helper()
	if err != nil {
		m.t.Fatal(err)
	}
	m.res, m.page = res, doc(m.t, res.Body)
	return res
}

// follow opens the first link matching sel.
func (m *member) follow(sel string) *ltiplatform.Result {
	m.t.Helper()
	href, ok := m.page.Find(sel).First().Attr("href")
	if !ok {
		m.t.Fatalf("no link %s on %s", sel, m.res.URL)
	}
	return m.visit(m.b.Get(context.Background(), m.abs(href)))
}

// get opens a URL, such as one another person copied from their address
// bar, in this person's own session.
func (m *member) get(rawURL string) *ltiplatform.Result {
	m.t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		m.t.Fatal(err)
	}
	q := u.Query()
	if m.rt != "" {
		q.Set("rt", m.rt)
	} else {
		// The cookie carries this person's session; a token in the
		// address would be someone else's.
		q.Del("rt")
	}
	u.RawQuery = q.Encode()
	return m.visit(m.b.Get(context.Background(), u.String()))
}

// fields collects what a form sends as it stands.
func fields(form *goquery.Selection) url.Values {
	v := url.Values{}
	form.Find("input, textarea").Each(func(_ int, in *goquery.Selection) {
		name, _ := in.Attr("name")
		typ, _ := in.Attr("type")
		if name == "" || ((typ == "radio" || typ == "checkbox") && in.AttrOr("checked", "-") == "-") {
			return
		}
		if goquery.NodeName(in) == "textarea" {
			v.Set(name, in.Text())
		} else {
			v.Set(name, in.AttrOr("value", ""))
		}
	})
	return v
}

// submit posts the first form matching sel, with edits, and follows the redirect.
func (m *member) submit(sel string, edit map[string]string) *ltiplatform.Result {
	m.t.Helper()
	form := m.page.Find(sel).First()
	if form.Length() == 0 {
		m.t.Fatalf("no form %s on %s:\n%.2000s", sel, m.res.URL, m.res.Body)
	}
	v := fields(form)
	for k, val := range edit {
		v.Set(k, val)
	}
	return m.visit(m.b.PostForm(context.Background(), m.abs(form.AttrOr("action", "")), v))
}

// postForm finds the form containing the button sel within the post whose body contains text.
func postSel(d *goquery.Document, text string) *goquery.Selection {
	return d.Find("[data-testid=post]").FilterFunction(func(_ int, s *goquery.Selection) bool {
		return strings.Contains(s.Find("[data-testid=post-body]").Text(), text) || strings.Contains(s.Text(), text)
	}).Last()
}

func (m *member) postAction(text, button string) *ltiplatform.Result {
	m.t.Helper()
	p := postSel(m.page, text)
	form := p.Find("[data-testid=" + button + "]").Closest("form")
	if form.Length() == 0 {
		m.t.Fatalf("no %s form on the post %q:\n%.3000s", button, text, m.res.Body)
	}
	return m.visit(m.b.PostForm(context.Background(), m.abs(form.AttrOr("action", "")), fields(form)))
}

func (m *member) ask(kind, title, body string, extra map[string]string) *ltiplatform.Result {
	m.t.Helper()
	m.follow("[data-testid=ask]")
	edit := map[string]string{"kind": kind, "title": title, "body": body}
	for k, v := range extra {
		edit[k] = v
	}
	res := m.submit("form.post-form", edit)
	if res.StatusCode != http.StatusOK || !strings.Contains(res.URL, "/t/") {
		m.t.Fatalf("posting a thread ended at %s with %d:\n%.1500s", res.URL, res.StatusCode, res.Body)
	}
	return res
}

func (m *member) reply(body string) *ltiplatform.Result {
	m.t.Helper()
	return m.submit("#reply form", map[string]string{"body": body})
}

func TestQuestionAnsweredAcceptedAndVoted(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		alice := join(t, env, apptest.Learner)
		if alice.page.Find("[data-testid=empty]").Length() != 1 {
			t.Error("an empty discussion does not say so")
		}
		alice.ask("question", "How do I report a near miss?", "Is there a **form** for it?", map[string]string{"tags": "reporting forms"})
		threadURL := alice.res.URL
		if got := text(alice.page, "[data-testid=thread-title]"); got != "How do I report a near miss?" {
			t.Errorf("thread title %q", got)
		}
		if alice.page.Find("[data-testid=post-body] strong").Text() != "form" {
			t.Errorf("Markdown not rendered: %s", alice.page.Find("[data-testid=post-body]").Text())
		}

		bob := join(t, env, apptest.Learner2)
		items := bob.page.Find("[data-testid=thread]")
		if items.Length() != 1 || items.Find("[data-testid=unanswered]").Length() != 1 || !strings.Contains(items.Find("[data-testid=unread]").Text(), "1 new") {
			t.Fatalf("bob's list: %s", items.Text())
		}
		bob.follow("[data-testid=thread-link]")
		// Replying redirects to the new post.
		form := bob.page.Find("#reply form")
		resp, err := bob.b.HTTPClient().PostForm(bob.abs(form.AttrOr("action", "")), func() url.Values {
			v := fields(form)
			v.Set("body", "Use the near-miss form on the intranet.")
			return v
		}())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.Contains(loc, "#post-") || strings.Contains(loc, "rt=") {
			t.Errorf("reply answered %d to %q, want a 303 to the post, without a token since the cookie carries the session", resp.StatusCode, loc)
		}
		bob.get(threadURL)
		// A nested reply, and quoting, by links alone.
		bob.follow("[data-testid=quote]")
		if q := bob.page.Find("#reply-body").Text(); !strings.Contains(q, "> Is there a **form** for it?") {
			t.Errorf("quote does not pre-fill the reply: %q", q)
		}

		alice.get(threadURL)
		if alice.page.Find("[data-testid=accept]").Length() != 1 {
			t.Fatal("the asker has no accept button")
		}
		alice.postAction("near-miss form", "accept")
		if alice.page.Find("[data-testid=answered]").Length() != 1 || postSel(alice.page, "near-miss form").Find("[data-testid=accepted]").Length() != 1 {
			t.Errorf("accepted answer not shown")
		}
		bob.get(threadURL)
		if bob.page.Find("[data-testid=accept]").Length() != 0 {
			t.Error("a learner who did not ask may accept")
		}

		// Votes: one per person; a second press takes it back.
		ines := join(t, env, apptest.Instructor)
		ines.get(threadURL)
		ines.postAction("near-miss form", "vote")
		alice.postAction("near-miss form", "vote")
		votes := func(m *member) string { return postSel(m.page, "near-miss form").Find("[data-testid=votes]").Text() }
		if v := votes(alice); v != "2" {
			t.Errorf("votes %s, want 2", v)
		}
		alice.postAction("near-miss form", "vote")
		if v := votes(alice); v != "1" {
			t.Errorf("votes after alice takes hers back: %s, want 1", v)
		}
		if n := env.Count(t, "post_votes"); n != 1 {
			t.Errorf("%d vote rows", n)
		}
		// Staff pin and lock; a locked thread takes no learner replies.
		ines.submit("form:has([data-testid=flag-pinned])", nil)
		ines.submit("form:has([data-testid=flag-locked])", nil)
		if ines.page.Find("[data-testid=pinned]").Length() != 1 || ines.page.Find("[data-testid=locked]").Length() != 1 {
			t.Errorf("pin and lock not shown")
		}
		bob.get(threadURL)
		if bob.page.Find("#reply form").Length() != 0 || bob.page.Find("[data-testid=no-replies]").Length() != 1 {
			t.Error("a learner sees the reply form of a locked thread")
		}
		res, _ := bob.b.PostForm(context.Background(), strings.Split(threadURL, "?")[0]+"/replies", url.Values{"body": {"sneaky"}, "csrf": {fields(bob.page.Find("form").First()).Get("csrf")}})
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("reply to a locked thread: %d", res.StatusCode)
		}
		// Open pages of the cohort heard of each change, by ids alone.
		var types []string
		env.DB.Raw(`SELECT type FROM live_events ORDER BY id`).Scan(&types)
		if got := strings.Join(types, ","); !strings.HasPrefix(got, "thread.created,post.created,answer.accepted,vote,vote,vote,thread.updated,thread.updated") {
			t.Errorf("live events: %s", got)
		}
		var leaked int64
		env.DB.Raw(`SELECT COUNT(*) FROM live_events WHERE data LIKE '%near-miss%' OR data LIKE '%Bob%'`).Scan(&leaked)
		if leaked != 0 {
			t.Error("a live event carries post text or a name")
		}
		if bob.page.Find("body[data-live-src]").Length() != 1 {
			t.Error("the thread page does not listen for live updates")
		}
		// Participation events came with the actions.
		var kinds []string
		env.DB.Raw(`SELECT kind FROM participation_events ORDER BY id`).Scan(&kinds)
		if strings.Join(kinds, ",") != "thread_created,reply_created,answer_accepted,upvote_received,upvote_received" {
			t.Errorf("participation events: %v", kinds)
		}
	})
}

func TestEditKeepsHistoryAndRemovalKeepsReplies(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		alice := join(t, env, apptest.Learner)
		alice.ask("discussion", "Hazards in the warehouse", "Forklifts and blind corners.", nil)
		threadURL := alice.res.URL
		bob := join(t, env, apptest.Learner2)
		bob.get(threadURL)
		bob.reply("Wet floors near the loading dock.")
		// Alice answers Bob's reply: one level of nesting.
		alice.get(threadURL)
		alice.follow("#post-" + postSel(alice.page, "Wet floors").AttrOr("id", "")[5:] + " a:contains('Reply')")
		alice.reply("Good one, we put up signs.")
		if postSel(alice.page, "Wet floors").Closest(".reply").Find(".children [data-testid=post]").Length() != 1 {
			t.Fatalf("the answer to a reply is not nested under it:\n%.3000s", alice.res.Body)
		}
		bob.get(threadURL)
		if postSel(bob.page, "Good one").Find("[data-testid=edit]").Length() != 0 {
			t.Error("bob may edit alice's post")
		}
		bob.postActionFollow("Wet floors", "edit")
		bob.submit("form.post-form", map[string]string{"body": "Wet floors near the loading dock, every morning."})
		p := postSel(bob.page, "every morning")
		if p.Find("[data-testid=edited]").Length() != 1 {
			t.Fatal("an edited post does not say so")
		}
		bob.get(bob.abs(p.Find("[data-testid=edited]").AttrOr("href", "")))
		if !strings.Contains(bob.page.Find("[data-testid=revision]").Text(), "Wet floors near the loading dock.") {
			t.Errorf("history lacks the earlier text: %s", bob.page.Text())
		}
		bob.get(threadURL)
		bob.postAction("every morning", "delete")
		if bob.page.Find("[data-testid=removed]").Length() != 1 || !strings.Contains(bob.page.Text(), "Good one, we put up signs.") {
			t.Errorf("removal lost the reply to it:\n%.3000s", bob.res.Body)
		}
		if strings.Contains(bob.res.Body, "every morning") || bob.page.Find("[data-testid=removed-history]").Length() != 0 {
			t.Error("a removed post's text is still shown")
		}
		// Staff can still read what it said.
		ines := join(t, env, apptest.Instructor)
		ines.get(threadURL)
		ines.follow("[data-testid=removed-history]")
		if !strings.Contains(ines.page.Find("[data-testid=revision]").Last().Text(), "every morning") {
			t.Errorf("staff cannot read a removed post: %s", ines.page.Find("main").Text())
		}
	})
}

// postActionFollow opens a link (such as Edit) of the post containing text.
func (m *member) postActionFollow(text, link string) {
	m.t.Helper()
	href, ok := postSel(m.page, text).Find("[data-testid=" + link + "]").Attr("href")
	if !ok {
		m.t.Fatalf("no %s link on the post %q", link, text)
	}
	m.get(m.abs(href))
}

func TestAnonymousPostsAndXSS(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		alice := join(t, env, apptest.Learner)
		payload := "Look <script>alert(1)</script> <img src=x onerror=alert(2)> [click](javascript:alert(3)) [d](data:text/html,hi)"
		alice.ask("discussion", "Something I was afraid to say", payload, map[string]string{"anonymous": "1"})
		threadURL := alice.res.URL
		body := alice.page.Find("[data-testid=post-body]").First()
		html, _ := body.Html()
		low := strings.ToLower(html)
		if strings.Contains(low, "<script") || strings.Contains(low, "onerror") || strings.Contains(low, "javascript:") || strings.Contains(low, `href="data:`) {
			t.Errorf("XSS payload reached the page: %s", html)
		}
		bob := join(t, env, apptest.Learner2)
		bob.get(threadURL)
		if got := text(bob.page, "[data-testid=post] [data-testid=author]"); got != "Anonymous learner" {
			t.Errorf("a peer sees the author as %q", got)
		}
		if strings.Contains(bob.res.Body, "Alice") || strings.Contains(bob.res.Body, "Mbeki") {
			t.Error("the anonymous author's name is in a peer's page")
		}
		ines := join(t, env, apptest.Instructor)
		ines.get(threadURL)
		if got := text(ines.page, "[data-testid=post] [data-testid=author]"); got != "Alice Mbeki" || ines.page.Find("[data-testid=anon-note]").Text() != "(anonymous to learners)" {
			t.Errorf("staff see the author as %q %q", got, ines.page.Find("[data-testid=anon-note]").Text())
		}
		ines.follow("[data-testid=quote]")
		if q := ines.page.Find("#reply-body").Text(); !strings.Contains(q, "Anonymous learner") || strings.Contains(q, "Alice") {
			t.Errorf("a staff quote of an anonymous post names its author: %q", q)
		}
	})
}

func TestFormsNeedTheSessionsCSRFToken(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		alice := join(t, env, apptest.Learner)
		bob := join(t, env, apptest.Learner2)
		alice.follow("[data-testid=ask]")
		form := alice.page.Find("form.post-form")
		action := alice.abs(form.AttrOr("action", ""))
		good := fields(form)
		good.Set("title", "A valid title")
		good.Set("body", "text")
		bobsToken := fields(func() *goquery.Selection { bob.follow("[data-testid=ask]"); return bob.page.Find("form.post-form") }()).Get("csrf")
		for name, csrf := range map[string]string{"missing": "", "wrong": "nonsense", "another session's": bobsToken} {
			v := url.Values{}
			for k, vs := range good {
				v[k] = vs
			}
			if csrf == "" {
				v.Del("csrf")
			} else {
				v.Set("csrf", csrf)
			}
			res, err := alice.b.PostForm(context.Background(), action, v)
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != http.StatusForbidden {
				t.Errorf("%s CSRF token: %d, want 403", name, res.StatusCode)
			}
		}
		if n := env.Count(t, "threads"); n != 0 {
			t.Errorf("%d threads stored by refused forms", n)
		}
		res, _ := alice.b.PostForm(context.Background(), action, good)
		if res.StatusCode != http.StatusOK || env.Count(t, "threads") != 1 {
			t.Errorf("the genuine form: %d", res.StatusCode)
		}
	})
}

func TestBadInputKeepsTheTextAndRateLimits(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		alice := join(t, env, apptest.Learner)
		alice.follow("[data-testid=ask]")
		long := strings.Repeat("word ", 4001)
		res := alice.submit("form.post-form", map[string]string{"kind": "question", "title": "ok", "body": "my careful text"})
		if res.StatusCode != http.StatusUnprocessableEntity || alice.page.Find("#title[aria-invalid=true][aria-describedby~=title-error]").Length() != 1 {
			t.Errorf("short title: %d, field not marked", res.StatusCode)
		}
		if alice.page.Find("#body").Text() != "my careful text" {
			t.Error("the text was lost")
		}
		res = alice.submit("form.post-form", map[string]string{"title": "A fine title", "body": long})
		if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(text(alice.page, "#body-error"), "at most 20000 characters") {
			t.Errorf("long body: %d %q", res.StatusCode, text(alice.page, "#body-error"))
		}
		alice.submit("form.post-form", map[string]string{"body": "Short now."})
		threadURL := alice.res.URL
		// The default limit: a few posts a minute.
		var last *ltiplatform.Result
		for i := 0; i < 8; i++ {
			alice.get(threadURL)
			last = alice.reply("reply number " + strings.Repeat("x", i+1))
			if last.StatusCode != http.StatusOK {
				break
			}
		}
		if last.StatusCode != http.StatusTooManyRequests || !strings.Contains(text(alice.page, "[data-testid=form-error]"), "Wait a minute") || !strings.Contains(alice.page.Find("#reply-body").Text(), "reply number") {
			t.Errorf("rate limit: %d %q", last.StatusCode, text(alice.page, "[data-testid=form-error]"))
		}
	})
}

func TestDiscussionIsolationAndStaffActions(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		alice := join(t, env, apptest.Learner)
		alice.ask("question", "Course one question", "Only course one sees this.", nil)
		threadURL := strings.Split(alice.res.URL, "?")[0]
		threadPath := threadURL[strings.Index(threadURL, "/a/"):]
		linkA := strings.Split(threadPath, "/")[2]
		threadID := strings.Split(threadPath, "/")[4]
		opening := alice.page.Find("[data-testid=post]").First().AttrOr("id", "")[5:]
		aliceCSRF := fields(alice.page.Find("#reply form")).Get("csrf")

		// A learner may not use staff actions.
		for _, path := range []string{threadPath + "/flag", threadPath + "/p/" + opening + "/endorse"} {
			res, _ := alice.b.PostForm(context.Background(), alice.abs(path), url.Values{"csrf": {aliceCSRF}, "flag": {"pinned"}, "on": {"1"}})
			if res.StatusCode != http.StatusForbidden {
				t.Errorf("learner POST %s: %d, want 403", path, res.StatusCode)
			}
		}

		// A learner of another course, in an activity there.
		must(t, env.Platform.AddCourse(ltiplatform.Course{ID: "course-202", Label: "CHEM-202", Title: "Chemistry"}))
		must(t, env.Platform.AddUser(ltiplatform.User{ID: "learner-zed", Name: "Zed Other", Email: "zed@example.edu"}))
		must(t, env.Platform.Enroll("course-202", "learner-zed", lti.RoleLearner))
		must(t, env.Platform.AddResourceLink(ltiplatform.ResourceLink{ID: "link-chem", CourseID: "course-202", Title: "Chemistry forum"}))
		zb := ltiplatform.NewBrowser()
		res, err := zb.Launch(context.Background(), env.Platform, ltiplatform.LaunchRequest{ClientID: apptest.ClientID, UserID: "learner-zed", CourseID: "course-202", ResourceLinkID: "link-chem"})
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("zed's launch: %v %d", err, res.StatusCode)
		}
		zed := &member{t: t, env: env, b: zb, res: res, page: doc(t, res.Body)}
		if zed.page.Find("[data-testid=thread]").Length() != 0 || strings.Contains(res.Body, "Course one question") {
			t.Error("another course's list shows course one's thread")
		}
		zedURL, _ := url.Parse(res.URL)
		rt := zedURL.Query().Get("rt")
		linkZ := strings.Split(zedURL.Path, "/")[2]
		zed.follow("[data-testid=ask]")
		zedCSRF := fields(zed.page.Find("form.post-form")).Get("csrf")
		withRT := func(p string) string { return zed.abs(p + "?rt=" + url.QueryEscape(rt)) }
		// Through zed's own activity, guessing ids: not found.
		for _, p := range []string{"/a/" + linkZ + "/t/" + threadID, "/a/" + linkZ + "/t/" + threadID + "/p/" + opening + "/edit", "/a/" + linkZ + "/t/" + threadID + "/p/" + opening + "/history"} {
			r, _ := zb.Get(context.Background(), withRT(p))
			if r.StatusCode != http.StatusNotFound || strings.Contains(r.Body, "Only course one") {
				t.Errorf("GET %s: %d", p, r.StatusCode)
			}
		}
		for _, p := range []string{"/t/" + threadID + "/replies", "/t/" + threadID + "/flag", "/t/" + threadID + "/p/" + opening + "/vote",
			"/t/" + threadID + "/p/" + opening + "/accept", "/t/" + threadID + "/p/" + opening + "/edit", "/t/" + threadID + "/p/" + opening + "/delete"} {
			r, _ := zb.PostForm(context.Background(), withRT("/a/"+linkZ+p), url.Values{"csrf": {zedCSRF}, "body": {"intrusion"}, "flag": {"following"}, "on": {"1"}})
			if r.StatusCode != http.StatusNotFound {
				t.Errorf("POST %s through zed's activity: %d, want 404", p, r.StatusCode)
			}
		}
		// Through course one's activity with zed's session: no session there.
		for _, p := range []string{"/a/" + linkA, "/a/" + linkA + "/t/" + threadID} {
			r, _ := zb.Get(context.Background(), withRT(p))
			if r.StatusCode != http.StatusUnauthorized || strings.Contains(r.Body, "Only course one") {
				t.Errorf("GET %s with zed's session: %d", p, r.StatusCode)
			}
		}
		r, _ := zb.PostForm(context.Background(), withRT("/a/"+linkA+"/t/"+threadID+"/replies"), url.Values{"csrf": {zedCSRF}, "body": {"intrusion"}})
		if r.StatusCode != http.StatusUnauthorized {
			t.Errorf("reply through course one's activity: %d", r.StatusCode)
		}
		var n int64
		env.DB.Raw(`SELECT COUNT(*) FROM posts WHERE body = 'intrusion'`).Scan(&n)
		if n != 0 || env.Count(t, "post_votes") != 0 || env.Count(t, "thread_follows") != 1 {
			t.Errorf("zed changed course one's discussion")
		}
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestListSortsFiltersAndPages(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		ines := join(t, env, apptest.Instructor)
		for i := 0; i < 27; i++ {
			ines.get(env.App.URL("/a/" + strings.Split(strings.Split(ines.res.URL, "/a/")[1], "/")[0]))
			kind, tags := "discussion", "general"
			if i%3 == 0 {
				kind, tags = "question", "week1"
			}
			ines.ask(kind, "Thread number "+strings.Repeat("i", i+1), "body", map[string]string{"tags": tags})
		}
		alice := join(t, env, apptest.Learner)
		titles := func() []string {
			var out []string
			alice.page.Find("[data-testid=thread-link]").Each(func(_ int, s *goquery.Selection) { out = append(out, s.Text()) })
			return out
		}
		first := titles()
		if len(first) != 25 || alice.page.Find("[data-testid=unread]").Length() != 25 {
			t.Fatalf("first page: %d threads", len(first))
		}
		alice.follow("[data-testid=next-page]")
		if rest := titles(); len(rest) != 2 || rest[1] != "Thread number i" {
			t.Errorf("second page: %v", rest)
		}
		alice.follow("nav[aria-label='Filter threads'] a:contains('Questions')")
		if n := len(titles()); n != 9 || alice.page.Find("nav[aria-label='Filter threads'] a[aria-current]").Text() != "Questions" {
			t.Errorf("questions: %d", n)
		}
		alice.follow("nav[aria-label='Sort threads'] a:contains('Unanswered')")
		if got := titles(); len(got) != 9 || got[0] != "Thread number i" {
			t.Errorf("unanswered questions, oldest first: %v", got)
		}
		alice.follow("a.tag")
		if n := len(titles()); n != 9 || !strings.Contains(alice.res.URL, "tag=week1") {
			t.Errorf("tag filter: %d at %s", n, alice.res.URL)
		}
		alice.follow("nav[aria-label='Filter threads'] a:contains('Mine')")
		if alice.page.Find("[data-testid=empty]").Text() != "No threads match." {
			t.Error("an empty filter does not say so")
		}
	})
}
