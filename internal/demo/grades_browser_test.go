package demo_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/roundtable-lms/roundtable/internal/browsertest"
	"github.com/roundtable-lms/roundtable/internal/demo"
)

// The demo's grade walkthrough: the instructor adds a graded discussion
// through "Add activity", a learner meets its completion rule and the demo
// gradebook shows the score; with the LMS's services switched to failing,
// another learner's score waits, and arrives once they recover.
func TestDemoGradedActivityReachesTheGradebook(t *testing.T) {
	t.Parallel()
	d := startDemo(t)
	ctx := browsertest.New(t)
	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	run("add an activity as the instructor",
		chromedp.Navigate(d.LMSURL),
		chromedp.WaitVisible(chromedp.CSS(`a.add-as[data-user="maya.chen"]`)),
		chromedp.Click(chromedp.CSS(`a.add-as[data-user="maya.chen"]`)),
		chromedp.WaitVisible(chromedp.CSS(`iframe#activity`)))
	title := "Week 3: one question about joins"
	inFrame(t, ctx, "fill in the chooser", func(f *chromedp.Node) chromedp.Action[chromedp.Void] {
		return chromedp.Steps(
			chromedp.SetValue(chromedp.CSS(`#title`), title, chromedp.FromNode(f)),
			// Ticked from the keyboard: a mouse click lands by coordinates,
			// which a page still laying out can move under it.
			chromedp.SendKeys(chromedp.CSS(`input[name=graded]`), " ", chromedp.FromNode(f)),
			chromedp.WaitReady(chromedp.CSS(`input[name=graded]:checked`), chromedp.FromNode(f)),
			chromedp.SetValue(chromedp.CSS(`#points`), "10", chromedp.FromNode(f)),
			chromedp.SetValue(chromedp.CSS(`#min_threads`), "1", chromedp.FromNode(f)),
			chromedp.Submit(chromedp.CSS(`form[data-testid=chooser]`), chromedp.FromNode(f)),
		)
	})
	run("back in the course", chromedp.WaitVisible(chromedp.CSS(`.deep-link-result`)))
	link := placedLink(t, d, title)
	if items := d.Platform.LineItems(demo.CourseID); len(items) == 0 {
		t.Fatal("the graded placement brought no gradebook column")
	}

	ask := func(learner, question string) {
		t.Helper()
		run("open the activity as "+learner,
			chromedp.Navigate(d.LMSURL),
			chromedp.WaitVisible(chromedp.CSS(`article[data-link="`+link+`"] a.open-as[data-user="`+learner+`"]`)),
			chromedp.Click(chromedp.CSS(`article[data-link="`+link+`"] a.open-as[data-user="`+learner+`"]`)),
			chromedp.WaitVisible(chromedp.CSS(`iframe#activity`)))
		inFrame(t, ctx, learner+" sees the rule", func(f *chromedp.Node) chromedp.Action[chromedp.Void] {
			return chromedp.WaitVisible(chromedp.CSS(`[data-testid=progress]`), chromedp.FromNode(f))
		})
		inFrame(t, ctx, learner+" opens the question form", func(f *chromedp.Node) chromedp.Action[chromedp.Void] {
			return chromedp.Click(chromedp.CSS(`[data-testid=ask]`), chromedp.FromNode(f))
		})
		inFrame(t, ctx, learner+" asks", func(f *chromedp.Node) chromedp.Action[chromedp.Void] {
			return chromedp.Steps(
				chromedp.SetValue(chromedp.CSS(`#title`), question, chromedp.FromNode(f)),
				chromedp.SetValue(chromedp.CSS(`#body`), "Inner or left join for the survey and the customer table?", chromedp.FromNode(f)),
				chromedp.Submit(chromedp.CSS(`form.post-form`), chromedp.FromNode(f)),
			)
		})
		inFrame(t, ctx, learner+"'s question opens", func(f *chromedp.Node) chromedp.Action[chromedp.Void] {
			return chromedp.WaitVisible(chromedp.CSS(`[data-testid=thread-title]`), chromedp.FromNode(f))
		})
	}
	gradebook := d.LMSURL + "/gradebook"
	score := func(learner string) string {
		if err := chromedp.Do(ctx, chromedp.Navigate(gradebook), chromedp.WaitVisible(chromedp.CSS(`h1`))); err != nil {
			t.Fatal(err)
		}
		s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(function () { var c = document.querySelector('tr.learner[data-user="`+learner+`"] td.grade strong.score'); return c ? c.textContent : ""; })()`))
		return strings.TrimSpace(s)
	}
	waitScore := func(learner, want string, limit time.Duration) {
		t.Helper()
		deadline := time.Now().Add(limit)
		for {
			got := score(learner)
			if got == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the gradebook shows %q for %s, want %q", got, learner, want)
			}
			time.Sleep(300 * time.Millisecond)
		}
	}

	ask("aisha.rahman", "Which join keeps unmatched rows?")
	waitScore("aisha.rahman", "10 / 10", 20*time.Second)

	// The LMS's services fail: the next score waits.
	run("switch the LMS to failing", chromedp.Navigate(gradebook), chromedp.Click(chromedp.CSS(`button[value=fail]`)), chromedp.WaitVisible(chromedp.CSS(`button[value=recover]`)))
	ask("kenji.watanabe", "Does a left join ever drop rows?")
	deadline := time.Now().Add(20 * time.Second)
	for !answered(d, http.StatusInternalServerError) {
		if time.Now().After(deadline) {
			t.Fatal("no delivery reached the failing LMS")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := score("kenji.watanabe"); got != "" {
		t.Fatalf("a score arrived while the LMS was failing: %q", got)
	}
	run("recover the LMS", chromedp.Navigate(gradebook), chromedp.Click(chromedp.CSS(`button[value=recover]`)), chromedp.WaitVisible(chromedp.CSS(`button[value=fail]`)))
	waitScore("kenji.watanabe", "10 / 10", 30*time.Second)
}

// answered reports whether the demo LMS answered a score request with status.
func answered(d *demo.Demo, status int) bool {
	for _, r := range d.Platform.ServiceRequests() {
		if r.Status == status && strings.HasSuffix(r.Path, "/scores") {
			return true
		}
	}
	return false
}
