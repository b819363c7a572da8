package peerreview_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/internal/activity"
	"github.com/roundtable-lms/roundtable/internal/peerreview"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
)

// clock is a settable time for the store.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func learner(id string) peerreview.Viewer {
	return peerreview.Viewer{OrgID: "org", CourseID: "course", LinkID: "link", CohortID: "cohort", UserID: id}
}

var teacher = peerreview.Viewer{OrgID: "org", CourseID: "course", LinkID: "link", CohortID: "cohort", UserID: "teacher", Staff: true}

// fullMarks is an assessment giving every scored criterion of r its
// level at index pick(levels), with comments long enough.
func assess(r peerreview.Rubric, pick func(n int) int) peerreview.Assessment {
	a := peerreview.Assessment{Criteria: map[string]peerreview.Answer{}}
	for _, c := range r.Criteria {
		ans := peerreview.Answer{Level: -1, Comment: "A careful comment on this part of the work."}
		if c.Scored() {
			ans.Level = pick(len(c.Levels))
		}
		a.Criteria[c.ID] = ans
	}
	return a
}

func TestSubmitReviewReleaseGrades(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := &clock{t: time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)}
		s := peerreview.NewStore(db)
		s.Now = clk.now
		regraded := map[string]int{}
		s.OnGrades = func(_ context.Context, _ *gorm.DB, orgID, linkID string, users []string) error {
			for _, u := range users {
				regraded[u]++
			}
			return nil
		}
		o := peerreview.Defaults()
		o.Due = clk.t.Add(48 * time.Hour)
		o.LateUntil = clk.t.Add(72 * time.Hour)
		o.ReviewsDue = clk.t.Add(120 * time.Hour)
		if err := o.Validate(true); err != nil {
			t.Fatal(err)
		}

		// An empty submission is refused with a message for the learner.
		_, err := s.Submit(ctx, learner("ana"), o, peerreview.WorkInput{Body: "  "})
		if roundtable.ErrorCode(err) != roundtable.EINVALID {
			t.Fatalf("empty submission: %v", err)
		}
		// Four learners submit on time; the first waits for the second.
		for i, who := range []string{"ana", "ben", "cleo", "dev"} {
			clk.t = clk.t.Add(time.Hour)
			if _, err := s.Submit(ctx, learner(who), o, peerreview.WorkInput{Body: fmt.Sprintf("Essay %d\n\nSecond paragraph.", i)}); err != nil {
				t.Fatal(err)
			}
		}
		// Every learner reviews three others, and is reviewed by three.
		given := map[string]int{}
		for _, who := range []string{"ana", "ben", "cleo", "dev"} {
			rs, err := s.ReviewsBy(ctx, learner(who))
			if err != nil {
				t.Fatal(err)
			}
			if len(rs) != 3 {
				t.Fatalf("%s has %d reviews to do, want 3", who, len(rs))
			}
			for _, r := range rs {
				if r.AuthorID == who {
					t.Fatalf("%s reviews their own work", who)
				}
				given[r.AuthorID]++
			}
		}
		for _, who := range []string{"ana", "ben", "cleo", "dev"} {
			if given[who] != 3 {
				t.Fatalf("%s's work went to %d reviewers, want 3", who, given[who])
			}
		}

		// A late submitter still gets three reviews, and three to do.
		clk.t = o.Due.Add(time.Hour)
		sub, err := s.Submit(ctx, learner("eve"), o, peerreview.WorkInput{Body: "Late essay"})
		if err != nil {
			t.Fatal(err)
		}
		if !sub.Late {
			t.Fatal("a submission after the due date is not marked late")
		}
		revs, err := s.ReviewsOfSubmission(ctx, "org", sub.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(revs) != 3 {
			t.Fatalf("the late submission has %d reviewers, want 3", len(revs))
		}
		// Past the late cut-off, work is refused.
		clk.t = o.LateUntil.Add(time.Minute)
		if _, err := s.Submit(ctx, learner("fay"), o, peerreview.WorkInput{Body: "Too late"}); roundtable.ErrorCode(err) != roundtable.ECONFLICT {
			t.Fatalf("submission after the cut-off: %v", err)
		}

		// Reviewers cannot read or write another's review.
		mine, _ := s.ReviewsBy(ctx, learner("ana"))
		if _, err := s.SaveReview(ctx, learner("ben"), o, mine[0].ID, assess(o.Rubric, func(n int) int { return n - 1 }), true); !errors.Is(err, roundtable.Errorf(roundtable.ENOTFOUND, "")) && roundtable.ErrorCode(err) != roundtable.ENOTFOUND {
			t.Fatalf("another's review: %v", err)
		}
		// A submitted review needs every level and the required comments.
		if _, err := s.SaveReview(ctx, learner("ana"), o, mine[0].ID, peerreview.Assessment{}, true); roundtable.ErrorCode(err) != roundtable.EINVALID {
			t.Fatalf("an empty review submitted: %v", err)
		}
		// Everyone reviews: top marks, except dev who gives the lowest.
		for _, who := range []string{"ana", "ben", "cleo", "dev", "eve"} {
			rs, _ := s.ReviewsBy(ctx, learner(who))
			for _, r := range rs {
				pick := func(n int) int { return n - 1 }
				if who == "dev" {
					pick = func(int) int { return 0 }
				}
				if _, err := s.SaveReview(ctx, learner(who), o, r.ID, assess(o.Rubric, pick), true); err != nil {
					t.Fatalf("%s reviews: %v", who, err)
				}
			}
		}
		// Before release the author reads nothing of their reviews.
		theirs, _ := s.ReviewsOfSubmission(ctx, "org", sub.ID)
		if _, err := s.ReviewFor(ctx, learner("eve"), o, theirs[0].ID); roundtable.ErrorCode(err) != roundtable.ENOTFOUND {
			t.Fatalf("an author read a review before release: %v", err)
		}
		if err := s.Release(ctx, learner("eve"), o); roundtable.ErrorCode(err) != roundtable.EFORBIDDEN {
			t.Fatalf("a learner released results: %v", err)
		}
		if err := s.Release(ctx, teacher, o); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ReviewFor(ctx, learner("eve"), o, theirs[0].ID); err != nil {
			t.Fatalf("the author cannot read a review after release: %v", err)
		}
		c, err := s.Compute(ctx, nil, teacher, o, func(id string) string { return id })
		if err != nil {
			t.Fatal(err)
		}
		for _, who := range []string{"ana", "ben", "cleo", "eve"} {
			g := c.Grades[who]
			if g.Combined < 0.9 || g.Explanation == "" {
				t.Errorf("%s: grade %.2f (%s), want at least 0.9 with an explanation", who, g.Combined, g.Explanation)
			}
		}
		if len(c.Outliers) == 0 {
			t.Error("dev's lowest marks against everyone else's top marks are no outliers")
		}
		if regraded["eve"] == 0 {
			t.Error("the gradebook was never told of eve's grade")
		}

		// The author rates and flags; a stranger cannot.
		if err := s.Rate(ctx, learner("eve"), o, theirs[0].ID, 4, "Useful"); err != nil {
			t.Fatal(err)
		}
		if err := s.Rate(ctx, learner("ana"), o, theirs[0].ID, 1, ""); roundtable.ErrorCode(err) != roundtable.ENOTFOUND && theirs[0].ReviewerID != "ana" {
			t.Fatalf("a stranger rated a review: %v", err)
		}
		if err := s.Flag(ctx, learner("eve"), o, theirs[0].ID, "It ignores my second paragraph."); err != nil {
			t.Fatal(err)
		}
		got, _ := s.ReviewFor(ctx, teacher, o, theirs[0].ID)
		if got.Flagged == "" || got.Helpfulness != 4 {
			t.Fatalf("flag and rating not kept: %+v", got)
		}

		// An override wins, and stays when reviews change.
		if err := s.Override(ctx, teacher, o, "dev", 0.5, "Reviews were careless."); err != nil {
			t.Fatal(err)
		}
		c, _ = s.Compute(ctx, nil, teacher, o, func(id string) string { return id })
		if g := c.Grades["dev"]; !g.Overridden || g.Combined != 0.5 {
			t.Fatalf("override: %+v", g)
		}
		p, err := o.Measure(ctx, db.DB, activityRef(), "dev")
		if err != nil {
			t.Fatal(err)
		}
		if p.Score != 0.5 || !p.Final {
			t.Fatalf("the gradebook's measure reads %+v, want the override, final", p)
		}
		owed := o.Owe(10, p)
		if owed.ScoreGiven != 5 || owed.GradingProgress != "FullyGraded" {
			t.Fatalf("owed %+v", owed)
		}
	})
}

func activityRef() activity.Ref { return activity.Ref{OrgID: "org", LinkID: "link"} }

// A day before reviews are due, a reviewer who finished is offered a
// review nobody began; one who still owes reviews is not.
func TestReviewOneMore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := &clock{t: time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)}
		s := peerreview.NewStore(db)
		s.Now = clk.now
		o := peerreview.Defaults()
		o.Reviewers = 2
		o.Due = clk.t.Add(24 * time.Hour)
		o.ReviewsDue = clk.t.Add(96 * time.Hour)
		for _, who := range []string{"ana", "ben", "cleo", "dev"} {
			if _, err := s.Submit(ctx, learner(who), o, peerreview.WorkInput{Body: "Work of " + who}); err != nil {
				t.Fatal(err)
			}
		}
		// Ana finishes her reviews; nobody else begins.
		rs, _ := s.ReviewsBy(ctx, learner("ana"))
		for _, r := range rs {
			if _, err := s.SaveReview(ctx, learner("ana"), o, r.ID, assess(o.Rubric, func(n int) int { return n - 1 }), true); err != nil {
				t.Fatal(err)
			}
		}
		if ok, _ := s.CanTakeOneMore(ctx, learner("ana"), o); ok {
			t.Fatal("offered one more three days before reviews are due")
		}
		clk.t = o.ReviewsDue.Add(-12 * time.Hour)
		if ok, _ := s.CanTakeOneMore(ctx, learner("ben"), o); ok {
			t.Fatal("ben, who owes reviews, is offered one more")
		}
		if ok, err := s.CanTakeOneMore(ctx, learner("ana"), o); !ok || err != nil {
			t.Fatalf("ana is not offered one more: %v", err)
		}
		id, err := s.TakeOneMore(ctx, learner("ana"), o)
		if err != nil {
			t.Fatal(err)
		}
		r, err := s.ReviewFor(ctx, learner("ana"), o, id)
		if err != nil || r.AuthorID == "ana" || r.Reason != "review_one_more" {
			t.Fatalf("the review taken: %+v %v", r, err)
		}
		for _, old := range rs {
			if old.AuthorID == r.AuthorID {
				t.Fatalf("ana was given %s's work twice", r.AuthorID)
			}
		}
	})
}

// Where staff allow it, a learner who did not submit takes reviews over
// from the busiest reviewers; elsewhere they may not.
func TestNonSubmitterJoinsAsReviewer(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := peerreview.NewStore(db)
		o := peerreview.Defaults()
		o.Reviewers = 2
		for _, who := range []string{"ana", "ben", "cleo", "dev"} {
			if _, err := s.Submit(ctx, learner(who), o, peerreview.WorkInput{Body: "Work of " + who}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.JoinAsReviewer(ctx, learner("eli"), o); roundtable.ErrorCode(err) != roundtable.EFORBIDDEN {
			t.Fatalf("joined where not allowed: %v", err)
		}
		o.OthersReview = true
		n, err := s.JoinAsReviewer(ctx, learner("eli"), o)
		if err != nil || n == 0 {
			t.Fatalf("eli joins: %d %v", n, err)
		}
		rs, _ := s.ReviewsBy(ctx, learner("eli"))
		if len(rs) != n {
			t.Fatalf("eli has %d reviews, was told %d", len(rs), n)
		}
		total := 0
		for _, who := range []string{"ana", "ben", "cleo", "dev"} {
			sub, _, _ := s.Mine(ctx, learner(who))
			got, _ := s.ReviewsOfSubmission(ctx, "org", sub.ID)
			if len(got) != 2 {
				t.Errorf("%s's work has %d reviewers after eli joined, want 2", who, len(got))
			}
			total += len(got)
		}
		if total != 8 {
			t.Errorf("%d reviews in all, want 8", total)
		}
		if _, err := s.JoinAsReviewer(ctx, learner("eli"), o); roundtable.ErrorCode(err) != roundtable.ECONFLICT {
			t.Errorf("eli joined twice: %v", err)
		}
	})
}

// A withdrawn learner's work leaves the queue and what they owed goes to
// others; submitting again brings them back as a newcomer.
func TestWithdrawAndReturn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := peerreview.NewStore(db)
		o := peerreview.Defaults()
		o.Reviewers = 2
		people := []string{"ana", "ben", "cleo", "dev", "eli"}
		for _, who := range people {
			if _, err := s.Submit(ctx, learner(who), o, peerreview.WorkInput{Body: "Work of " + who}); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Withdraw(ctx, learner("ana"), o, "dev"); roundtable.ErrorCode(err) != roundtable.EFORBIDDEN {
			t.Fatalf("a learner withdrew another: %v", err)
		}
		if err := s.Withdraw(ctx, teacher, o, "dev"); err != nil {
			t.Fatal(err)
		}
		check := func(active []string) {
			t.Helper()
			for _, who := range active {
				sub, _, _ := s.Mine(ctx, learner(who))
				rs, _ := s.ReviewsOfSubmission(ctx, "org", sub.ID)
				if len(rs) != 2 {
					t.Errorf("%s's work has %d reviewers, want 2", who, len(rs))
				}
				for _, r := range rs {
					if r.ReviewerID == "dev" && !containsStr(active, "dev") {
						t.Errorf("dev, withdrawn, still reviews %s", who)
					}
				}
			}
		}
		check([]string{"ana", "ben", "cleo", "eli"})
		if got, _ := s.ReviewsBy(ctx, learner("dev")); len(got) != 0 {
			t.Errorf("dev, withdrawn, keeps %d reviews none begun", len(got))
		}
		if _, err := s.Submit(ctx, learner("dev"), o, peerreview.WorkInput{Body: "Back again"}); err != nil {
			t.Fatal(err)
		}
		check(people)
		if got, _ := s.ReviewsBy(ctx, learner("dev")); len(got) != 2 {
			t.Errorf("dev, back, has %d reviews to do, want 2", len(got))
		}
	})
}

func containsStr(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// A script cannot make a learner's submission a version factory, nor
// re-grade the activity at will by saving a submitted review.
func TestWritesAreBounded(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := &clock{t: time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)}
		s := peerreview.NewStore(db)
		s.Now = clk.now
		o := peerreview.Defaults()
		o.Reviewers = 1
		for i := range peerreview.MaxVersionsPerHour {
			clk.t = clk.t.Add(time.Second)
			if _, err := s.Submit(ctx, learner("ana"), o, peerreview.WorkInput{Body: "Version"}); err != nil {
				t.Fatalf("version %d: %v", i+1, err)
			}
		}
		if _, err := s.Submit(ctx, learner("ana"), o, peerreview.WorkInput{Body: "One too many"}); roundtable.ErrorCode(err) != roundtable.ELIMITED {
			t.Fatalf("version %d in an hour: %v", peerreview.MaxVersionsPerHour+1, err)
		}
		clk.t = clk.t.Add(time.Hour)
		if _, err := s.Submit(ctx, learner("ana"), o, peerreview.WorkInput{Body: "An hour later"}); err != nil {
			t.Fatalf("an hour later: %v", err)
		}
		if _, err := s.Submit(ctx, learner("ben"), o, peerreview.WorkInput{Body: "Ben's"}); err != nil {
			t.Fatal(err)
		}
		rs, _ := s.ReviewsBy(ctx, learner("ben"))
		top := assess(o.Rubric, func(n int) int { return n - 1 })
		if _, err := s.SaveReview(ctx, learner("ben"), o, rs[0].ID, top, true); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SaveReview(ctx, learner("ben"), o, rs[0].ID, assess(o.Rubric, func(int) int { return 0 }), true); roundtable.ErrorCode(err) != roundtable.ELIMITED {
			t.Fatalf("a submitted review changed twice at once: %v", err)
		}
		clk.t = clk.t.Add(10 * time.Second)
		if _, err := s.SaveReview(ctx, learner("ben"), o, rs[0].ID, assess(o.Rubric, func(int) int { return 0 }), true); err != nil {
			t.Fatalf("a submitted review changed later: %v", err)
		}
	})
}

// Changing how the grade is computed (here the submission's share) after
// reviews are in moves the grades the gradebook reads (pr_grades, through
// Measure) in the same save, as the dashboard computes them.
func TestChangedGradingMovesTheKeptGrades(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := peerreview.NewStore(db)
		o := peerreview.Defaults()
		o.Reviewers = 2
		for _, who := range []string{"ana", "ben", "cleo"} {
			if _, err := s.Submit(ctx, learner(who), o, peerreview.WorkInput{Body: "Work of " + who}); err != nil {
				t.Fatal(err)
			}
		}
		for _, who := range []string{"ana", "ben", "cleo"} {
			rs, _ := s.ReviewsBy(ctx, learner(who))
			for _, r := range rs {
				if _, err := s.SaveReview(ctx, learner(who), o, r.ID, assess(o.Rubric, func(n int) int { return 1 }), true); err != nil {
					t.Fatal(err)
				}
			}
		}
		before, err := o.Measure(ctx, db.DB, activityRef(), "ana")
		if err != nil {
			t.Fatal(err)
		}
		changed := o
		changed.SubmissionWeight = 50
		var opts activity.Options
		if err := db.Tx(ctx, func(tx *gorm.DB) error {
			opts, err = changed.Change(ctx, tx, activityRef(), o, false)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		changed = opts.(peerreview.Options)
		after, err := changed.Measure(ctx, db.DB, activityRef(), "ana")
		if err != nil {
			t.Fatal(err)
		}
		comp, err := s.Compute(ctx, nil, teacher, changed, func(string) string { return "" })
		if err != nil {
			t.Fatal(err)
		}
		if want := comp.Grades["ana"].Combined; after.Score != want || after.Score == before.Score {
			t.Fatalf("the gradebook reads %v after the change (%v before), the dashboard computes %v", after.Score, before.Score, want)
		}
	})
}

// A submitted review changed before reviews are due stays complete: a
// draft save (the page's autosave, or "Save draft") of a submitted review
// is checked as a submission, and refused when it leaves a criterion
// unassessed.
func TestSubmittedReviewStaysComplete(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := &clock{t: time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)}
		s := peerreview.NewStore(db)
		s.Now = clk.now
		o := peerreview.Defaults()
		o.Reviewers = 1
		for _, who := range []string{"ana", "ben"} {
			if _, err := s.Submit(ctx, learner(who), o, peerreview.WorkInput{Body: "Work of " + who}); err != nil {
				t.Fatal(err)
			}
		}
		rs, _ := s.ReviewsBy(ctx, learner("ana"))
		if len(rs) != 1 {
			t.Fatalf("ana reviews %d", len(rs))
		}
		if _, err := s.SaveReview(ctx, learner("ana"), o, rs[0].ID, assess(o.Rubric, func(n int) int { return n - 1 }), true); err != nil {
			t.Fatal(err)
		}
		clk.t = clk.t.Add(time.Minute)
		_, err := s.SaveReview(ctx, learner("ana"), o, rs[0].ID, peerreview.Assessment{Comment: "Second thoughts."}, false)
		if roundtable.ErrorCode(err) != roundtable.EINVALID {
			t.Fatalf("an incomplete draft save of a submitted review: %v", err)
		}
		r, err := s.ReviewFor(ctx, learner("ana"), o, rs[0].ID)
		if err != nil || r.State != peerreview.StateDone || len(r.Points(o.Rubric)) != 2 {
			t.Fatalf("the submitted review now reads %+v (%v)", r, err)
		}
	})
}
