package grade_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable/discussion"
	"github.com/roundtable-lms/roundtable/internal/activity"
	"github.com/roundtable-lms/roundtable/internal/course"
	"github.com/roundtable-lms/roundtable/internal/grade"
	"github.com/roundtable-lms/roundtable/internal/space"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/lti"
	"github.com/roundtable-lms/roundtable/lti/advantage"
)

// fakeLMS is a gradebook whose answers a test scripts.
type fakeLMS struct {
	mu        sync.Mutex
	scores    map[string][]advantage.Score // by user subject
	failures  []error                      // answered before succeeding, in order
	down      error                        // answered to every call while set
	calls     int
	created   int
	maximum   float64 // the line item's
	inFlight  int
	maxFlight int
}

func newFakeLMS() *fakeLMS { return &fakeLMS{scores: map[string][]advantage.Score{}} }

func (f *fakeLMS) FindOrCreateLineItem(ctx context.Context, reg lti.Registration, url string, want advantage.LineItem) (advantage.LineItem, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.created++
	f.maximum = want.ScoreMaximum
	want.ID = url + "/1"
	return want, nil
}

func (f *fakeLMS) LineItem(ctx context.Context, reg lti.Registration, url string) (advantage.LineItem, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return advantage.LineItem{ID: url, Label: "Week 1 discussion", ScoreMaximum: f.maximum}, nil
}

func (f *fakeLMS) UpdateLineItem(ctx context.Context, reg lti.Registration, li advantage.LineItem) (advantage.LineItem, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.maximum = li.ScoreMaximum
	return li, nil
}

func (f *fakeLMS) PublishScore(ctx context.Context, reg lti.Registration, url string, s advantage.Score) error {
	f.mu.Lock()
	f.calls++
	f.inFlight++
	f.maxFlight = max(f.maxFlight, f.inFlight)
	err := f.down
	if err == nil && len(f.failures) > 0 {
		err, f.failures = f.failures[0], f.failures[1:]
	}
	f.mu.Unlock()
	time.Sleep(2 * time.Millisecond)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.inFlight--
	if err != nil {
		return err
	}
	if prev := f.scores[s.UserID]; len(prev) > 0 && !s.Timestamp.After(prev[len(prev)-1].Timestamp) {
		return fmt.Errorf("stale timestamp %v after %v", s.Timestamp, prev[len(prev)-1].Timestamp)
	}
	f.scores[s.UserID] = append(f.scores[s.UserID], s)
	return nil
}

func (f *fakeLMS) latest(subject string) (advantage.Score, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ss := f.scores[subject]
	if len(ss) == 0 {
		return advantage.Score{}, 0
	}
	return ss[len(ss)-1], len(ss)
}

type oneRegistration struct{}

func (oneRegistration) Registration(ctx context.Context, id string) (lti.Registration, error) {
	return lti.Registration{ID: id, Issuer: "https://lms.example", ClientID: "c1", TokenURL: "https://lms.example/token"}, nil
}

// fixture is one course with a graded activity, a teacher and learners.
type fixture struct {
	db       *store.DB
	courses  *course.Store
	talk     *discussion.Store
	grades   *grade.Service
	lms      *fakeLMS
	link     course.Link
	cohort   string
	space    string
	teacher  string
	learners []course.User
}

func setup(t *testing.T, db *store.DB, cfg grade.Config, agsLineItems string) *fixture {
	t.Helper()
	ctx := context.Background()
	storetest.AddPlatform(t, db, "p1", "https://lms.example")
	f := &fixture{db: db, courses: course.NewStore(db), lms: newFakeLMS()}
	if cfg.BackoffBase == 0 {
		cfg.BackoffBase, cfg.BackoffMax = 20*time.Millisecond, 100*time.Millisecond
	}
	cfg.PollInterval = 50 * time.Millisecond
	var err error
	f.grades, err = grade.New(db, f.lms, oneRegistration{}, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.talk = discussion.NewStore(db)
	f.talk.PostsPerMinute = 0
	f.talk.OnParticipation = func(ctx context.Context, tx *gorm.DB, orgID, linkID string, users []string) error {
		return f.grades.Recompute(ctx, tx, orgID, linkID, users...)
	}
	launch := func(subject string, roles course.Roles) course.Recorded {
		var rec course.Recorded
		err := db.Tx(ctx, func(tx *gorm.DB) error {
			var err error
			rec, err = f.courses.RecordLaunch(ctx, tx, course.LaunchInput{OrgID: "p1", PlatformID: "p1", Issuer: "https://lms.example", DeploymentID: "d1", Subject: subject,
				Name: "Person " + subject, ContextID: "ctx", ResourceLinkID: "rl1", LinkTitle: "Week 1 discussion", Roles: roles,
				AGSLineItems: agsLineItems, AGSScopes: []string{"https://purl.imsglobal.org/spec/lti-ags/scope/score"}})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return rec
	}
	teacher := launch("teacher", course.Roles{course.Instructor})
	f.link, f.cohort, f.teacher = teacher.Link, teacher.Cohort.ID, teacher.User.ID
	sp, err := space.NewStore(db).ForCohort(ctx, "p1", teacher.Course.ID, teacher.Link.ID, teacher.Cohort.ID)
	if err != nil {
		t.Fatal(err)
	}
	f.space = sp.ID
	for i := range 3 {
		f.learners = append(f.learners, launch(fmt.Sprintf("learner-%d", i), course.Roles{course.Learner}).User)
	}
	return f
}

func (f *fixture) viewer(userID string, staff bool) discussion.Viewer {
	return discussion.Viewer{SpaceID: f.space, OrgID: "p1", CourseID: f.link.CourseID, LinkID: f.link.ID, CohortID: f.cohort, UserID: userID, Staff: staff}
}

func (f *fixture) configure(t *testing.T, st course.Settings) {
	t.Helper()
	ctx := context.Background()
	st.OrgID, st.LinkID = "p1", f.link.ID
	err := f.db.Tx(ctx, func(tx *gorm.DB) error {
		if err := f.courses.SaveSettings(ctx, tx, st); err != nil {
			return err
		}
		return f.grades.RecomputeActivity(ctx, tx, "p1", f.link.ID)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) thread(t *testing.T, userID, title string) string {
	t.Helper()
	id, err := f.talk.CreateThread(context.Background(), f.viewer(userID, false), discussion.ThreadInput{Kind: discussion.Question, Title: title, Body: "What do you think about " + title + "?"})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (f *fixture) reply(t *testing.T, userID, threadID string) string {
	t.Helper()
	id, err := f.talk.Reply(context.Background(), f.viewer(userID, false), threadID, discussion.ReplyInput{Body: "I think it depends on the context."})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (f *fixture) start(t *testing.T) {
	t.Helper()
	if err := f.grades.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		f.grades.Stop(ctx)
	})
}

// eventually waits for cond; the minute bounds a hang only, since the
// queue's polling slows down on a loaded machine.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (f *fixture) state(t *testing.T, userID string) (state string, attempts int, lastError string) {
	t.Helper()
	err := f.db.QueryRow(context.Background(), `SELECT state, attempts, last_error FROM grade_scores WHERE org_id = 'p1' AND link_id = ? AND user_id = ?`,
		f.link.ID, userID).Scan(&state, &attempts, &lastError)
	if err != nil {
		t.Fatalf("read score state: %v", err)
	}
	return
}

func TestCompletionIsScoredAndDeliveredInOrder(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db, grade.Config{}, "https://lms.example/courses/1/lineitems")
		f.configure(t, course.Settings{Kind: activity.KindDiscussion, CohortPolicy: course.CohortCourse, GroupSize: 12, Graded: true, Points: 10,
			Options: activity.DiscussionOptions{AllowAnonymous: true, Credit: activity.CreditProportional, Rule: activity.CompletionRule{MinThreads: 1, MinReplies: 2}}})
		f.start(t)
		alice, bob := f.learners[0], f.learners[1]

		th := f.thread(t, alice.ID, "Scope of the first project")
		// Alice: 1 of 1 thread, 0 of 2 replies: half the rule.
		eventually(t, "alice's first score", func() bool { _, n := f.lms.latest(alice.Subject); return n >= 1 })
		s, _ := f.lms.latest(alice.Subject)
		if *s.ScoreGiven != 5 || s.ScoreMaximum != 10 || s.ActivityProgress != grade.ActivityInProgress || s.GradingProgress != grade.GradingPending {
			t.Fatalf("after one thread: %+v (given %v)", s, *s.ScoreGiven)
		}
		other := f.thread(t, bob.ID, "Reading list")
		f.reply(t, alice.ID, other)
		f.reply(t, alice.ID, th)
		eventually(t, "alice's completed score", func() bool {
			s, _ := f.lms.latest(alice.Subject)
			return s.ActivityProgress == grade.ActivityCompleted
		})
		s, n := f.lms.latest(alice.Subject)
		if *s.ScoreGiven != 10 || s.GradingProgress != grade.GradingFullyGraded {
			t.Fatalf("completed: %+v (given %v)", s, *s.ScoreGiven)
		}
		// Scores only move forward in time; fewer deliveries than changes
		// are fine (a newer score supersedes a queued one), more are not.
		if n > 3 {
			t.Fatalf("alice's score was sent %d times for 3 changes", n)
		}
		// The teacher's posts are not graded.
		f.reply(t, f.teacher, th)
		if _, n := f.lms.latest("teacher"); n != 0 {
			t.Fatal("a score was sent for the teacher")
		}
		// The LMS holds the score before the delivery is marked done.
		eventually(t, "alice's score marked delivered", func() bool {
			st, _, _ := f.state(t, alice.ID)
			return st == grade.StateDelivered
		})
		// Removing a reply takes the completion back.
		replyID := f.reply(t, bob.ID, th)
		if err := f.talk.Delete(context.Background(), f.viewer(bob.ID, false), replyID); err != nil {
			t.Fatal(err)
		}
		st, err := f.courses.Settings(context.Background(), "p1", f.link.ID)
		if err != nil {
			t.Fatal(err)
		}
		p, err := f.grades.ProgressOf(context.Background(), st, bob.ID)
		if err != nil || len(p.Items) != 2 || p.Items[0].Have != 1 || p.Items[1].Have != 0 || p.Completed {
			t.Fatalf("bob's progress = %+v err=%v", p, err)
		}
	})
}

func TestRuleChangeRescoresEveryone(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db, grade.Config{}, "https://lms.example/courses/1/lineitems")
		rule := course.Settings{Kind: activity.KindDiscussion, CohortPolicy: course.CohortCourse, GroupSize: 12, Graded: true, Points: 10,
			Options: activity.DiscussionOptions{AllowAnonymous: true, Credit: activity.CreditFull, Rule: activity.CompletionRule{MinThreads: 2}}}
		f.configure(t, rule)
		f.start(t)
		for _, l := range f.learners[:2] {
			f.thread(t, l.ID, "A question from "+l.Name)
		}
		eventually(t, "first scores", func() bool {
			_, a := f.lms.latest(f.learners[0].Subject)
			_, b := f.lms.latest(f.learners[1].Subject)
			return a == 1 && b == 1
		})
		if s, _ := f.lms.latest(f.learners[0].Subject); *s.ScoreGiven != 0 {
			t.Fatalf("full credit before completion = %v", *s.ScoreGiven)
		}
		rule.Options = activity.DiscussionOptions{AllowAnonymous: true, Credit: activity.CreditFull, Rule: activity.CompletionRule{MinThreads: 1}}
		f.configure(t, rule)
		for _, l := range f.learners[:2] {
			eventually(t, "re-scored "+l.Name, func() bool { s, _ := f.lms.latest(l.Subject); return *s.ScoreGiven == 10 })
		}
		if _, n := f.lms.latest(f.learners[2].Subject); n != 0 {
			t.Fatal("a learner who never posted got a score")
		}
	})
}

func TestFailuresRetryBackOffAndDeadLetter(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db, grade.Config{MaxAttempts: 4}, "https://lms.example/courses/1/lineitems")
		f.configure(t, course.Settings{Kind: activity.KindDiscussion, CohortPolicy: course.CohortCourse, GroupSize: 12, Graded: true, Points: 10,
			Options: activity.DiscussionOptions{AllowAnonymous: true, Credit: activity.CreditFull, Rule: activity.CompletionRule{MinThreads: 1}}})
		alice, bob := f.learners[0], f.learners[1]
		// 500, then 429 asking for a second, then success.
		f.lms.failures = []error{
			&advantage.Error{Op: "publish score", Status: http.StatusInternalServerError},
			&advantage.Error{Op: "publish score", Status: http.StatusTooManyRequests, RetryAfter: time.Second},
		}
		f.start(t)
		begin := time.Now()
		f.thread(t, alice.ID, "Deadlines")
		eventually(t, "alice's score after failures", func() bool { _, n := f.lms.latest(alice.Subject); return n == 1 })
		if waited := time.Since(begin); waited < time.Second {
			t.Fatalf("delivered %v after the 429 asked for a second", waited)
		}
		if f.lms.calls != 3 {
			t.Fatalf("calls = %d, want 3 (500, 429, success)", f.lms.calls)
		}

		// A refusal (422) stops at once and is kept with its reason.
		f.lms.mu.Lock()
		f.lms.failures = []error{&advantage.Error{Op: "publish score", Status: http.StatusUnprocessableEntity, Body: "user not in course"}}
		f.lms.mu.Unlock()
		f.thread(t, bob.ID, "Group work")
		eventually(t, "bob's dead letter", func() bool { st, _, _ := f.state(t, bob.ID); return st == grade.StateFailed })
		_, attempts, reason := f.state(t, bob.ID)
		if attempts != 1 || reason == "" {
			t.Fatalf("dead letter attempts=%d reason=%q", attempts, reason)
		}
		failed, err := f.grades.Deliveries(context.Background(), grade.Filter{OrgID: "p1", CourseID: f.link.CourseID, State: grade.StateFailed})
		if err != nil || len(failed) != 1 || failed[0].UserID != bob.ID || failed[0].LastError == "" || failed[0].ActivityTitle != "Week 1 discussion" {
			t.Fatalf("course failures = %+v, %v", failed, err)
		}
		// A person retries: it is delivered.
		n, err := f.grades.Retry(context.Background(), grade.Filter{OrgID: "p1", CourseID: f.link.CourseID}, "")
		if err != nil || n != 1 {
			t.Fatalf("retry = %d, %v", n, err)
		}
		eventually(t, "bob's score after retry", func() bool { _, n := f.lms.latest(bob.Subject); return n == 1 })

		// Failing past the last attempt dead-letters too.
		f.lms.mu.Lock()
		for range 4 {
			f.lms.failures = append(f.lms.failures, &advantage.Error{Op: "publish score", Status: http.StatusBadGateway})
		}
		f.lms.mu.Unlock()
		carol := f.learners[2]
		f.thread(t, carol.ID, "Exam format")
		eventually(t, "carol's dead letter", func() bool { st, _, _ := f.state(t, carol.ID); return st == grade.StateFailed })
		if _, attempts, _ := f.state(t, carol.ID); attempts != 4 {
			t.Fatalf("attempts = %d, want 4", attempts)
		}
	})
}

func TestOneDeliveryAtATimePerLMSAndNewestWins(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db, grade.Config{Workers: 4}, "https://lms.example/courses/1/lineitems")
		f.configure(t, course.Settings{Kind: activity.KindDiscussion, CohortPolicy: course.CohortCourse, GroupSize: 12, Graded: true, Points: 10,
			Options: activity.DiscussionOptions{AllowAnonymous: true, Credit: activity.CreditProportional, Rule: activity.CompletionRule{MinReplies: 20}}})
		th := f.thread(t, f.teacher, "Introduce yourselves")
		// Changes queue up before the workers start: each learner's newest
		// score supersedes the older ones.
		for i := range 10 {
			for _, l := range f.learners {
				_ = i
				f.reply(t, l.ID, th)
			}
		}
		f.start(t)
		for _, l := range f.learners {
			eventually(t, "latest score of "+l.Name, func() bool { s, _ := f.lms.latest(l.Subject); return s.ScoreGiven != nil && *s.ScoreGiven == 5 })
			if _, n := f.lms.latest(l.Subject); n != 1 {
				t.Fatalf("%s: %d scores sent for one pending score", l.Name, n)
			}
		}
		if f.lms.maxFlight != 1 {
			t.Fatalf("%d deliveries ran at once against one LMS", f.lms.maxFlight)
		}
		if f.lms.created != 1 {
			t.Fatalf("line item resolved %d times", f.lms.created)
		}
	})
}

func TestNoGradebookServiceIsShownNotQueued(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db, grade.Config{}, "")
		f.configure(t, course.Settings{Kind: activity.KindDiscussion, CohortPolicy: course.CohortCourse, GroupSize: 12, Graded: true, Points: 10,
			Options: activity.DiscussionOptions{AllowAnonymous: true, Credit: activity.CreditFull, Rule: activity.CompletionRule{MinThreads: 1}}})
		f.thread(t, f.learners[0].ID, "Where is the syllabus")
		if st, _, _ := f.state(t, f.learners[0].ID); st != grade.StateUnavailable {
			t.Fatalf("state = %s, want %s", st, grade.StateUnavailable)
		}
		var jobs int
		if err := db.QueryRow(context.Background(), `SELECT COUNT(*) FROM river_job`).Scan(&jobs); err != nil {
			t.Fatal(err)
		}
		if jobs != 0 {
			t.Fatalf("%d jobs queued without a gradebook service", jobs)
		}
	})
}

func TestRolledBackChangeQueuesNothing(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db, grade.Config{}, "https://lms.example/courses/1/lineitems")
		f.configure(t, course.Settings{Kind: activity.KindDiscussion, CohortPolicy: course.CohortCourse, GroupSize: 12, Graded: true, Points: 10,
			Options: activity.DiscussionOptions{AllowAnonymous: true, Credit: activity.CreditFull, Rule: activity.CompletionRule{MinThreads: 1}}})
		boom := errors.New("the change failed after scoring")
		err := db.Tx(context.Background(), func(tx *gorm.DB) error {
			if err := f.grades.Recompute(context.Background(), tx, "p1", f.link.ID, f.learners[0].ID); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		var rows, jobs int
		db.QueryRow(context.Background(), `SELECT COUNT(*) FROM grade_scores`).Scan(&rows)
		db.QueryRow(context.Background(), `SELECT COUNT(*) FROM river_job`).Scan(&jobs)
		if rows != 0 || jobs != 0 {
			t.Fatalf("after a rollback: %d scores, %d jobs", rows, jobs)
		}
	})
}

// A delivery job queued before organisations named the registration; its
// organisation has the registration's id.
func TestDeliverArgsOfAnEarlierReleaseNameTheOrganisation(t *testing.T) {
	var a grade.DeliverArgs
	if err := json.Unmarshal([]byte(`{"platform_id":"p1","link_id":"l1","user_id":"u1"}`), &a); err != nil || a != (grade.DeliverArgs{OrgID: "p1", LinkID: "l1", UserID: "u1"}) {
		t.Errorf("an earlier job's arguments: %+v %v", a, err)
	}
	b, _ := json.Marshal(grade.DeliverArgs{OrgID: "o1", LinkID: "l1", UserID: "u1"})
	if err := json.Unmarshal(b, &a); err != nil || a.OrgID != "o1" {
		t.Errorf("a job's arguments round trip: %s %+v %v", b, a, err)
	}
}
