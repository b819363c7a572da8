package web_test

import (
	"context"
	"database/sql"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable/internal/activity"
	"github.com/roundtable-lms/roundtable/internal/apptest"
	"github.com/roundtable-lms/roundtable/internal/config"
	"github.com/roundtable-lms/roundtable/internal/course"
	"github.com/roundtable-lms/roundtable/internal/grade"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
	"github.com/roundtable-lms/roundtable/lti/ltiplatform"
)

// Grades a learner must not be able to game, tried as the outside review
// tried them: one learner with a script, through the pages and forms, and
// the built-in LMS's gradebook.

// eachDBGrades runs fn on both databases with grade delivery tuned by
// tune, at the same time as the package's other parallel tests.
func eachDBGrades(t *testing.T, tune grade.Config, fn func(t *testing.T, env *apptest.Env)) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			fn(t, apptest.StartWith(t, kind, func(c *config.Config) {
				tune.PollInterval = 50 * time.Millisecond
				c.Grades = config.GradeDelivery(tune)
			}))
		})
	}
}

var fastGrades = grade.Config{BackoffBase: 20 * time.Millisecond, BackoffMax: 200 * time.Millisecond, MaxAttempts: 4}

// setActivity gives the seeded activity settings: graded for 10 points
// under rule with credit, and post-first as asked.
func setActivity(t *testing.T, env *apptest.Env, rule activity.CompletionRule, credit string, postFirst bool) string {
	t.Helper()
	ctx := context.Background()
	var linkID string
	if err := env.DB.Raw(`SELECT id FROM resource_links WHERE resource_link_id = ?`, apptest.LinkID).Scan(&linkID).Error; err != nil || linkID == "" {
		t.Fatalf("the activity is not recorded yet: %v", err)
	}
	st := course.DefaultSettings(env.Registered.ID, linkID)
	st.Graded, st.Points, st.UpdatedBy = !rule.Empty(), 10, "ines"
	st.Options = activity.DiscussionOptions{AllowAnonymous: true, Rule: rule, Credit: credit, PostFirst: postFirst}
	err := env.DB.Tx(ctx, func(tx *gorm.DB) error {
		if err := env.App.Courses.SaveSettings(ctx, tx, st); err != nil {
			return err
		}
		return env.App.Grades.RecomputeActivity(ctx, tx, env.Registered.ID, linkID)
	})
	if err != nil {
		t.Fatal(err)
	}
	return linkID
}

// postForm is the form of button (a data-testid) on the post whose text
// contains text, as an absolute URL and its fields.
func (m *member) postForm(text, button string) (string, url.Values) {
	m.t.Helper()
	form := postSel(m.page, text).Find("[data-testid=" + button + "]").Closest("form")
	if form.Length() == 0 {
		m.t.Fatalf("no %s form on the post %q of %s (%d):\n%.3000s", button, text, m.res.URL, m.res.StatusCode, m.res.Body)
	}
	return m.abs(form.AttrOr("action", "")), fields(form)
}

// postActionURL is the URL of action (vote, accept...) on the post whose
// text contains text, with a post form's fields (csrf, rt): for an
// action the page does not offer, such as upvoting one's own post.
func (m *member) postActionURL(text, action string) (string, url.Values) {
	m.t.Helper()
	id := strings.TrimPrefix(postSel(m.page, text).AttrOr("id", ""), "post-")
	// Any of the page's post forms carries the csrf and rt fields.
	reply := m.page.Find("form[method=post] input[name=csrf]").First().Closest("form")
	if id == "" || reply.Length() == 0 {
		m.t.Fatalf("no post %q or no reply form on %s:\n%.3000s", text, m.res.URL, m.res.Body)
	}
	thread, err := url.Parse(m.res.URL)
	if err != nil {
		m.t.Fatal(err)
	}
	thread.Path += "/p/" + id + "/" + action
	thread.RawQuery, thread.Fragment = "", ""
	return thread.String(), fields(reply)
}

// scoreOf is the LMS gradebook's newest score of a person, when it has one.
func scoreOf(env *apptest.Env, user string) (float64, bool) {
	s, ok := latestScore(env, user)
	if !ok || s.ScoreGiven == nil {
		return 0, false
	}
	return *s.ScoreGiven, true
}

func waitForScore(t *testing.T, env *apptest.Env, user string, want float64) {
	t.Helper()
	waitUntil(t, user+"'s score of "+strconv.FormatFloat(want, 'g', -1, 64)+" in the gradebook", func() bool {
		got, ok := scoreOf(env, user)
		return ok && got == want
	})
}

// scoreRequests counts the score requests the LMS answered.
func scoreRequests(env *apptest.Env) int {
	n := 0
	for _, r := range env.Platform.ServiceRequests() {
		if strings.HasSuffix(r.Path, "/scores") {
			n++
		}
	}
	return n
}

// Accepting one's own reply is refused and not offered, and counts
// nowhere: the progress panel and the gradebook keep 0 of 1 accepted.
func TestOwnReplyCannotBeAcceptedNorGraded(t *testing.T) {
	eachDBGrades(t, fastGrades, func(t *testing.T, env *apptest.Env) {
		join(t, env, apptest.Instructor)
		setActivity(t, env, activity.CompletionRule{MinAccepted: 1}, activity.CreditFull, false)
		alice := join(t, env, apptest.Learner)
		alice.ask("question", "Who signs the permit?", "For hot work.", nil)
		alice.reply("Answering myself: the site manager.")
		if alice.page.Find("[data-testid=accept]").Length() != 0 {
			t.Error("the asker is offered to accept her own reply")
		}
		u, v := alice.postActionURL("Answering myself", "accept")
		res := alice.visit(alice.b.PostForm(context.Background(), u, v))
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(res.Body, "cannot accept your own reply") {
			t.Fatalf("accepting her own reply: %d\n%.600s", res.StatusCode, res.Body)
		}
		alice.get(alice.activityURL(""))
		if p := text(alice.page, "[data-testid=progress]"); !strings.Contains(p, "0 of 1 accepted answers") {
			t.Errorf("alice's progress: %q", p)
		}
		waitForScore(t, env, apptest.Learner, 0)
		if s, _ := latestScore(env, apptest.Learner); s.ActivityProgress == grade.ActivityCompleted {
			t.Errorf("the gradebook holds a completed score: %+v", s)
		}
		// An answer from someone else is offered, accepted and counts.
		bob := join(t, env, apptest.Learner2)
		bob.follow("[data-testid=thread-link]")
		bob.reply("The site manager, after the fire watch is set.")
		alice.get(bob.res.URL)
		alice.postAction("fire watch", "accept")
		waitForScore(t, env, apptest.Learner2, 10)
	})
}

// Hiding the accepted reply, then the question it answers, then the
// author's own thread takes their credit away in the gradebook; restoring
// gives it back.
func TestHiddenPostsLoseTheirCredit(t *testing.T) {
	eachDBGrades(t, fastGrades, func(t *testing.T, env *apptest.Env) {
		ines := join(t, env, apptest.Instructor)
		setActivity(t, env, activity.CompletionRule{MinThreads: 1, MinAccepted: 1}, activity.CreditProportional, false)
		bob := join(t, env, apptest.Learner2)
		bob.ask("question", "Where is the eyewash station?", "In building B?", nil)
		questionURL := bob.res.URL
		alice := join(t, env, apptest.Learner)
		alice.ask("discussion", "My near miss this week", "A pallet left in the corridor.", nil)
		ownURL := alice.res.URL
		alice.get(questionURL)
		alice.reply("Next to the lab door in building B.")
		bob.get(questionURL)
		bob.postAction("lab door", "accept")
		waitForScore(t, env, apptest.Learner, 10)

		progress := func() string {
			alice.get(alice.activityURL(""))
			return text(alice.page, "[data-testid=progress]")
		}
		ines.get(questionURL)
		ines.postAction("lab door", "hide")
		waitForScore(t, env, apptest.Learner, 5)
		if p := progress(); !strings.Contains(p, "0 of 1 accepted answers") {
			t.Errorf("alice's progress with her answer hidden: %q", p)
		}
		ines.get(questionURL)
		ines.postAction("lab door", "restore")
		waitForScore(t, env, apptest.Learner, 10)

		// The question itself hidden: the answer in it no longer counts.
		ines.get(questionURL)
		ines.postAction("building B?", "hide")
		waitForScore(t, env, apptest.Learner, 5)
		ines.get(ownURL)
		ines.postAction("pallet", "hide")
		waitForScore(t, env, apptest.Learner, 0)
		if p := progress(); !strings.Contains(p, "0 of 1 threads started") {
			t.Errorf("alice's progress with her thread hidden: %q", p)
		}
		for _, u := range []string{ownURL, questionURL} {
			ines.get(u)
			ines.postAction(map[string]string{ownURL: "pallet", questionURL: "building B?"}[u], "restore")
		}
		waitForScore(t, env, apptest.Learner, 10)
	})
}

// A suspended learner can neither upvote nor accept: another learner's
// grade does not move.
func TestSuspendedLearnerCannotVoteOrAccept(t *testing.T) {
	eachDBGrades(t, fastGrades, func(t *testing.T, env *apptest.Env) {
		ines := join(t, env, apptest.Instructor)
		setActivity(t, env, activity.CompletionRule{MinAccepted: 1, MinUpvotes: 1}, activity.CreditProportional, false)
		bob := join(t, env, apptest.Learner2)
		bob.ask("question", "Can I skip the induction?", "I did one last year.", nil)
		questionURL := bob.res.URL
		alice := join(t, env, apptest.Learner)
		alice.get(questionURL)
		alice.reply("No: the induction is yearly.")
		bob.get(questionURL)
		bob.reply("Whatever, nobody checks.")
		alice.get(questionURL)
		alice.flag("nobody checks", "unkind", "Dismissive")
		base, _ := spaceOf(t, questionURL)
		ines.get(ines.abs(base + "/moderation"))
		form := ines.page.Find("[data-testid=moderate-form]")
		suspend, ok := form.Find("[data-testid=suspend]").Attr("formaction")
		if !ok {
			t.Fatalf("no suspend button:\n%.3000s", ines.res.Body)
		}
		v := fields(form)
		v.Set("reason", "dismissive of safety rules")
		ines.visit(ines.b.PostForm(context.Background(), ines.abs(suspend), v))

		waitForScore(t, env, apptest.Learner, 0)
		requests := scoreRequests(env)
		for _, action := range []string{"vote", "accept"} {
			bob.get(questionURL)
			u, v := bob.postActionURL("induction is yearly", action)
			res := bob.visit(bob.b.PostForm(context.Background(), u, v))
			if res.StatusCode != http.StatusForbidden || !strings.Contains(res.Body, "suspended you from posting") {
				t.Errorf("a suspended learner's %s: %d\n%.600s", action, res.StatusCode, res.Body)
			}
		}
		alice.get(questionURL)
		if n := postSel(alice.page, "induction is yearly").Find("[data-testid=votes]").Text(); n != "0 upvotes" {
			t.Errorf("alice's answer has %s votes", n)
		}
		if postSel(alice.page, "induction is yearly").Find("[data-testid=accepted]").Length() != 0 {
			t.Error("alice's answer was accepted by a suspended learner")
		}
		if s, _ := scoreOf(env, apptest.Learner); s != 0 || scoreRequests(env) != requests {
			t.Errorf("alice's gradebook moved: %v (%d score requests, %d before)", s, scoreRequests(env), requests)
		}
	})
}

// Scores of an LMS the administrator disabled wait, held, and say why;
// enabling it sends them without anyone retrying.
func TestDisabledLMSHoldsScoresUntilEnabled(t *testing.T) {
	eachDBGrades(t, grade.Config{BackoffBase: time.Second, BackoffMax: time.Second, MaxAttempts: 10}, func(t *testing.T, env *apptest.Env) {
		join(t, env, apptest.Instructor) // staff set the activity up first
		setActivity(t, env, activity.CompletionRule{MinThreads: 1}, activity.CreditFull, false)
		// The LMS fails the first try, so the score still waits when the
		// administrator disables the LMS.
		env.Platform.FailServices(ltiplatform.Fault{Status: http.StatusServiceUnavailable})
		alice := join(t, env, apptest.Learner)
		alice.ask("discussion", "Ladders in the warehouse", "Two are missing their feet.", nil)
		waitUntil(t, "the first try", func() bool { return len(env.Platform.ServiceRequests()) > 0 })
		c := newAdmin(t, env)
		c.get("/admin/platforms/" + env.Registered.ID)
		c.post("/admin/platforms/"+env.Registered.ID+"/disable", nil)
		env.Platform.ClearServiceFault()
		requests := scoreRequests(env)

		// Sessions of a disabled LMS end (within the access check's few
		// seconds), so the instructor cannot open the Grades page now: the
		// console says why the score waits.
		waitUntil(t, "alice's score held", func() bool {
			c.get("/admin/grades")
			return strings.Contains(text(c.page, "[data-testid=grades-held]"), "1 score is held")
		})
		if n := scoreRequests(env); n != requests {
			t.Fatalf("%d score requests reached a disabled LMS", n-requests)
		}

		c.get("/admin/platforms/" + env.Registered.ID)
		c.post("/admin/platforms/"+env.Registered.ID+"/enable", nil)
		waitForScore(t, env, apptest.Learner, 10)
	})
}

// The post-first gate opens on the learner's own response and closes
// again when that placeholder is removed.
func TestPostFirstGateClosesWhenThePlaceholderIsRemoved(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		join(t, env, apptest.Instructor)
		bob := join(t, env, apptest.Learner2)
		bob.ask("discussion", "My reflection on week 1", "Housekeeping matters most.", nil)
		bobsURL := bob.res.URL
		setActivity(t, env, activity.CompletionRule{}, activity.CreditFull, true)

		alice := join(t, env, apptest.Learner)
		if res := alice.get(bobsURL); res.StatusCode != http.StatusForbidden {
			t.Fatalf("bob's thread before alice posted: %d", res.StatusCode)
		}
		alice.get(alice.activityURL(""))
		alice.ask("discussion", "...", ".", nil)
		if res := alice.get(bobsURL); res.StatusCode != http.StatusOK {
			t.Fatalf("bob's thread after alice's placeholder: %d", res.StatusCode)
		}
		alice.get(alice.activityURL(""))
		alice.follow("[data-testid=thread-link]:contains('...')")
		alice.postAction(".", "delete")
		if res := alice.get(bobsURL); res.StatusCode != http.StatusForbidden || !strings.Contains(res.Body, "post your own response first") {
			t.Errorf("bob's thread once alice removed her placeholder: %d", res.StatusCode)
		}
		alice.get(alice.activityURL(""))
		if alice.page.Find("[data-testid=thread-link]:contains('reflection')").Length() != 0 {
			t.Error("alice's list shows bob's thread again")
		}
	})
}

// 200 upvote toggles by one learner: the limit answers 429 with a
// Retry-After past the minute's allowance, and the toggles that pass make
// a bounded number of delivery jobs and LMS score requests.
func TestVoteTogglesAreLimitedAndDeliveriesBounded(t *testing.T) {
	eachDBGrades(t, fastGrades, func(t *testing.T, env *apptest.Env) {
		join(t, env, apptest.Instructor)
		setActivity(t, env, activity.CompletionRule{MinThreads: 1, MinUpvotes: 1}, activity.CreditProportional, false)
		alice := join(t, env, apptest.Learner)
		alice.ask("question", "Gloves for sharp edges?", "Cut level 5?", nil)
		waitForScore(t, env, apptest.Learner, 5)
		before := scoreRequests(env)
		bob := join(t, env, apptest.Learner2)
		bob.get(alice.res.URL)
		u, v := bob.postForm("Cut level 5", "vote")
		client := bob.b.HTTPClient()
		// The limit's clock stands still while bob votes, so no vote
		// comes back however long a loaded machine takes over them.
		env.Clock.Hold()
		passed, limited := 0, 0
		deadline := time.Now().Add(60 * time.Second)
		for i := 0; i < 200 && time.Now().Before(deadline); i++ {
			res, err := client.PostForm(u, v)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			switch res.StatusCode {
			case http.StatusSeeOther:
				passed++
			case http.StatusTooManyRequests:
				limited++
				if res.Header.Get("Retry-After") == "" {
					t.Fatal("a 429 without Retry-After")
				}
			default:
				t.Fatalf("toggle %d answered %d", i, res.StatusCode)
			}
		}
		limit := 30 // discussion.DefaultWriteLimits[vote]
		if passed > limit+1 || limited < 150 {
			t.Fatalf("%d toggles passed, %d were limited; the limit is %d a minute", passed, limited, limit)
		}
		res := bob.visit(bob.b.PostForm(context.Background(), u, v))
		if res.StatusCode != http.StatusTooManyRequests || !strings.Contains(res.Body, "at most 30 upvotes a minute") {
			t.Errorf("the refusal page: %d\n%.600s", res.StatusCode, res.Body)
		}
		env.Clock.Release()
		want := map[bool]float64{true: 10, false: 5}[passed%2 == 1]
		waitForScore(t, env, apptest.Learner, want)
		// A change of score queues a job; a delivery that waits its turn
		// behind another for the same LMS is queued again, marked so, as
		// often as the slot is busy: those are counted apart.
		var metadata []string
		if err := env.DB.Raw(`SELECT CAST(metadata AS TEXT) FROM river_job WHERE kind = 'grade.deliver'`).Scan(&metadata).Error; err != nil {
			t.Fatal(err)
		}
		jobs, requeued := len(metadata), 0
		for _, m := range metadata {
			if strings.Contains(m, `"requeued"`) {
				requeued++
			}
		}
		calls := scoreRequests(env) - before
		t.Logf("%d toggles passed, %d limited: %d delivery jobs (%d of them queued again), %d score requests", passed, limited, jobs, requeued, calls)
		if jobs-requeued > passed+2 || calls > passed {
			t.Errorf("%d toggles made %d delivery jobs (not counting %d queued again) and %d score requests", passed, jobs-requeued, requeued, calls)
		}
	})
}

// With the LMS failing, learner B's toggles of an upvote on A's post never
// spend A's attempts: A's score waits, then arrives.
func TestTogglesNeverDeadLetterAnotherLearnersScore(t *testing.T) {
	eachDBGrades(t, grade.Config{BackoffBase: 2 * time.Second, BackoffMax: 2 * time.Second, MaxAttempts: 4}, func(t *testing.T, env *apptest.Env) {
		join(t, env, apptest.Instructor)
		setActivity(t, env, activity.CompletionRule{MinThreads: 1, MinUpvotes: 1}, activity.CreditProportional, false)
		env.Platform.FailServices(ltiplatform.Fault{Status: http.StatusServiceUnavailable})
		alice := join(t, env, apptest.Learner)
		alice.ask("discussion", "Spill kits", "Where are they kept?", nil)
		bob := join(t, env, apptest.Learner2)
		bob.get(alice.res.URL)
		u, v := bob.postForm("Where are they kept", "vote")
		client := bob.b.HTTPClient()
		passed := 0
		for i := 0; i < 200; i++ {
			res, err := client.PostForm(u, v)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode == http.StatusSeeOther {
				passed++
			}
		}
		// The tries' times come from the score's row, not from when this
		// test saw them: a busy machine may poll late.
		state := func() (string, int, time.Time) {
			var st string
			var attempts int
			var last sql.NullTime
			if err := env.DB.Raw(`SELECT state, attempts, last_attempt_at FROM grade_scores g JOIN users u ON u.org_id = g.org_id AND u.id = g.user_id
				WHERE u.subject = ?`, apptest.Learner).Row().Scan(&st, &attempts, &last); err != nil {
				t.Fatal(err)
			}
			return st, attempts, last.Time
		}
		var first, second time.Time
		waitUntil(t, "alice's second try", func() bool {
			st, a, last := state()
			if st != grade.StatePending || a > 2 {
				t.Fatalf("alice's score after bob's %d toggles: %s after %d attempts", passed, st, a)
			}
			switch a {
			case 1:
				first = last
			case 2:
				second = last
			}
			return a == 2
		})
		if first.IsZero() {
			t.Fatalf("alice's score went to its second try before its first was seen: %v", second)
		}
		if gap := second.Sub(first); gap < time.Second {
			t.Errorf("alice's second try came %v after the first, not after its backoff", gap)
		}
		env.Platform.ClearServiceFault()
		waitForScore(t, env, apptest.Learner, map[bool]float64{true: 10, false: 5}[passed%2 == 1])
	})
}
