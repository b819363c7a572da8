package grade_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable/discussion"
	"github.com/roundtable-lms/roundtable/internal/activity"
	"github.com/roundtable-lms/roundtable/internal/course"
	"github.com/roundtable-lms/roundtable/internal/grade"
	"github.com/roundtable-lms/roundtable/internal/space"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
	"github.com/roundtable-lms/roundtable/internal/tenant"
	"github.com/roundtable-lms/roundtable/lti"
	"github.com/roundtable-lms/roundtable/lti/ltiplatform"
)

const killSecret = "grade delivery kill test secret, long enough"

// TestDeliveryResumesAfterTheServerIsKilled queues a score for each of 40
// learners, starts a real `roundtable serve` process to deliver them to
// the built-in LMS (which answers slowly), kills it with SIGKILL halfway,
// lets every learner's score change while it is down, starts it again,
// and checks that the LMS ends with exactly the newest score of every
// learner and that Roundtable records every score as delivered.
func TestDeliveryResumesAfterTheServerIsKilled(t *testing.T) {
	t.Parallel()
	buildRoundtable()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			killAndResume(t, kind)
		})
	}
}

func killAndResume(t *testing.T, kind store.Dialect) {
	// Forty learners: each reply notifies every follower of the thread
	// (every learner who replied), so the replies cost the square of the
	// learners, most of it in SQLite under the race detector; 120 took
	// 45 s of the SQLite half's 80. A third of forty delivered before the
	// kill still leaves scores delivered, one in flight and most queued.
	const learners = 40
	ctx := context.Background()
	db, cfg := storetest.OpenConfig(t, kind)

	// The LMS answers each service call after 50 ms, so the delivery of
	// every score takes a few seconds: long enough to be cut short.
	pln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p, err := ltiplatform.New(ltiplatform.Config{Issuer: "http://" + pln.Addr().String(), Name: "Test LMS", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	psrv := &http.Server{Handler: p.Handler()}
	go psrv.Serve(pln)
	t.Cleanup(func() { psrv.Close() })
	p.SetServiceLatency(50 * time.Millisecond)

	port := freePort(t)
	tool := fmt.Sprintf("http://localhost:%d", port)
	reg, err := tenant.NewRegistry(db).Add(ctx, tenant.Platform{Name: "Test LMS", Issuer: p.Issuer(), ClientID: "client-k",
		AuthURL: p.AuthURL(), TokenURL: p.TokenURL(), JWKSURL: p.JWKSURL(), Deployments: []string{"d1"}})
	if err != nil {
		t.Fatal(err)
	}
	must(t, p.AddTool(ltiplatform.Tool{ClientID: "client-k", DeploymentID: "d1", Name: "Roundtable", LoginURL: tool + "/lti/login",
		RedirectURIs: []string{tool + "/lti/launch"}, TargetLinkURI: tool + "/lti/launch", JWKSURL: tool + "/lti/platforms/" + reg.ID + "/jwks.json"}))
	must(t, p.AddCourse(ltiplatform.Course{ID: "c1", Label: "C1", Title: "Course one"}))
	must(t, p.AddResourceLink(ltiplatform.ResourceLink{ID: "l1", CourseID: "c1", Title: "Graded discussion"}))

	// The course as launches recorded it, and a graded activity: three
	// replies complete it, credit in proportion (3 points a reply).
	courses := course.NewStore(db)
	queue, err := grade.New(db, nil, nil, grade.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	talk := discussion.NewStore(db)
	talk.PostsPerMinute = 0
	talk.OnParticipation = func(ctx context.Context, tx *gorm.DB, orgID, linkID string, users []string) error {
		return queue.Recompute(ctx, tx, orgID, linkID, users...)
	}
	launch := func(subject string, roles course.Roles) course.Recorded {
		var rec course.Recorded
		err := db.Tx(ctx, func(tx *gorm.DB) error {
			var err error
			rec, err = courses.RecordLaunch(ctx, tx, course.LaunchInput{OrgID: reg.OrgID, PlatformID: reg.ID, Issuer: reg.Issuer, DeploymentID: "d1", Subject: subject,
				Name: subject, ContextID: "c1", ResourceLinkID: "l1", LinkTitle: "Graded discussion", Roles: roles,
				AGSLineItems: p.LineItemsURL("c1"), AGSScopes: []string{lti.AGSScopeLineItem, lti.AGSScopeScore}})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return rec
	}
	must(t, p.AddUser(ltiplatform.User{ID: "teacher", Name: "Teacher"}))
	must(t, p.Enroll("c1", "teacher", lti.RoleInstructor))
	teacher := launch("teacher", course.Roles{course.Instructor})
	err = db.Tx(ctx, func(tx *gorm.DB) error {
		return courses.SaveSettings(ctx, tx, course.Settings{OrgID: reg.ID, LinkID: teacher.Link.ID, Kind: activity.KindDiscussion,
			CohortPolicy: course.CohortCourse, GroupSize: 12, Graded: true, Points: 9, Options: activity.DiscussionOptions{AllowAnonymous: true, Credit: activity.CreditProportional, Rule: activity.CompletionRule{MinReplies: 3}}})
	})
	if err != nil {
		t.Fatal(err)
	}
	viewer := func(rec course.Recorded) discussion.Viewer {
		sp, err := space.NewStore(db).ForCohort(ctx, reg.ID, rec.Course.ID, rec.Link.ID, rec.Cohort.ID)
		if err != nil {
			t.Fatal(err)
		}
		return discussion.Viewer{SpaceID: sp.ID, OrgID: reg.ID, CourseID: rec.Course.ID, LinkID: rec.Link.ID, CohortID: rec.Cohort.ID, UserID: rec.User.ID}
	}
	thread, err := talk.CreateThread(ctx, viewer(teacher), discussion.ThreadInput{Kind: discussion.Discussion, Title: "Introduce yourselves", Body: "Who are you?"})
	if err != nil {
		t.Fatal(err)
	}
	recs := make([]course.Recorded, learners)
	for i := range recs {
		id := fmt.Sprintf("learner-%03d", i)
		must(t, p.AddUser(ltiplatform.User{ID: id, Name: id}))
		must(t, p.Enroll("c1", id, lti.RoleLearner))
		recs[i] = launch(id, course.Roles{course.Learner})
	}
	replyAll := func() {
		for _, r := range recs {
			if _, err := talk.Reply(ctx, viewer(r), thread, discussion.ReplyInput{Body: "Hello from " + r.User.Subject}); err != nil {
				t.Fatal(err)
			}
		}
	}
	replyAll() // 3 points owed to everyone

	// The LMS runs on loopback, which the server reaches only when told.
	env := []string{"ROUNDTABLE_SECRET=" + killSecret, "ROUNDTABLE_LISTEN=127.0.0.1:" + strconv.Itoa(port),
		"ROUNDTABLE_BASE_URL=" + tool, "ROUNDTABLE_DATA_DIR=" + filepath.Dir(cfg.SQLitePath), "ROUNDTABLE_LOG_LEVEL=warn",
		"ROUNDTABLE_ALLOW_PRIVATE_NETWORKS=127.0.0.0/8"}
	if kind == store.Postgres {
		env = append(env, "DATABASE_URL="+cfg.URL, "ROUNDTABLE_DATA_DIR="+t.TempDir())
	}
	bin := roundtableBinary(t)
	first := startTool(t, bin, tool, env)
	delivered := func() int {
		n := 0
		for _, li := range p.LineItems("c1") {
			n += len(p.Scores(li.ID))
		}
		return n
	}
	waitFor(t, 60*time.Second, "a third of the first scores", func() bool { return delivered() >= learners/3 })
	first.kill()
	atKill := delivered()
	if atKill >= learners {
		t.Fatalf("every score (%d) was delivered before the kill: the test needs a slower LMS", atKill)
	}

	replyAll() // while Roundtable is down: 6 points owed to everyone
	second := startTool(t, bin, tool, env)
	defer second.stop()

	items := p.LineItems("c1")
	waitFor(t, 90*time.Second, "the newest score of every learner", func() bool {
		items = p.LineItems("c1")
		if len(items) != 1 {
			return false
		}
		for _, r := range recs {
			s, ok := p.LatestScore(items[0].ID, r.User.Subject)
			if !ok || s.ScoreGiven == nil || *s.ScoreGiven != 6 {
				return false
			}
		}
		return true
	})
	if len(items) != 1 {
		t.Fatalf("line items = %d, want 1 (found or created once)", len(items))
	}
	for _, r := range recs {
		s, _ := p.LatestScore(items[0].ID, r.User.Subject)
		var scoredAt time.Time
		var state string
		if err := db.QueryRow(ctx, `SELECT scored_at, state FROM grade_scores WHERE org_id = ? AND link_id = ? AND user_id = ?`,
			reg.ID, r.Link.ID, r.User.ID).Scan(&scoredAt, &state); err != nil {
			t.Fatal(err)
		}
		if !s.Timestamp.Equal(scoredAt.Truncate(time.Millisecond)) || *s.ScoreMaximum != 9 || s.ActivityProgress != grade.ActivityInProgress {
			t.Fatalf("%s: the LMS holds %+v, Roundtable owes the score of %v", r.User.Subject, s, scoredAt)
		}
		waitFor(t, 10*time.Second, r.User.Subject+" recorded as delivered", func() bool {
			db.QueryRow(ctx, `SELECT state FROM grade_scores WHERE org_id = ? AND link_id = ? AND user_id = ?`, reg.ID, r.Link.ID, r.User.ID).Scan(&state)
			return state == grade.StateDelivered
		})
	}
	if n := p.MaxConcurrentRequests("client-k"); n > 1 {
		t.Fatalf("%d service calls ran at once against one LMS", n)
	}
	t.Logf("%d of %d scores had arrived when the server was killed; after the restart every learner's newest score arrived (%d score requests in all)", atKill, learners, delivered())
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// toolProcess is a running `roundtable serve`.
type toolProcess struct {
	t      *testing.T
	cmd    *exec.Cmd
	exited chan error
	logs   *syncBuffer
	once   sync.Once
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func startTool(t *testing.T, bin, base string, env []string) *toolProcess {
	t.Helper()
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), env...)
	tp := &toolProcess{t: t, cmd: cmd, exited: make(chan error, 1), logs: &syncBuffer{}}
	cmd.Stdout, cmd.Stderr = tp.logs, tp.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { tp.exited <- cmd.Wait() }()
	t.Cleanup(func() {
		tp.stop()
		if t.Failed() {
			t.Logf("server logs:\n%s", tp.logs.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return tp
			}
		}
		select {
		case err := <-tp.exited:
			t.Fatalf("the server exited: %v\n%s", err, tp.logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server is not ready\n%s", tp.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill ends the process at once, as a crash or an OOM kill would.
func (tp *toolProcess) kill() {
	tp.once.Do(func() {
		tp.cmd.Process.Signal(syscall.SIGKILL)
		<-tp.exited
	})
}

func (tp *toolProcess) stop() {
	tp.once.Do(func() {
		tp.cmd.Process.Signal(os.Interrupt)
		select {
		case <-tp.exited:
		case <-time.After(20 * time.Second):
			tp.cmd.Process.Kill()
			tp.t.Errorf("the server did not stop on SIGINT")
		}
	})
}
