package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable/internal/activity"
	"github.com/roundtable-lms/roundtable/internal/apptest"
	"github.com/roundtable-lms/roundtable/internal/config"
	"github.com/roundtable-lms/roundtable/internal/course"
	"github.com/roundtable-lms/roundtable/internal/grade"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
	"github.com/roundtable-lms/roundtable/lti/ltiplatform"
)

// eachDBFastGrades runs fn on both databases with grade delivery retrying
// within milliseconds, not minutes.
func eachDBFastGrades(t *testing.T, fn func(t *testing.T, env *apptest.Env)) {
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			fn(t, apptest.StartWith(t, kind, func(c *config.Config) {
				c.Grades = config.GradeDelivery{BackoffBase: 20 * time.Millisecond, BackoffMax: 200 * time.Millisecond, PollInterval: 50 * time.Millisecond, MaxAttempts: 4}
			}))
		})
	}
}

// gradeActivity makes the seeded activity graded: one thread and one
// reply complete it, for 10 points.
func gradeActivity(t *testing.T, env *apptest.Env, by string) string {
	t.Helper()
	ctx := context.Background()
	var linkID string
	if err := env.DB.Raw(`SELECT id FROM resource_links WHERE resource_link_id = ?`, apptest.LinkID).Scan(&linkID).Error; err != nil || linkID == "" {
		t.Fatalf("the activity is not recorded yet: %v", err)
	}
	st := course.DefaultSettings(env.Registered.ID, linkID)
	st.Graded, st.Points, st.UpdatedBy = true, 10, by
	st.Options = activity.DiscussionOptions{AllowAnonymous: true, Credit: activity.CreditFull, Rule: activity.CompletionRule{MinThreads: 1, MinReplies: 1}}
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

// waitUntil polls cond until it holds. Its bound only catches a hang: the
// whole suite under the race detector on two loaded cores has seen a
// grade delivery take over 20 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// latestScore is the LMS gradebook's newest applied score of a person in
// the course's only line item.
func latestScore(env *apptest.Env, user string) (ltiplatform.ScoreRecord, bool) {
	items := env.Platform.LineItems(apptest.CourseID)
	if len(items) != 1 {
		return ltiplatform.ScoreRecord{}, false
	}
	return env.Platform.LatestScore(items[0].ID, user)
}

func TestGradedDiscussionReachesTheGradebook(t *testing.T) {
	eachDBFastGrades(t, func(t *testing.T, env *apptest.Env) {
		ines := join(t, env, apptest.Instructor)
		gradeActivity(t, env, "ines")
		alice := join(t, env, apptest.Learner)
		progress := alice.page.Find("[data-testid=progress]")
		if progress.Length() != 1 || !strings.Contains(progress.Text(), "0 of 1 threads started") || !strings.Contains(progress.Text(), "10 points") {
			t.Fatalf("alice's progress panel: %q", progress.Text())
		}

		alice.ask("question", "Which gloves for solvents?", "Nitrile or latex?", nil)
		waitUntil(t, "alice's first score in the gradebook", func() bool { _, ok := latestScore(env, apptest.Learner); return ok })
		s, _ := latestScore(env, apptest.Learner)
		if *s.ScoreGiven != 0 || *s.ScoreMaximum != 10 || s.ActivityProgress != grade.ActivityInProgress || s.GradingProgress != grade.GradingPending {
			t.Fatalf("after a thread: %+v", s)
		}
		items := env.Platform.LineItems(apptest.CourseID)
		if items[0].Label != "Week 1 discussion" || items[0].ScoreMaximum != 10 || items[0].ResourceLinkID != apptest.LinkID || items[0].Tag != "roundtable" {
			t.Fatalf("line item %+v", items[0])
		}

		// The LMS fails: 500, then 429 asking for a second, then an
		// access token it no longer accepts. The score waits and arrives.
		bob := join(t, env, apptest.Learner2)
		bob.follow("[data-testid=thread-link]")
		// One sequence, set before the reply: a retry due a few
		// milliseconds later must not overtake the test setting up the next
		// failure.
		env.Platform.FailServices(ltiplatform.Fault{Status: http.StatusInternalServerError, Count: 1},
			ltiplatform.Fault{Status: http.StatusTooManyRequests, Count: 1, RetryAfter: "1"},
			ltiplatform.Fault{Status: http.StatusUnauthorized, Count: 1})
		alice.get(bob.res.URL)
		alice.reply("Nitrile: latex dissolves in most solvents.")
		waitUntil(t, "alice's completed score", func() bool {
			s, ok := latestScore(env, apptest.Learner)
			return ok && s.ActivityProgress == grade.ActivityCompleted
		})
		s, _ = latestScore(env, apptest.Learner)
		if *s.ScoreGiven != 10 || s.GradingProgress != grade.GradingFullyGraded {
			t.Fatalf("completed score %+v", s)
		}
		var statuses []int
		for _, r := range env.Platform.ServiceRequests() {
			if strings.HasSuffix(r.Path, "/scores") {
				statuses = append(statuses, r.Status)
			}
		}
		if !containsInOrder(statuses, http.StatusInternalServerError, http.StatusTooManyRequests) {
			t.Errorf("score requests answered %v, want a 500 then a 429 before success", statuses)
		}
		if f, ok := env.Platform.ServiceFault(); ok {
			t.Errorf("the LMS still holds a failure nobody met: %+v", f)
		}
		alice.get(alice.activityURL(""))
		if p := alice.page.Find("[data-testid=progress]").Text(); !strings.Contains(p, "complete") {
			t.Errorf("alice's progress after completing: %q", p)
		}

		// Staff see the scores; learners may not.
		ines.get(ines.activityURL("/grades"))
		row := ines.page.Find("[data-testid=grade-row]").FilterFunction(func(_ int, s *goquery.Selection) bool {
			return strings.Contains(s.Text(), "Alice")
		})
		if row.Length() != 1 || !strings.Contains(row.Find("[data-testid=grade-state]").Text(), "In the gradebook") || !strings.Contains(row.Text(), "10 / 10") {
			t.Fatalf("staff grades page: %s", ines.page.Find("[data-testid=grades]").Text())
		}
		if rule := strings.Join(strings.Fields(ines.page.Find("[data-testid=grading-rule]").Text()), " "); !strings.HasSuffix(rule, "To complete it a learner needs 1 thread started and 1 reply.") {
			t.Errorf("the rule reads %q", rule)
		}
		res := alice.get(alice.activityURL("/grades"))
		if res.StatusCode != http.StatusForbidden {
			t.Fatalf("a learner opened the grades page: %d", res.StatusCode)
		}
	})
}

func TestRefusedScoresWaitForStaffRetry(t *testing.T) {
	eachDBFastGrades(t, func(t *testing.T, env *apptest.Env) {
		ines := join(t, env, apptest.Instructor)
		gradeActivity(t, env, "ines")
		// The LMS refuses every token: after one fresh token the delivery
		// stops with the reason.
		env.Platform.FailServices(ltiplatform.Fault{Status: http.StatusUnauthorized})
		alice := join(t, env, apptest.Learner)
		alice.ask("discussion", "Near misses this week", "Mine: a wet floor without a sign.", nil)
		waitUntil(t, "the dead letter", func() bool {
			ines.get(ines.activityURL("/grades"))
			return ines.page.Find("[data-testid=retry-all]").Length() == 1
		})
		// A sentence for the instructor; the LMS's own answer folded away.
		if e := ines.page.Find("[data-testid=grade-error]").Text(); !strings.HasPrefix(e, "The LMS refused Roundtable's access") || !strings.Contains(e, "401") {
			t.Errorf("the failure's reason: %q", e)
		}
		if d := ines.page.Find("details [data-testid=grade-error-detail]").Text(); !strings.Contains(d, "HTTP 401") {
			t.Errorf("the LMS's answer under the reason: %q", d)
		}
		env.Platform.ClearServiceFault()
		ines.submit("form:has([data-testid=retry-all])", nil)
		if n := ines.page.Find("[data-testid=grades-notice]").Text(); !strings.Contains(n, "queued again") {
			t.Errorf("after retry: %q", n)
		}
		waitUntil(t, "the retried score", func() bool { _, ok := latestScore(env, apptest.Learner); return ok })
	})
}

// activityURL is a page of the member's activity: /a/<link> plus suffix.
func (m *member) activityURL(suffix string) string {
	u, err := url.Parse(m.res.URL)
	if err != nil {
		m.t.Fatal(err)
	}
	parts := strings.SplitN(strings.TrimPrefix(u.Path, "/"), "/", 3)
	if len(parts) < 2 || parts[0] != "a" {
		m.t.Fatalf("%s is not an activity page", m.res.URL)
	}
	return m.abs("/a/" + parts[1] + suffix)
}

func containsInOrder(xs []int, want ...int) bool {
	for _, x := range xs {
		if len(want) > 0 && x == want[0] {
			want = want[1:]
		}
	}
	return len(want) == 0
}

func TestRuleChangedInSettingsRescoresLearners(t *testing.T) {
	eachDBFastGrades(t, func(t *testing.T, env *apptest.Env) {
		ines := join(t, env, apptest.Instructor)
		ines.get(ines.activityURL("/settings"))
		ines.submit(`form[action*="/settings"]`, map[string]string{"graded": "1", "points": "20", "min_threads": "2", "credit": "full"})
		if ines.res.StatusCode != http.StatusOK || strings.Contains(ines.res.URL, "/settings") && ines.page.Find("[aria-invalid=true]").Length() > 0 {
			t.Fatalf("saving the settings ended at %s (%d):\n%.1500s", ines.res.URL, ines.res.StatusCode, ines.res.Body)
		}
		alice := join(t, env, apptest.Learner)
		alice.ask("question", "Is the fire door rule new?", "It was not in last year's handbook.", nil)
		waitUntil(t, "alice's score before completion", func() bool { _, ok := latestScore(env, apptest.Learner); return ok })
		if s, _ := latestScore(env, apptest.Learner); *s.ScoreGiven != 0 || *s.ScoreMaximum != 20 {
			t.Fatalf("score before the rule changed: given %v of %v", *s.ScoreGiven, *s.ScoreMaximum)
		}
		// One thread is now enough: alice's score is sent again, complete.
		ines.get(ines.activityURL("/settings"))
		ines.submit(`form[action*="/settings"]`, map[string]string{"graded": "1", "points": "20", "min_threads": "1", "credit": "full"})
		waitUntil(t, "alice re-scored after the rule changed", func() bool {
			s, ok := latestScore(env, apptest.Learner)
			return ok && *s.ScoreGiven == 20 && s.ActivityProgress == grade.ActivityCompleted
		})
		if _, ok := latestScore(env, apptest.Learner2); ok {
			t.Error("a learner who never took part got a score")
		}
		// More points: the score and the gradebook column follow.
		ines.get(ines.activityURL("/settings"))
		ines.submit(`form[action*="/settings"]`, map[string]string{"graded": "1", "points": "30", "min_threads": "1", "credit": "full"})
		waitUntil(t, "alice's score out of 30", func() bool {
			s, ok := latestScore(env, apptest.Learner)
			return ok && *s.ScoreGiven == 30 && *s.ScoreMaximum == 30
		})
		if items := env.Platform.LineItems(apptest.CourseID); len(items) != 1 || items[0].ScoreMaximum != 30 {
			t.Errorf("the gradebook column after the points changed: %+v", items)
		}
	})
}

func TestAdminSeesAndRetriesEveryLMSsFailedGrades(t *testing.T) {
	eachDBFastGrades(t, func(t *testing.T, env *apptest.Env) {
		join(t, env, apptest.Instructor)
		gradeActivity(t, env, "ines")
		env.Platform.FailServices(ltiplatform.Fault{Status: http.StatusUnauthorized})
		alice := join(t, env, apptest.Learner)
		alice.ask("question", "Who checks the first-aid kits?", "And how often?", nil)
		c := newAdmin(t, env)
		waitUntil(t, "the failure in the console", func() bool {
			c.get("/admin/grades")
			return c.page.Find("[data-testid=failed-grade]").Length() == 1
		})
		row := c.page.Find("[data-testid=failed-grade]")
		if !strings.Contains(row.Text(), "Alice Mbeki") || !strings.Contains(row.Text(), "Week 1 discussion") || !strings.Contains(row.Find("[data-testid=grade-error]").Text(), "401") {
			t.Fatalf("failed delivery row: %q", row.Text())
		}
		env.Platform.ClearServiceFault()
		if res := c.post("/admin/grades/retry", nil); res.StatusCode != http.StatusOK || !strings.Contains(text(c.page, "[data-testid=grades-notice]"), "1 failed score is queued again") {
			t.Fatalf("retry: %d %q", res.StatusCode, text(c.page, "[data-testid=grades-notice]"))
		}
		waitUntil(t, "the retried score", func() bool { _, ok := latestScore(env, apptest.Learner); return ok })
		c.get("/admin/grades")
		if c.page.Find("[data-testid=no-failures]").Length() != 1 {
			t.Errorf("failures after the retry: %s", c.page.Find("main").Text())
		}
	})
}
