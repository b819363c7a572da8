package grade_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/roundtable-lms/roundtable/internal/activity"
	"github.com/roundtable-lms/roundtable/internal/course"
	"github.com/roundtable-lms/roundtable/internal/grade"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/lti/advantage"
)

// upvoteRule completes with a thread and one upvote received, in
// proportion: 5 points for the thread alone, 10 with an upvote.
var upvoteRule = course.Settings{Kind: activity.KindDiscussion, CohortPolicy: course.CohortCourse, GroupSize: 12, Graded: true, Points: 10,
	Options: activity.DiscussionOptions{AllowAnonymous: true, Credit: activity.CreditProportional, Rule: activity.CompletionRule{MinThreads: 1, MinUpvotes: 1}}}

func (f *fixture) calls() int {
	f.lms.mu.Lock()
	defer f.lms.mu.Unlock()
	return f.lms.calls
}

func (f *fixture) setDown(err error) {
	f.lms.mu.Lock()
	defer f.lms.mu.Unlock()
	f.lms.down = err
}

// deliveryJobs counts the delivery jobs ever inserted (River keeps
// finished jobs for a day), and those not finished.
func deliveryJobs(t *testing.T, db *store.DB) (all, unfinished int) {
	t.Helper()
	ctx := context.Background()
	if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM river_job WHERE kind = 'grade.deliver'`).Scan(&all); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM river_job WHERE kind = 'grade.deliver' AND state IN ('available', 'scheduled', 'retryable', 'running')`).Scan(&unfinished); err != nil {
		t.Fatal(err)
	}
	return all, unfinished
}

// With the LMS failing, one learner toggling an upvote on another's post
// 199 times leaves one waiting delivery for the other learner, makes
// about as many LMS calls as deliveries ran (not one per toggle), and
// never spends the other learner's attempts: their score waits, then
// arrives once the LMS answers again.
func TestTogglesNeverSpendAnotherLearnersAttempts(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, grade.Config{MaxAttempts: 4, BackoffBase: 2 * time.Second, BackoffMax: 2 * time.Second},
			"https://lms.example/courses/1/lineitems")
		f.configure(t, upvoteRule)
		alice, bob := f.learners[0], f.learners[1]
		th := f.thread(t, bob.ID, "Manual handling")
		opening := openingPost(t, f, th)
		f.setDown(&advantage.Error{Op: "publish score", Status: http.StatusBadGateway})
		f.start(t)
		// A loaded machine may cut the toggling short: bob's newest score
		// is 10 if alice's vote stands when it ends, else 5.
		deadline := time.Now().Add(20 * time.Second)
		voted, toggles := false, 0
		for ; toggles < 199 && time.Now().Before(deadline); toggles++ {
			var err error
			if voted, err = f.talk.ToggleVote(ctx, f.viewer(alice.ID, false), opening); err != nil {
				t.Fatal(err)
			}
		}
		newest := 5.0
		if voted {
			newest = 10
		}
		// Toggling over, bob's newest score is tried once, then waits its
		// backoff: the next try is the score's second, seconds later.
		eventually(t, "bob's newest score to be tried", func() bool { _, attempts, _ := f.state(t, bob.ID); return attempts >= 1 })
		tried := time.Now()
		eventually(t, "bob's second try", func() bool {
			state, attempts, _ := f.state(t, bob.ID)
			if state != grade.StatePending || attempts > 2 {
				t.Fatalf("bob's score after alice's toggles: %s after %d attempts, want pending", state, attempts)
			}
			return attempts == 2
		})
		if gap := time.Since(tried); gap < time.Second {
			t.Errorf("bob's second attempt came %v after the first, not after the 2 s backoff", gap)
		}
		all, _ := deliveryJobs(t, db)
		calls := f.calls()
		t.Logf("%d toggles: %d delivery jobs, %d LMS calls", toggles, all, calls)
		if all > 60 || calls > 60 {
			t.Errorf("%d toggles made %d delivery jobs and %d LMS calls", toggles, all, calls)
		}
		// One job waits for bob's score (its next try), once the job that
		// tried it last has queued it.
		eventually(t, "one delivery job waiting for bob's score", func() bool {
			var waiting int
			if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM river_job WHERE kind = 'grade.deliver' AND state IN ('available', 'scheduled', 'retryable')`).Scan(&waiting); err != nil {
				t.Fatal(err)
			}
			if waiting > 1 {
				t.Fatalf("%d delivery jobs wait for bob's score, want 1", waiting)
			}
			return waiting == 1
		})
		// The LMS answers again: bob's newest score arrives.
		f.setDown(nil)
		eventually(t, "bob's newest score", func() bool {
			s, _ := f.lms.latest(bob.Subject)
			return s.ScoreGiven != nil && *s.ScoreGiven == newest
		})
	})
}

func openingPost(t *testing.T, f *fixture, threadID string) string {
	t.Helper()
	tv, err := f.talk.Thread(context.Background(), f.viewer(f.teacher, true), threadID)
	if err != nil {
		t.Fatal(err)
	}
	return tv.OpeningPostID
}

// A score that comes back to what the LMS holds (an upvote given and taken
// back before delivery) is not sent again.
func TestAScoreTheLMSHoldsIsNotSentAgain(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, grade.Config{}, "https://lms.example/courses/1/lineitems")
		f.configure(t, upvoteRule)
		alice, bob := f.learners[0], f.learners[1]
		th := f.thread(t, bob.ID, "Lifting technique")
		f.start(t)
		eventually(t, "bob's first score", func() bool { _, n := f.lms.latest(bob.Subject); return n == 1 })
		// A second service, not delivering, scores the toggles: its jobs
		// run only once it starts, after both.
		later, err := grade.New(db, f.lms, oneRegistration{}, grade.Config{PollInterval: 50 * time.Millisecond}, nil)
		if err != nil {
			t.Fatal(err)
		}
		// The minute bounds a hang only: the tests of this package run
		// at the same time, and stopping waits on the queue's services.
		stopCtx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		if err := f.grades.Stop(stopCtx); err != nil {
			t.Fatal(err)
		}
		f.grades = later
		opening := openingPost(t, f, th)
		for range 2 {
			if _, err := f.talk.ToggleVote(ctx, f.viewer(alice.ID, false), opening); err != nil {
				t.Fatal(err)
			}
		}
		calls := f.calls()
		f.start(t)
		eventually(t, "bob's score recorded as delivered", func() bool {
			st, _, _ := f.state(t, bob.ID)
			_, unfinished := deliveryJobs(t, db)
			return st == grade.StateDelivered && unfinished == 0
		})
		if n := f.calls() - calls; n != 0 {
			t.Errorf("the score the LMS already holds was sent again (%d calls)", n)
		}
	})
}

// Scores of an LMS an administrator disabled wait, held; once it is
// enabled again they go out without anyone retrying.
func TestDisabledLMSScoresWaitThenGoOut(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, grade.Config{SweepInterval: 100 * time.Millisecond}, "https://lms.example/courses/1/lineitems")
		f.configure(t, course.Settings{Kind: activity.KindDiscussion, CohortPolicy: course.CohortCourse, GroupSize: 12, Graded: true, Points: 10,
			Options: activity.DiscussionOptions{AllowAnonymous: true, Credit: activity.CreditFull, Rule: activity.CompletionRule{MinThreads: 1}}})
		alice, bob := f.learners[0], f.learners[1]
		// Alice's score is queued, then the LMS is disabled before it is sent.
		f.thread(t, alice.ID, "Hearing protection")
		setStatus := func(status string) {
			t.Helper()
			if err := db.Exec(`UPDATE platforms SET status = ? WHERE id = 'p1'`, status).Error; err != nil {
				t.Fatal(err)
			}
		}
		setStatus("disabled")
		f.start(t)
		// Bob's score comes while it is disabled.
		f.thread(t, bob.ID, "Ear plugs or muffs")
		for _, l := range []course.User{alice, bob} {
			eventually(t, l.Name+"'s score held", func() bool { st, _, _ := f.state(t, l.ID); return st == grade.StateHeld })
		}
		if n := f.calls(); n != 0 {
			t.Fatalf("%d scores were sent to a disabled LMS", n)
		}
		held, err := f.grades.StateCounts(ctx, grade.Filter{OrgID: "p1"})
		if err != nil || held[grade.StateHeld] != 2 {
			t.Fatalf("state counts %v, %v", held, err)
		}
		setStatus("active")
		for _, l := range []course.User{alice, bob} {
			eventually(t, l.Name+"'s score delivered", func() bool { _, n := f.lms.latest(l.Subject); return n == 1 })
		}
	})
}

// Hiding a post re-scores its author at once: the score the LMS receives
// goes down, and up again on restore.
func TestHidingAndRestoringRescore(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, grade.Config{}, "https://lms.example/courses/1/lineitems")
		f.configure(t, course.Settings{Kind: activity.KindDiscussion, CohortPolicy: course.CohortCourse, GroupSize: 12, Graded: true, Points: 10,
			Options: activity.DiscussionOptions{AllowAnonymous: true, Credit: activity.CreditFull, Rule: activity.CompletionRule{MinReplies: 1}}})
		alice := f.learners[0]
		th := f.thread(t, f.teacher, "Introduce yourselves")
		reply := f.reply(t, alice.ID, th)
		f.start(t)
		scoreIs := func(want float64) func() bool {
			return func() bool { s, _ := f.lms.latest(alice.Subject); return s.ScoreGiven != nil && *s.ScoreGiven == want }
		}
		eventually(t, "alice's full score", scoreIs(10))
		staff := f.viewer(f.teacher, true)
		if err := f.talk.Hide(ctx, staff, reply, "copied text"); err != nil {
			t.Fatal(err)
		}
		eventually(t, "alice's score without the hidden reply", scoreIs(0))
		if err := f.talk.Restore(ctx, staff, reply, "her own words"); err != nil {
			t.Fatal(err)
		}
		eventually(t, "alice's score after the restore", scoreIs(10))
		// The thread hidden: her reply in it no longer counts either.
		if err := f.talk.Hide(ctx, staff, openingPost(t, f, th), "wrong activity"); err != nil {
			t.Fatal(err)
		}
		eventually(t, "alice's score once the thread is hidden", scoreIs(0))
	})
}

// An answer a learner accepted on their own question before Roundtable
// refused it counted toward their score; after the upgrade their score is
// counted again under the current rules and the LMS gets the lower one.
func TestScoresCountedBeforeTheRulesAreCountedAgain(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, grade.Config{SweepInterval: 100 * time.Millisecond}, "https://lms.example/courses/1/lineitems")
		f.configure(t, course.Settings{Kind: activity.KindDiscussion, CohortPolicy: course.CohortCourse, GroupSize: 12, Graded: true, Points: 10,
			Options: activity.DiscussionOptions{AllowAnonymous: true, Credit: activity.CreditFull, Rule: activity.CompletionRule{MinAccepted: 1}}})
		alice := f.learners[0]
		th := f.thread(t, alice.ID, "Safety boots")
		own := f.reply(t, alice.ID, th)
		// As an older Roundtable let it happen: accepted, scored, delivered.
		if err := db.Exec(`UPDATE threads SET accepted_post_id = ? WHERE id = ?`, own, th).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Exec(`UPDATE grade_scores SET score_given = 10, activity_progress = 'Completed', grading_progress = 'FullyGraded'
			WHERE user_id = ?`, alice.ID).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Exec(`INSERT INTO grade_rescores (org_id, link_id, user_id) VALUES ('p1', ?, ?)`, f.link.ID, alice.ID).Error; err != nil {
			t.Fatal(err)
		}
		f.start(t)
		eventually(t, "alice re-counted", func() bool {
			var left int
			db.QueryRow(ctx, `SELECT COUNT(*) FROM grade_rescores`).Scan(&left)
			s, _ := f.lms.latest(alice.Subject)
			return left == 0 && s.ScoreGiven != nil && *s.ScoreGiven == 0
		})
	})
}
