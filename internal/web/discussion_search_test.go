package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/roundtable-lms/roundtable/internal/apptest"
	"github.com/roundtable-lms/roundtable/lti"
	"github.com/roundtable-lms/roundtable/lti/ltiplatform"
)

// otherCourseMember launches a learner of a second course, in an activity there.
func otherCourseMember(t *testing.T, env *apptest.Env) *member {
	t.Helper()
	must(t, env.Platform.AddCourse(ltiplatform.Course{ID: "course-303", Label: "BIO-303", Title: "Biology"}))
	must(t, env.Platform.AddUser(ltiplatform.User{ID: "learner-yara", Name: "Yara Other", Email: "yara@example.edu"}))
	must(t, env.Platform.Enroll("course-303", "learner-yara", lti.RoleLearner))
	must(t, env.Platform.AddResourceLink(ltiplatform.ResourceLink{ID: "link-bio", CourseID: "course-303", Title: "Biology forum"}))
	b := ltiplatform.NewBrowser()
	res, err := b.Launch(context.Background(), env.Platform, ltiplatform.LaunchRequest{ClientID: apptest.ClientID, UserID: "learner-yara", CourseID: "course-303", ResourceLinkID: "link-bio"})
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("yara's launch: %v", err)
	}
	u, _ := url.Parse(res.URL)
	return &member{rt: u.Query().Get("rt"), t: t, env: env, b: b, res: res, page: doc(t, res.Body)}
}

// linkOf is the activity's URL (…/a/<link>) of a page URL.
func linkOf(rawURL string) string {
	u, _ := url.Parse(rawURL)
	parts := strings.Split(u.Path, "/")
	return u.Scheme + "://" + u.Host + "/" + parts[1] + "/" + parts[2]
}

// home opens the activity's thread list.
func (m *member) home() { m.t.Helper(); m.get(linkOf(m.res.URL)) }

func TestSearchFindsOnlyWhatTheViewerMaySee(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		alice := join(t, env, apptest.Learner)
		alice.ask("question", "Confidence intervals explained", "What does a 95% interval mean?", map[string]string{"anonymous": "1"})
		titled := strings.Split(alice.res.URL, "?")[0]
		bob := join(t, env, apptest.Learner2)
		bob.home()
		bob.ask("discussion", "Weekly check-in", "How is everyone doing?", nil)
		bob.reply("Fine, though I still lack confidence in my plots.")
		// Snippets are the text readers see: the code span's text stays, the raw HTML goes.
		bob.reply("My `<script>alert(\"confidence\")</script>` <img src=x onerror=alert(1)> test")
		bob.reply("confidence secret, removed soon")
		bob.postAction("secret, removed soon", "delete")

		yara := otherCourseMember(t, env)
		yara.ask("question", "Confidence in biology", "confidence everywhere", nil)

		// The list's search form works without scripts (a GET form).
		bob.home()
		res := bob.submitGet("[data-testid=search-form]", map[string]string{"q": "confidence"})
		if res.StatusCode != http.StatusOK {
			t.Fatalf("search: %d", res.StatusCode)
		}
		results := bob.page.Find("[data-testid=result]")
		if results.Length() != 3 {
			t.Fatalf("%d results, want 3:\n%s", results.Length(), bob.page.Find("main").Text())
		}
		first := results.First()
		// The cookie carries the session: links carry no token.
		if href := first.Find("[data-testid=result-link]").AttrOr("href", ""); !strings.HasPrefix(bob.abs(href), titled) || strings.Contains(href, "rt=") || !strings.Contains(href, "#post-") {
			t.Errorf("the titled thread is not first, or its link is wrong: %q", href)
		}
		if first.Find("[data-testid=result-link] mark").Text() != "Confidence" || first.Find("[data-testid=author]").Text() != "Anonymous learner" {
			t.Errorf("first result: %s", first.Text())
		}
		if bob.page.Find("[data-testid=snippet] mark").Length() < 2 {
			t.Error("snippets are not highlighted")
		}
		if bob.page.Find("main script, main img").Length() != 0 || !strings.Contains(bob.page.Find("[data-testid=snippet]").Text(), `<script>alert("confidence")</script>`) {
			t.Errorf("a snippet is not escaped:\n%s", bob.res.Body)
		}
		if strings.Contains(bob.res.Body, "secret") || strings.Contains(bob.res.Body, "biology") {
			t.Error("search shows a removed post or another course's post")
		}
		// Following a result lands on the post.
		bob.follow("[data-testid=result-link]")
		if text(bob.page, "[data-testid=thread-title]") != "Confidence intervals explained" {
			t.Errorf("result link opens %s", bob.res.URL)
		}

		// Empty and too short queries say so; search syntax is just words.
		for q, want := range map[string]string{"": "Type a word", "a": "at least 2", `"(* -`: "at least 2", `"NEAR(* -`: "Nothing in your cohort", "zebra": "Nothing in your cohort"} {
			bob.get(linkOf(bob.res.URL) + "/search?q=" + url.QueryEscape(q))
			if bob.res.StatusCode != http.StatusOK || !strings.Contains(text(bob.page, "[data-testid=search-message]"), want) {
				t.Errorf("search %q: %d %q", q, bob.res.StatusCode, text(bob.page, "[data-testid=search-message]"))
			}
		}
		for _, q := range []string{`"confidence`, `confidence*`, `(confidence OR`, `NEAR(confidence plots)`, `-confidence`, `confiance à l'école`, `置信`} {
			bob.get(linkOf(bob.res.URL) + "/search?q=" + url.QueryEscape(q))
			if bob.res.StatusCode != http.StatusOK {
				t.Errorf("search %q: %d", q, bob.res.StatusCode)
			}
		}

		// Another course's learner finds nothing of course one.
		yara.get(linkOf(yara.res.URL) + "/search?q=confidence")
		if n := yara.page.Find("[data-testid=result]").Length(); n != 1 || strings.Contains(yara.res.Body, "intervals") {
			t.Errorf("yara's search: %d results", n)
		}
		// Nor through course one's activity with her session.
		r, _ := yara.b.Get(context.Background(), yara.abs(linkOf(alice.res.URL)+"/search?q=confidence&rt="+url.QueryEscape(yara.rt)))
		if r.StatusCode != http.StatusUnauthorized || strings.Contains(r.Body, "intervals") {
			t.Errorf("search through course one's activity with yara's session: %d", r.StatusCode)
		}
	})
}

// submitGet sends the GET form sel with edits, as a browser would.
func (m *member) submitGet(sel string, edit map[string]string) *ltiplatform.Result {
	m.t.Helper()
	form := m.page.Find(sel).First()
	if form.Length() == 0 {
		m.t.Fatalf("no form %s on %s", sel, m.res.URL)
	}
	v := fields(form)
	for k, val := range edit {
		v.Set(k, val)
	}
	u, _ := url.Parse(m.abs(form.AttrOr("action", "")))
	u.RawQuery = v.Encode()
	return m.visit(m.b.Get(context.Background(), u.String()))
}

func TestSuggestionsWhileTyping(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		alice := join(t, env, apptest.Learner)
		alice.ask("question", "How do I read a p-value?", "The lecture lost me.", nil)
		threadURL := strings.Split(alice.res.URL, "?")[0]
		alice.home()
		alice.ask("discussion", "Lunch plans", "Anyone around?", nil)

		bob := join(t, env, apptest.Learner2)
		bob.follow("[data-testid=ask]")
		region := bob.page.Find("[data-testid=suggestions]")
		if region.AttrOr("aria-live", "") != "polite" || bob.page.Find(`script[src*="suggest"]`).Length() != 1 {
			t.Fatal("the new-thread form has no live suggestion region or script")
		}
		suggestURL := bob.abs(region.AttrOr("data-suggest-url", ""))
		get := func(b *ltiplatform.Browser, u, title string) *ltiplatform.Result {
			t.Helper()
			r, err := b.Get(context.Background(), withQuery(t, u, "title", title))
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		r := get(bob.b, suggestURL, "reading a p-val")
		frag := doc(t, r.Body)
		links := frag.Find("[data-testid=suggestion]")
		if r.StatusCode != http.StatusOK || links.Length() != 1 || !strings.Contains(r.Body, "Similar questions in your cohort") {
			t.Fatalf("suggestions: %d %s", r.StatusCode, r.Body)
		}
		if href := links.AttrOr("href", ""); !strings.HasPrefix(bob.abs(href), threadURL) || strings.Contains(href, "rt=") {
			t.Errorf("suggestion link %q is not the thread's, or carries a token though the cookie carries the session", href)
		}
		if r := get(bob.b, suggestURL, "zebra crossings"); r.StatusCode != http.StatusOK || strings.TrimSpace(r.Body) != "" {
			t.Errorf("no match: %d %q", r.StatusCode, r.Body)
		}
		if r := get(bob.b, suggestURL, `"(*NEAR -`); r.StatusCode != http.StatusOK {
			t.Errorf("syntax in a title: %d", r.StatusCode)
		}

		// The endpoint needs the session of that activity.
		u, _ := url.Parse(suggestURL)
		q := u.Query()
		q.Del("rt")
		u.RawQuery = q.Encode()
		if r := get(ltiplatform.NewBrowser(), u.String(), "p-value"); r.StatusCode != http.StatusUnauthorized || strings.Contains(r.Body, "p-value") {
			t.Errorf("suggest without a session: %d", r.StatusCode)
		}
		yara := otherCourseMember(t, env)
		q.Set("rt", yara.rt)
		u.RawQuery = q.Encode()
		if r := get(yara.b, u.String(), "p-value"); r.StatusCode != http.StatusUnauthorized || strings.Contains(r.Body, "p-value") {
			t.Errorf("suggest with another activity's session: %d", r.StatusCode)
		}
		if r := get(yara.b, yara.abs(linkOf(yara.res.URL)+"/suggest?rt="+url.QueryEscape(yara.rt)), "reading a p-value"); r.StatusCode != http.StatusOK || strings.TrimSpace(r.Body) != "" {
			t.Errorf("another course's suggestions: %d %q", r.StatusCode, r.Body)
		}
	})
}

func TestStaffMarkDuplicates(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		alice := join(t, env, apptest.Learner)
		alice.ask("question", "How do I read a p-value?", "The lecture lost me.", nil)
		original := strings.Split(alice.res.URL, "?")[0]
		bob := join(t, env, apptest.Learner2)
		bob.ask("question", "p-value meaning?", "Same question.", nil)
		dup := strings.Split(bob.res.URL, "?")[0]
		dupPath := dup[strings.Index(dup, "/a/"):]
		bob.home()
		bob.ask("question", "What is a p value", "Again.", nil)
		dup2 := strings.Split(bob.res.URL, "?")[0]

		// Learners have no staff menu nor duplicate page, and may not post the form.
		if bob.page.Find("[data-testid=thread-staff-menu], [data-testid=mark-duplicate-link]").Length() != 0 {
			t.Error("a learner sees the staff menu")
		}
		if r, _ := bob.b.Get(context.Background(), bob.abs(dupPath+"/duplicate?rt="+url.QueryEscape(bob.rt))); r.StatusCode != http.StatusForbidden {
			t.Errorf("a learner opens the duplicate page: %d", r.StatusCode)
		}
		csrf := fields(bob.page.Find("#reply form")).Get("csrf")
		r, _ := bob.b.PostForm(context.Background(), bob.abs(dupPath+"/duplicate?rt="+url.QueryEscape(bob.rt)), url.Values{"csrf": {csrf}, "of": {original}})
		if r.StatusCode != http.StatusForbidden {
			t.Errorf("a learner marks a duplicate: %d", r.StatusCode)
		}

		ines := join(t, env, apptest.Instructor)
		// dup2 → dup first, then dup → original (by its link): dup2 follows, no chains.
		ines.get(dup2)
		ines.follow("[data-testid=mark-duplicate-link]")
		ines.submit("[data-testid=duplicate-form]", map[string]string{"of": dup})
		ines.get(dup)
		ines.follow("[data-testid=mark-duplicate-link]")
		ines.submit("[data-testid=duplicate-form]", map[string]string{"of": original + "?rt=whatever#post-1"})
		if !strings.Contains(ines.res.URL, "#duplicates") || text(ines.page, "[data-testid=duplicate-of] a") != "How do I read a p-value?" {
			t.Fatalf("after marking: %s %s", ines.res.URL, ines.page.Find("main").Text())
		}
		bob.get(dup2)
		if text(bob.page, "[data-testid=duplicate-of] a") != "How do I read a p-value?" {
			t.Errorf("a duplicate of a duplicate does not point to the original: %q", text(bob.page, "[data-testid=duplicate-of]"))
		}
		bob.follow("[data-testid=duplicate-of] a")
		if got := bob.page.Find("[data-testid=marked-duplicates] a").Length(); got != 2 || text(bob.page, "[data-testid=thread-title]") != "How do I read a p-value?" {
			t.Errorf("the original lists %d duplicates", got)
		}
		bob.home()
		if n := bob.page.Find("[data-testid=duplicate-of]").Length(); n != 2 {
			t.Errorf("the list marks %d duplicates, want 2", n)
		}
		// Self (directly, or through its own duplicate) and unknown threads are refused.
		for _, c := range []struct {
			on, of string
			want   int
		}{{original, original, http.StatusBadRequest}, {original, dup, http.StatusBadRequest}, {dup, "no-such-thread", http.StatusNotFound}} {
			ines.get(c.on)
			ines.follow("[data-testid=mark-duplicate-link]")
			if res := ines.submit("[data-testid=duplicate-form]", map[string]string{"of": c.of}); res.StatusCode != c.want {
				t.Errorf("mark %s as a duplicate of %s: %d, want %d", c.on, c.of, res.StatusCode, c.want)
			}
		}
		yara := otherCourseMember(t, env)
		yara.ask("question", "Biology p-value", "Elsewhere.", nil)
		ines.get(dup)
		ines.follow("[data-testid=mark-duplicate-link]")
		if res := ines.submit("[data-testid=duplicate-form]", map[string]string{"of": strings.Split(yara.res.URL, "?")[0]}); res.StatusCode != http.StatusNotFound {
			t.Errorf("a duplicate of another course's thread: %d", res.StatusCode)
		}
		// Unmarking.
		ines.get(dup)
		ines.submit("form:has([data-testid=unmark-duplicate])", nil)
		if ines.page.Find("[data-testid=duplicate-of]").Length() != 0 {
			t.Error("unmarking did not take")
		}
	})
}
