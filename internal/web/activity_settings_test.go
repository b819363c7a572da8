package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/roundtable-lms/roundtable/internal/apptest"
)

func TestActivitySettingsFormValidatesAndKeepsWhatWasTyped(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		alice := join(t, env, apptest.Learner)
		if alice.page.Find("[data-testid=settings-link]").Length() != 0 || alice.page.Find("[data-testid=cohort-switcher]").Length() != 0 {
			t.Error("a learner is offered the staff's settings or switcher")
		}
		base := strings.SplitN(alice.res.URL, "?", 2)[0]
		if res := alice.get(base + "/settings"); res.StatusCode != http.StatusForbidden ||
			!strings.Contains(res.Body, "Only the course&#39;s instructors and teaching assistants can change this activity&#39;s settings") {
			t.Errorf("learner opening the settings: %d %.300s", res.StatusCode, res.Body)
		}

		ines := join(t, env, apptest.Instructor)
		ines.follow("[data-testid=settings-link]")
		form := ines.page.Find("[data-testid=settings-form]")
		// Every field is labelled.
		form.Find("input:not([type=hidden]), textarea, select").Each(func(_ int, in *goquery.Selection) {
			id, _ := in.Attr("id")
			labelled := (id != "" && ines.page.Find("label[for='"+id+"']").Length() == 1) || in.ParentsFiltered("label").Length() == 1
			if !labelled {
				t.Errorf("field %s has no label", in.AttrOr("name", "?"))
			}
		})
		for _, name := range []string{"kind", "instructions", "cohort_policy", "group_size", "allow_anonymous", "post_first", "graded",
			"points", "min_threads", "min_replies", "min_accepted", "min_upvotes", "credit"} {
			if form.Find("[name="+name+"]").Length() == 0 {
				t.Errorf("no field %s", name)
			}
		}

		// A number that is not one: refused beside its field, all kept.
		res := ines.postSettings(map[string]string{"group_size": "twelve", "instructions": "Read **chapter 2** first.", "cohort_policy": "groups"})
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("bad group size: %d", res.StatusCode)
		}
		if got := text(ines.page, "[data-testid=field-error][data-field=group_size]"); !strings.Contains(got, "Learners per group must be a whole number") {
			t.Errorf("group size error %q", got)
		}
		if ines.page.Find("#group_size").AttrOr("value", "") != "twelve" || ines.page.Find("#group_size").AttrOr("aria-invalid", "") != "true" ||
			ines.page.Find("#instructions").Text() != "Read **chapter 2** first." ||
			ines.page.Find("input[name=cohort_policy][value=groups]").AttrOr("checked", "-") == "-" {
			t.Errorf("the form did not keep what was typed:\n%.3000s", res.Body)
		}
		// Graded without a rule: the error names the rule.
		res = ines.postSettings(map[string]string{"group_size": "6", "graded": "1", "points": "20"})
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(text(ines.page, "[data-testid=field-error][data-field=min_threads]"), "needs a completion rule") {
			t.Errorf("graded without a rule: %d %q", res.StatusCode, text(ines.page, "[data-testid=form-error]"))
		}
		// Valid: saved, shown again, and the instructions head the list.
		ines.configure(map[string]string{"graded": "", "kind": "question_board", "group_size": "6"})
		if ines.page.Find("input[name=kind][value=question_board]").AttrOr("checked", "-") == "-" || ines.page.Find("#group_size").AttrOr("value", "") != "6" ||
			ines.page.Find("#instructions").Text() != "Read **chapter 2** first." {
			t.Errorf("saved settings not shown:\n%.3000s", ines.res.Body)
		}
		alice.get(base)
		if alice.page.Find("[data-testid=instructions] strong").Text() != "chapter 2" {
			t.Errorf("instructions not rendered on the list: %q", alice.page.Find("[data-testid=instructions]").Text())
		}
		// A question board offers questions.
		if alice.page.Find("[data-testid=ask]").Length() != 1 || alice.page.Find("[data-testid=start-discussion]").Length() != 0 {
			t.Error("a question board offers discussions")
		}
		// The form needs the session's CSRF token.
		form = ines.page.Find("[data-testid=settings-form]")
		v := fields(form)
		v.Del("csrf")
		if res := ines.visit(ines.b.PostForm(context.Background(), ines.abs(form.AttrOr("action", "")), v)); res.StatusCode != http.StatusForbidden {
			t.Errorf("settings without CSRF: %d", res.StatusCode)
		}
	})
}

func TestAnonymousPostsOffAreRefused(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		alice := join(t, env, apptest.Learner)
		alice.follow("[data-testid=ask]")
		if alice.page.Find("input[name=anonymous]").Length() != 1 {
			t.Fatal("anonymity is on by default, but the form has no anonymous option")
		}
		ines := join(t, env, apptest.Instructor)
		ines.configure(map[string]string{"allow_anonymous": ""})

		alice.list()
		alice.follow("[data-testid=ask]")
		if alice.page.Find("input[name=anonymous]").Length() != 0 {
			t.Error("the new thread form still offers anonymity")
		}
		// Forced anyway: refused, with the text kept.
		res := alice.submit("form.post-form", map[string]string{"kind": "question", "title": "Is the exam open book?", "body": "Asking for a friend.", "anonymous": "1"})
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(text(alice.page, "[data-testid=form-error]"), "does not allow anonymous posts") ||
			alice.page.Find("#title").AttrOr("value", "") != "Is the exam open book?" {
			t.Fatalf("anonymous thread: %d %q", res.StatusCode, text(alice.page, "[data-testid=form-error]"))
		}
		if n := env.Count(t, "threads"); n != 0 {
			t.Fatalf("%d threads stored", n)
		}
		alice.list()
		alice.ask("question", "Is the exam open book?", "Asking under my name.", nil)
		if alice.page.Find("input[name=anonymous]").Length() != 0 {
			t.Error("the reply form still offers anonymity")
		}
		res = alice.submit("#reply form", map[string]string{"body": "Still wondering.", "anonymous": "1"})
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "does not allow anonymous posts") ||
			alice.page.Find("#reply-body").Text() != "Still wondering." {
			t.Errorf("anonymous reply: %d", res.StatusCode)
		}
		var anonymous int64
		env.DB.Raw(`SELECT COUNT(*) FROM posts WHERE anonymous = TRUE`).Scan(&anonymous)
		if anonymous != 0 {
			t.Errorf("%d anonymous posts stored", anonymous)
		}
	})
}

func TestPostFirstHidesTheCohortUntilALearnerPosts(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		bob := join(t, env, apptest.Learner2)
		bob.ask("discussion", "Hazard: wet floor by the loading dock", "Nobody put up a sign.", nil)
		bobThread := bob.res.URL
		ines := join(t, env, apptest.Instructor)
		ines.configure(map[string]string{"post_first": "1", "instructions": "Describe one hazard you noticed."})

		alice := join(t, env, apptest.Learner)
		base := strings.SplitN(alice.res.URL, "?", 2)[0]
		if alice.page.Find("[data-testid=post-first]").Length() != 1 || alice.page.Find("[data-testid=thread]").Length() != 0 {
			t.Fatalf("alice sees the list before posting:\n%.3000s", alice.res.Body)
		}
		if !strings.Contains(text(alice.page, "[data-testid=post-first]"), "Post your response to see your cohort's") ||
			!strings.Contains(text(alice.page, "[data-testid=instructions]"), "Describe one hazard") {
			t.Errorf("notice or instructions missing")
		}
		// Others' threads: a page that says why; search and suggestions: nothing.
		if res := alice.get(bobThread); res.StatusCode != http.StatusForbidden ||
			!strings.Contains(res.Body, "post your own response first") {
			t.Errorf("alice opening bob's thread: %d", res.StatusCode)
		}
		alice.get(base + "/search?q=hazard")
		if alice.page.Find("[data-testid=result]").Length() != 0 {
			t.Error("search shows bob's thread before alice posted")
		}
		alice.get(base + "/suggest?title=" + url.QueryEscape("wet floor hazard"))
		if strings.Contains(alice.res.Body, "wet floor") {
			t.Error("suggestions show bob's thread before alice posted")
		}
		// Staff are unaffected.
		ines.get(base)
		if ines.page.Find("[data-testid=post-first]").Length() != 0 || len(threadTitles(ines.page)) != 1 {
			t.Errorf("staff list: %v", threadTitles(ines.page))
		}
		// Once alice posts, her cohort opens.
		alice.get(base)
		alice.ask("discussion", "Hazard: a frayed cable in the lab", "Reported it to the technician.", nil)
		alice.get(base)
		if alice.page.Find("[data-testid=post-first]").Length() != 0 || len(threadTitles(alice.page)) != 2 {
			t.Errorf("after posting alice sees %v", threadTitles(alice.page))
		}
		if res := alice.get(bobThread); res.StatusCode != http.StatusOK {
			t.Errorf("after posting alice cannot open bob's thread: %d", res.StatusCode)
		}
		alice.get(base + "/search?q=hazard")
		if alice.page.Find("[data-testid=result]").Length() != 2 {
			t.Errorf("search after posting: %d results", alice.page.Find("[data-testid=result]").Length())
		}
	})
}
