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

// spaceOf splits a thread page's URL into its activity base (/a/<link>)
// and thread id.
func spaceOf(t *testing.T, threadURL string) (base, threadID string) {
	t.Helper()
	u, err := url.Parse(threadURL)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(u.Path, "/")
	if len(parts) < 5 {
		t.Fatalf("not a thread URL: %s", threadURL)
	}
	return "/a/" + parts[2], parts[4]
}

// flag flags the post containing text with a reason, through the form.
func (m *member) flag(text, reason, note string) {
	m.t.Helper()
	m.postActionFollow(text, "flag")
	res := m.submit("form.flag-form", map[string]string{"reason": reason, "note": note})
	if res.StatusCode != http.StatusOK || m.page.Find("[data-testid=flag-done]").Length() != 1 {
		m.t.Fatalf("flagging ended at %s with %d:\n%.1500s", res.URL, res.StatusCode, res.Body)
	}
}

func TestFlagHideRestoreAndTheLog(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		alice := join(t, env, apptest.Learner)
		alice.ask("discussion", "Hazards at the depot", "Pallets stacked too high.", nil)
		threadURL := alice.res.URL
		bob := join(t, env, apptest.Learner2)
		bob.get(threadURL)
		bob.reply("Buy cheap watches at spam.example")
		bob.reply("Also: loose cables by the door.")
		if postSel(bob.page, "cheap watches").Find("[data-testid=flag]").Length() != 0 {
			t.Error("the author may flag their own post")
		}

		// The flag form: a labelled group of reasons; a reason is required.
		alice.get(threadURL)
		alice.postActionFollow("cheap watches", "flag")
		if alice.page.Find("form.flag-form fieldset legend").Length() != 1 || alice.page.Find("label[for=reason-spam]").Length() != 1 ||
			alice.page.Find("input#reason-spam[type=radio][name=reason]").Length() != 1 {
			t.Errorf("the flag form lacks a labelled radio group:\n%.2000s", alice.res.Body)
		}
		res := alice.submit("form.flag-form", map[string]string{"note": "ads"})
		if res.StatusCode != http.StatusUnprocessableEntity || alice.page.Find("#reason-error").Length() != 1 || alice.page.Find("#note").Text() != "ads" {
			t.Errorf("flag without a reason: %d", res.StatusCode)
		}
		alice.get(threadURL)
		alice.flag("cheap watches", "spam", "An advert")
		// Flagging again changes nothing; flags are quiet to peers.
		alice.get(threadURL)
		alice.postActionFollow("cheap watches", "flag")
		if alice.page.Find("[data-testid=flag-done]").Length() != 1 {
			t.Error("a second visit to the flag form does not say it is flagged")
		}
		if n := env.Count(t, "post_flags"); n != 1 {
			t.Errorf("%d flags", n)
		}
		bob.get(threadURL)
		if strings.Contains(strings.ToLower(bob.page.Find("main").Text()), "flagged") {
			t.Error("the author learns of the flag")
		}
		if l := join(t, env, apptest.Learner2); l.page.Find("[data-testid=moderation-badge], [data-testid=moderation-link]").Length() != 0 {
			t.Error("a learner sees the moderation badge")
		}

		// Staff: the badge on the list leads to the queue.
		ines := join(t, env, apptest.Instructor)
		if got := text(ines.page, "[data-testid=moderation-badge]"); got != "1 post waits for moderation" {
			t.Errorf("badge %q", got)
		}
		ines.follow("[data-testid=moderation-badge]")
		item := ines.page.Find("[data-testid=flagged]")
		if item.Length() != 1 || text(ines.page, "[data-testid=flag-count] strong") != "1 flag" || text(ines.page, "[data-testid=flag-reason]") != "Spam (1)" ||
			!strings.Contains(item.Text(), "An advert") || !strings.Contains(item.Find("[data-testid=flagged-body]").Text(), "cheap watches") {
			t.Fatalf("queue:\n%.3000s", ines.res.Body)
		}
		if href := item.Find("[data-testid=post-link]").AttrOr("href", ""); !strings.Contains(href, "/t/") || !strings.Contains(href, "#post-") {
			t.Errorf("the queue does not link the post in context: %q", href)
		}
		if ines.page.Find("main h1").Length() != 1 || ines.page.Find("label[for^=reason-]").Length() == 0 {
			t.Error("the queue lacks its heading or labelled reason")
		}

		// Hide: learners see a placeholder, the reply to it counts no more.
		ines.submit("[data-testid=moderate-form]", map[string]string{"reason": "advertising"})
		if !strings.Contains(ines.res.URL, "/moderation") || ines.page.Find("[data-testid=queue-empty]").Length() != 1 || ines.page.Find("[data-testid=hidden-post]").Length() != 1 {
			t.Fatalf("after hiding, the queue:\n%.2000s", ines.res.Body)
		}
		alice.get(strings.Split(threadURL, "/t/")[0])
		if got := text(alice.page, "[data-testid=reply-count]"); got != "1 reply" {
			t.Errorf("a learner's list counts %q", got)
		}
		alice.get(threadURL)
		if strings.Contains(alice.res.Body, "cheap watches") || alice.page.Find("[data-testid=hidden-placeholder]").Length() != 1 || !strings.Contains(alice.res.Body, "loose cables") {
			t.Errorf("a learner's thread shows the hidden post or lost others:\n%.3000s", alice.res.Body)
		}
		ines.get(threadURL)
		if p := postSel(ines.page, "cheap watches"); p.Find("[data-testid=hidden]").Length() != 1 {
			t.Error("staff do not see the hidden post marked")
		}
		if got := text(ines.page, "#replies-heading"); got != "2 replies" {
			t.Errorf("staff see %q", got)
		}

		// Restore from the queue's hidden posts.
		ines.get(ines.abs(strings.Split(threadURL, "/t/")[0] + "/moderation"))
		ines.submit("form:has([data-testid=hidden-post] [data-testid=restore]), [data-testid=hidden-post] form", map[string]string{"reason": "a parody, on reflection"})
		alice.get(threadURL)
		if !strings.Contains(alice.res.Body, "cheap watches") {
			t.Error("a restored post stays hidden")
		}

		// Staff hide from the thread too, and lock from the queue after a new flag.
		ines.get(threadURL)
		ines.postAction("loose cables", "hide")
		if postSel(ines.page, "loose cables").Find("[data-testid=hidden]").Length() != 1 {
			t.Error("hiding from the thread did not mark the post")
		}
		alice.get(threadURL)
		alice.flag("cheap watches", "unkind", "")
		ines.get(ines.abs(strings.Split(threadURL, "/t/")[0] + "/moderation"))
		form := ines.page.Find("[data-testid=moderate-form]")
		v := fields(form)
		v.Set("reason", "cooling off")
		v.Set("on", "1")
		lock, _ := form.Find("[data-testid=lock]").Attr("formaction")
		ines.visit(ines.b.PostForm(context.Background(), ines.abs(lock), v))
		form = ines.page.Find("[data-testid=moderate-form]")
		dismiss, _ := form.Find("[data-testid=dismiss]").Attr("formaction")
		v = fields(form)
		v.Set("reason", "not unkind")
		ines.visit(ines.b.PostForm(context.Background(), ines.abs(dismiss), v))
		if ines.page.Find("[data-testid=queue-empty]").Length() != 1 {
			t.Error("dismissing left the flag in the queue")
		}
		alice.get(threadURL)
		if alice.page.Find("[data-testid=locked]").Length() != 1 {
			t.Error("locking from the queue did not lock the thread")
		}

		// The log: newest first, with actor and reason.
		ines.follow("[data-testid=moderation-log-link]")
		var got []string
		ines.page.Find("[data-testid=log-entry]").Each(func(_ int, s *goquery.Selection) {
			got = append(got, s.AttrOr("data-action", "")+"|"+strings.TrimSpace(s.Find("[data-testid=log-actor]").Text())+"|"+strings.TrimSpace(s.Find("[data-testid=log-reason]").Text()))
		})
		want := "dismiss|Ines Okafor|not unkind,lock|Ines Okafor|cooling off,hide|Ines Okafor|,restore|Ines Okafor|a parody, on reflection,hide|Ines Okafor|advertising"
		if strings.Join(got, ",") != want {
			t.Errorf("log:\n%s\nwant\n%s", strings.Join(got, ","), want)
		}
	})
}

func TestModerationIsForStaffOfTheCourse(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		alice := join(t, env, apptest.Learner)
		alice.ask("discussion", "A thread to moderate", "Opening text.", nil)
		threadURL := alice.res.URL
		base, threadID := spaceOf(t, threadURL)
		opening := alice.page.Find("[data-testid=post]").First().AttrOr("id", "")[5:]
		bob := join(t, env, apptest.Learner2)
		bob.get(threadURL)
		bob.reply("Bob's reply.")
		bobPost := postSel(bob.page, "Bob's reply.").AttrOr("id", "")[5:]
		bobCSRF := fields(bob.page.Find("#reply form")).Get("csrf")

		routes := []struct{ method, path string }{
			{http.MethodGet, "/moderation"},
			{http.MethodGet, "/moderation/log"},
			{http.MethodPost, "/moderation/p/" + opening + "/hide"},
			{http.MethodPost, "/moderation/p/" + opening + "/restore"},
			{http.MethodPost, "/moderation/p/" + opening + "/dismiss"},
			{http.MethodPost, "/moderation/t/" + threadID + "/lock"},
			{http.MethodPost, "/moderation/u/any-user/suspend"},
			{http.MethodPost, "/moderation/u/any-user/lift"},
		}
		for _, r := range routes {
			var res *ltiplatform.Result
			var err error
			if r.method == http.MethodGet {
				res, err = bob.b.Get(context.Background(), bob.abs(base+r.path))
			} else {
				res, err = bob.b.PostForm(context.Background(), bob.abs(base+r.path), url.Values{"csrf": {bobCSRF}, "on": {"1"}, "reason": {"x"}, "rt": {bob.rt}})
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != http.StatusForbidden {
				t.Errorf("learner %s %s: %d, want 403", r.method, r.path, res.StatusCode)
			}
		}
		if env.Count(t, "moderation_log") != 0 {
			t.Error("a learner's request reached the log")
		}
		// A teaching assistant moderates too.
		tom := join(t, env, apptest.Assistant)
		tom.get(tom.abs(base + "/moderation"))
		if tom.res.StatusCode != http.StatusOK || tom.page.Find("#moderation-heading").Length() != 1 {
			t.Errorf("a TA's queue: %d", tom.res.StatusCode)
		}
		// CSRF: a staff form without the token is refused.
		tom.get(threadURL)
		tomCSRF := fields(tom.page.Find("#reply form")).Get("csrf")
		res, _ := tom.b.PostForm(context.Background(), tom.abs(base+"/moderation/p/"+bobPost+"/hide"), url.Values{"thread": {threadID}, "rt": {tom.rt}})
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("hide without CSRF: %d", res.StatusCode)
		}
		res, _ = tom.b.PostForm(context.Background(), tom.abs(base+"/moderation/p/"+bobPost+"/hide"), url.Values{"thread": {threadID}, "csrf": {"nonsense"}, "rt": {tom.rt}})
		if res.StatusCode != http.StatusForbidden || env.Count(t, "moderation_log") != 0 {
			t.Errorf("hide with a wrong CSRF token: %d", res.StatusCode)
		}
		res, _ = tom.b.PostForm(context.Background(), tom.abs(base+"/moderation/p/"+bobPost+"/hide"), url.Values{"thread": {threadID}, "csrf": {tomCSRF}, "rt": {tom.rt}})
		if res.StatusCode != http.StatusOK || env.Count(t, "moderation_log") != 1 {
			t.Errorf("the TA's genuine hide: %d", res.StatusCode)
		}
		var bobID string
		env.DB.Raw(`SELECT author_id FROM posts WHERE id = ?`, bobPost).Scan(&bobID)

		// The instructor of another course, in their own activity, reaches nothing here.
		must(t, env.Platform.AddCourse(ltiplatform.Course{ID: "course-202", Label: "CHEM-202", Title: "Chemistry"}))
		must(t, env.Platform.AddUser(ltiplatform.User{ID: "instructor-olga", Name: "Olga Other", Email: "olga@example.edu"}))
		must(t, env.Platform.Enroll("course-202", "instructor-olga", lti.RoleInstructor))
		must(t, env.Platform.AddResourceLink(ltiplatform.ResourceLink{ID: "link-chem", CourseID: "course-202", Title: "Chemistry forum"}))
		ob := ltiplatform.NewBrowser()
		ores, err := ob.Launch(context.Background(), env.Platform, ltiplatform.LaunchRequest{ClientID: apptest.ClientID, UserID: "instructor-olga", CourseID: "course-202", ResourceLinkID: "link-chem"})
		if err != nil || ores.StatusCode != 200 {
			t.Fatalf("olga's launch: %v", err)
		}
		olga := &member{t: t, env: env, b: ob, res: ores, page: doc(t, ores.Body)}
		ou, _ := url.Parse(ores.URL)
		olga.rt = ou.Query().Get("rt")
		obase := "/a/" + strings.Split(ou.Path, "/")[2]
		olga.get(olga.abs(obase + "/moderation"))
		if olga.res.StatusCode != http.StatusOK || strings.Contains(olga.res.Body, "Bob's reply") {
			t.Errorf("another course's queue shows this course's posts")
		}
		olga.get(olga.abs(obase + "/new"))
		ocsrf := fields(olga.page.Find("form.post-form")).Get("csrf")
		withRT := func(p string) string { return olga.abs(p + "?rt=" + url.QueryEscape(olga.rt)) }
		for _, p := range []string{"/moderation/p/" + opening + "/hide", "/moderation/p/" + bobPost + "/restore", "/moderation/p/" + opening + "/dismiss",
			"/moderation/t/" + threadID + "/lock", "/moderation/u/" + bobID + "/suspend", "/t/" + threadID + "/p/" + opening + "/flag"} {
			r, _ := ob.PostForm(context.Background(), withRT(obase+p), url.Values{"csrf": {ocsrf}, "on": {"1"}, "reason": {"spam"}})
			if r.StatusCode != http.StatusNotFound {
				t.Errorf("olga POST %s: %d, want 404", p, r.StatusCode)
			}
		}
		// And through this course's activity her session is not valid.
		r, _ := ob.PostForm(context.Background(), withRT(base+"/moderation/p/"+opening+"/hide"), url.Values{"csrf": {ocsrf}})
		if r.StatusCode != http.StatusUnauthorized {
			t.Errorf("olga through course one's activity: %d", r.StatusCode)
		}
		if env.Count(t, "moderation_log") != 1 || env.Count(t, "course_suspensions") != 0 || env.Count(t, "post_flags") != 0 {
			t.Error("another course's staff changed this course's moderation")
		}
	})
}

func TestSuspendedLearnerReadsButCannotPost(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		alice := join(t, env, apptest.Learner)
		alice.ask("discussion", "Break room etiquette", "Clean up after yourself.", nil)
		threadURL := alice.res.URL
		base, _ := spaceOf(t, threadURL)
		bob := join(t, env, apptest.Learner2)
		bob.get(threadURL)
		bob.reply("Nobody cares, losers.")
		alice.get(threadURL)
		alice.flag("losers", "unkind", "Insulting")

		ines := join(t, env, apptest.Instructor)
		ines.get(ines.abs(base + "/moderation"))
		form := ines.page.Find("[data-testid=moderate-form]")
		suspend, ok := form.Find("[data-testid=suspend]").Attr("formaction")
		if !ok {
			t.Fatalf("no suspend button:\n%.3000s", ines.res.Body)
		}
		v := fields(form)
		v.Set("reason", "repeated insults")
		ines.visit(ines.b.PostForm(context.Background(), ines.abs(suspend), v))
		if ines.page.Find("[data-testid=suspended-member]").Length() != 1 || !strings.Contains(text(ines.page, "[data-testid=suspended-member]"), "Bob Lindqvist") {
			t.Fatalf("the queue does not list the suspension:\n%.3000s", ines.res.Body)
		}

		// Bob reads, but every form to post is replaced by the notice.
		bob.get(threadURL)
		if bob.res.StatusCode != http.StatusOK || bob.page.Find("#reply form").Length() != 0 || bob.page.Find("[data-testid=suspended-notice]").Length() != 1 {
			t.Errorf("a suspended learner's thread page:\n%.3000s", bob.res.Body)
		}
		csrf := fields(bob.page.Find("form").First()).Get("csrf")
		res, _ := bob.b.PostForm(context.Background(), bob.abs(strings.Split(threadURL, "?")[0]+"/replies"), url.Values{"body": {"still here"}, "csrf": {csrf}, "rt": {bob.rt}})
		if res.StatusCode != http.StatusForbidden || !strings.Contains(res.Body, "suspended you from posting") {
			t.Errorf("a suspended learner's reply: %d %.500s", res.StatusCode, res.Body)
		}
		res, _ = bob.b.PostForm(context.Background(), bob.abs(base+"/threads"), url.Values{"kind": {"question"}, "title": {"Let me in"}, "body": {"x"}, "csrf": {csrf}, "rt": {bob.rt}})
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("a suspended learner's new thread: %d", res.StatusCode)
		}
		bob.get(bob.abs(base))
		if bob.page.Find("[data-testid=ask]").Length() != 0 || bob.page.Find("[data-testid=suspended-notice]").Length() != 1 {
			t.Error("the list still offers a suspended learner to post")
		}
		bob.get(bob.abs(base + "/new"))
		if bob.page.Find("form.post-form").Length() != 0 || bob.page.Find("[data-testid=suspended-notice]").Length() != 1 {
			t.Error("the new-post page offers a suspended learner its form")
		}
		// Alice is not affected.
		alice.get(threadURL)
		if alice.reply("Thanks everyone.").StatusCode != http.StatusOK {
			t.Error("another learner cannot post")
		}

		// Lifting restores posting.
		ines.get(ines.abs(base + "/moderation"))
		ines.submit("[data-testid=suspended-member] form", map[string]string{"reason": "apologised"})
		bob.get(threadURL)
		if bob.page.Find("#reply form").Length() != 1 {
			t.Fatal("lifting did not bring back the reply form")
		}
		if res := bob.reply("Sorry about earlier."); res.StatusCode != http.StatusOK {
			t.Errorf("reply after lifting: %d", res.StatusCode)
		}
		ines.get(ines.abs(base + "/moderation/log"))
		var got []string
		ines.page.Find("[data-testid=log-entry]").Each(func(_ int, s *goquery.Selection) {
			got = append(got, s.AttrOr("data-action", "")+"|"+strings.TrimSpace(s.Find("[data-testid=log-target]").Text())+"|"+strings.TrimSpace(s.Find("[data-testid=log-reason]").Text()))
		})
		if strings.Join(got, ",") != "lift|Bob Lindqvist|apologised,suspend|Bob Lindqvist|repeated insults" {
			t.Errorf("log: %v", got)
		}
	})
}
