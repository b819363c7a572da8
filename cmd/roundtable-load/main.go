// Command roundtable-load measures launches against a running Roundtable:
// it starts the built-in LTI platform, registers it with the tool's
// database, and drives complete launches (login initiation, the platform's
// authorization, the launch post, the activity page) over real HTTP, then
// reports throughput, latency, and the CPU each process spent per launch.
// The platform runs on loopback: the tool must be allowed to reach it.
//
//	roundtable serve --database-url "$DB" --allow-private-networks 127.0.0.0/8 &
//	roundtable-load --tool http://localhost:8080 --database-url "$DB" --tool-pid $!
//
// Scenarios (--scenario):
//
//   - relaunch: every learner launches once (the warm-up), then they
//     launch again and again, minutes apart at most: nothing to record.
//   - first-launch: every measured launch is a learner's first, in the one
//     course, as at the start of a term.
//   - returning-launch: every measured launch is a learner who launched
//     before, a day ago: their membership is touched, nothing created.
//
// --members grows the course first to that many members (written straight
// into the tool's database, never analysed), to show what a launch costs
// in a big course.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/tenant"
	"github.com/roundtable-lms/roundtable/lti"
	"github.com/roundtable-lms/roundtable/lti/ltiplatform"
)

type options struct {
	tool        string
	databaseURL string
	dataDir     string
	toolPID     int
	concurrency int
	duration    time.Duration
	maxLaunches int
	users       int
	scenario    string
	members     int
}

// Scenarios.
const (
	scenarioRelaunch  = "relaunch"
	scenarioFirst     = "first-launch"
	scenarioReturning = "returning-launch"
)

func main() {
	var o options
	flag.StringVar(&o.tool, "tool", "http://localhost:8080", "base URL of the running Roundtable")
	flag.StringVar(&o.databaseURL, "database-url", os.Getenv("DATABASE_URL"), "the tool's database (postgres:// URL); empty: SQLite in --data-dir")
	flag.StringVar(&o.dataDir, "data-dir", "./data", "the tool's data dir, for SQLite")
	flag.IntVar(&o.toolPID, "tool-pid", 0, "process id of the tool, to report its CPU per launch")
	flag.IntVar(&o.concurrency, "concurrency", 32, "launches in flight at once")
	flag.DurationVar(&o.duration, "duration", 20*time.Second, "how long to measure (after the warm-up)")
	flag.IntVar(&o.maxLaunches, "max-launches", 100000, "stop after this many measured launches")
	flag.IntVar(&o.users, "users", 500, "learners in the load course (relaunch, returning-launch: each launches once before measuring)")
	flag.StringVar(&o.scenario, "scenario", scenarioRelaunch, "what each measured launch is: relaunch, first-launch or returning-launch")
	flag.IntVar(&o.members, "members", 0, "grow the course to this many members before measuring")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "roundtable-load:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options, out io.Writer) error {
	if o.concurrency < 1 || o.users < 1 || o.duration <= 0 || o.maxLaunches < 1 || o.members < 0 {
		return errors.New("--concurrency, --users, --duration and --max-launches must be positive")
	}
	switch o.scenario {
	case scenarioRelaunch, scenarioFirst, scenarioReturning:
	default:
		return fmt.Errorf("--scenario %q: want relaunch, first-launch or returning-launch", o.scenario)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	p, err := ltiplatform.New(ltiplatform.Config{Issuer: "http://" + ln.Addr().String(), Name: "Load LMS",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: p.Handler()}
	go srv.Serve(ln)
	defer srv.Close()

	db, err := openStore(ctx, o)
	if err != nil {
		return err
	}
	defer db.Close()
	clientID, orgID, err := register(ctx, db, p)
	if err != nil {
		return err
	}
	const course, link = "load-course", "load-discussion"
	steps := []error{
		p.AddTool(ltiplatform.Tool{ClientID: clientID, DeploymentID: "load", Name: "Roundtable",
			LoginURL: o.tool + "/lti/login", RedirectURIs: []string{o.tool + "/lti/launch"}, TargetLinkURI: o.tool + "/lti/launch"}),
		p.AddCourse(ltiplatform.Course{ID: course, Label: "LOAD-1", Title: "Load test course"}),
		p.AddResourceLink(ltiplatform.ResourceLink{ID: link, CourseID: course, Title: "Cohort discussion"}),
	}
	// Learners are named by the run, so that a run on a database an earlier
	// run used launches new learners where it means to.
	run := lti.RandomToken(4)
	newLearner := func(i int) (string, error) {
		id := fmt.Sprintf("load-%s-%06d", run, i)
		return id, errors.Join(p.AddUser(ltiplatform.User{ID: id, Name: fmt.Sprintf("Learner %d", i), Email: id + "@example.edu"}),
			p.Enroll(course, id, lti.RoleLearner))
	}
	users := make([]string, o.users)
	for i := range users {
		var err error
		users[i], err = newLearner(i)
		steps = append(steps, err)
	}
	if err := errors.Join(steps...); err != nil {
		return err
	}

	toolHost := strings.TrimPrefix(strings.TrimPrefix(o.tool, "http://"), "https://")
	transport := &ltiplatform.HostTimer{Next: &http.Transport{MaxIdleConnsPerHost: o.concurrency * 2, MaxIdleConns: o.concurrency * 4}, Host: toolHost}
	launch := func(user string) (time.Duration, error) {
		b := ltiplatform.NewBrowser()
		b.HTTPClient().Transport = transport
		start := time.Now()
		res, err := b.Launch(ctx, p, ltiplatform.LaunchRequest{ClientID: clientID, UserID: user, CourseID: course, ResourceLinkID: link})
		if err != nil {
			return 0, err
		}
		if res.StatusCode != http.StatusOK {
			return 0, fmt.Errorf("launch ended with %d at %s", res.StatusCode, res.URL)
		}
		return time.Since(start), nil
	}

	// The course exists once its first learner launched; then it grows.
	if _, err := launch(users[0]); err != nil {
		return err
	}
	if o.members > 0 {
		fmt.Fprintf(out, "growing the course to %d members...\n", o.members)
		if err := growCourse(ctx, db, orgID, p.Issuer(), "load", course, run, o.members); err != nil {
			return err
		}
	}
	// Warm-up: every learner's first launch, as on a course's first day;
	// for first launches, a few to warm the tool's caches.
	warm := users
	if o.scenario == scenarioFirst {
		warm = users[:min(len(users), 2*o.concurrency)]
	}
	fmt.Fprintf(out, "warm-up: %d first launches...\n", len(warm))
	if _, _, err := drive(ctx, o.concurrency, len(warm), time.Hour, func(i int) (time.Duration, error) { return launch(warm[i]) }); err != nil {
		return err
	}
	measured := func(int) (time.Duration, error) { return 0, nil }
	var next atomic.Int64
	switch o.scenario {
	case scenarioRelaunch:
		measured = func(int) (time.Duration, error) { return launch(users[int(next.Add(1))%len(users)]) }
	case scenarioFirst:
		measured = func(i int) (time.Duration, error) {
			id, err := newLearner(len(users) + i)
			if err != nil {
				return 0, err
			}
			return launch(id)
		}
	case scenarioReturning:
		// The learners launched a day ago; each launches once more.
		if err := ageLaunches(ctx, db, orgID, run, 24*time.Hour); err != nil {
			return err
		}
		o.maxLaunches = min(o.maxLaunches, len(users))
		measured = func(i int) (time.Duration, error) { return launch(users[i]) }
	}
	fmt.Fprintf(out, "scenario %s, %d members in the course\n", o.scenario, courseSize(ctx, db, orgID, course))

	toolBefore, _ := processCPU(o.toolPID)
	pgBefore := postgresCPU()
	backendsBefore := backendCPU(ctx, db)
	selfBefore, _ := processCPU(os.Getpid())
	transport.Reset()
	lat, elapsed, err := drive(ctx, o.concurrency, o.maxLaunches, o.duration, measured)
	if err != nil {
		return err
	}
	toolAfter, _ := processCPU(o.toolPID)
	pgAfter := postgresCPU()
	backendsAfter := backendCPU(ctx, db)
	selfAfter, _ := processCPU(os.Getpid())

	n := len(lat)
	slices.Sort(lat)
	pct := func(q float64) time.Duration { return lat[min(n-1, int(q*float64(n)))] }
	perLaunch := func(d time.Duration) string { return fmt.Sprintf("%.3f ms", float64(d)/float64(n)/1e6) }
	fmt.Fprintf(out, "launches:            %d in %s (concurrency %d)\n", n, elapsed.Round(time.Millisecond), o.concurrency)
	fmt.Fprintf(out, "throughput:          %.0f launches/s\n", float64(n)/elapsed.Seconds())
	fmt.Fprintf(out, "launch latency:      p50 %s  p95 %s  p99 %s\n", pct(0.50).Round(10*time.Microsecond), pct(0.95).Round(10*time.Microsecond), pct(0.99).Round(10*time.Microsecond))
	fmt.Fprintf(out, "tool response time:  %s per launch (sum of its %d requests' times, queueing included)\n", perLaunch(transport.Total()), transport.Requests()/int64(n))
	if o.toolPID > 0 {
		toolCPU := toolAfter - toolBefore
		fmt.Fprintf(out, "tool CPU:            %s per launch\n", perLaunch(toolCPU))
		if pgAfter > pgBefore {
			pgCPU := pgAfter - pgBefore
			fmt.Fprintf(out, "Postgres CPU:        %s per launch (every postgres process on the machine)\n", perLaunch(pgCPU))
			var own time.Duration
			for pid, cpu := range backendsAfter {
				own += cpu - backendsBefore[pid]
			}
			fmt.Fprintf(out, "  of which backends: %s per launch (the backends connected to the tool's database)\n", perLaunch(own))
			fmt.Fprintf(out, "tool capacity:       %.0f launches/s on %d cores (tool + Postgres CPU alone)\n",
				float64(ncpu())*float64(n)*1e9/float64(toolCPU+pgCPU), ncpu())
		}
	}
	fmt.Fprintf(out, "platform+client CPU: %s per launch (this process: the LMS's signing and the browsers)\n", perLaunch(selfAfter-selfBefore))
	return nil
}

func openStore(ctx context.Context, o options) (*store.DB, error) {
	cfg := store.Config{URL: o.databaseURL, MaxConns: 2}
	if o.databaseURL == "" {
		cfg.SQLitePath = filepath.Join(o.dataDir, "roundtable.db")
	}
	return store.Open(ctx, cfg)
}

// register adds the load platform to the tool's registry, through the
// tool's own database, and returns its client id and organisation id.
func register(ctx context.Context, db *store.DB, p *ltiplatform.Platform) (clientID, orgID string, err error) {
	clientID = "load-" + lti.RandomToken(6)
	reg, err := tenant.NewRegistry(db).Add(ctx, tenant.Platform{Name: "Load LMS " + clientID, Issuer: p.Issuer(), ClientID: clientID,
		AuthURL: p.AuthURL(), TokenURL: p.TokenURL(), JWKSURL: p.JWKSURL(), Deployments: []string{"load"}})
	return clientID, reg.OrgID, err
}

// growCourse adds n members to the course and its course-wide cohort in
// a few statements, as a roster sync of a big course would leave them;
// they last launched a day ago. Nothing analyses the tables afterwards.
func growCourse(ctx context.Context, db *store.DB, orgID, issuer, deploymentID, contextKey, run string, n int) error {
	var course struct{ ID, CohortID string }
	if err := db.WithContext(ctx).Raw(`SELECT c.id, co.id AS cohort_id FROM courses c
		JOIN cohorts co ON co.org_id = c.org_id AND co.course_id = c.id AND co.cohort_key = 'course'
		WHERE c.org_id = ? AND c.deployment_id = ? AND c.context_key = ?`, orgID, deploymentID, contextKey).Scan(&course).Error; err != nil {
		return fmt.Errorf("read the load course: %w", err)
	}
	if course.ID == "" {
		return errors.New("the load course is not recorded")
	}
	series := `WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < ?) `
	prefix := "member-" + run + "-"
	day := time.Now().UTC().Add(-24 * time.Hour)
	steps := []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO users (org_id, id, issuer, subject, name, pseudonym, created_at, updated_at) ` + series +
			`SELECT ?, ? || CAST(n AS TEXT), ?, ? || CAST(n AS TEXT), 'Member ' || CAST(n AS TEXT), 'Member ' || CAST(n AS TEXT), ?, ? FROM g`,
			[]any{n, orgID, prefix, issuer, prefix, day, day}},
		{`INSERT INTO memberships (org_id, course_id, user_id, roles, lti_roles, status, last_launch_at, created_at, updated_at) ` + series +
			`SELECT ?, ?, ? || CAST(n AS TEXT), 'learner', ?, 'active', ?, ?, ? FROM g`,
			[]any{n, orgID, course.ID, prefix, lti.RoleLearner, day, day, day}},
		{`INSERT INTO cohort_members (org_id, cohort_id, user_id, created_at) ` + series +
			`SELECT ?, ?, ? || CAST(n AS TEXT), ? FROM g`,
			[]any{n, orgID, course.CohortID, prefix, day}},
		{`UPDATE cohorts SET member_count = member_count + ? WHERE org_id = ? AND id = ?`,
			[]any{n, orgID, course.CohortID}},
	}
	return db.Tx(ctx, func(tx *gorm.DB) error {
		for _, s := range steps {
			if err := tx.Exec(s.sql, s.args...).Error; err != nil {
				return fmt.Errorf("grow the load course: %w", err)
			}
		}
		return nil
	})
}

// ageLaunches moves the last launch of the run's learners back by d, as if
// they had launched that long ago.
func ageLaunches(ctx context.Context, db *store.DB, orgID, run string, d time.Duration) error {
	return db.WithContext(ctx).Exec(`UPDATE memberships SET last_launch_at = ? WHERE org_id = ?
		AND user_id IN (SELECT id FROM users WHERE org_id = ? AND subject LIKE ?)`,
		time.Now().UTC().Add(-d), orgID, orgID, "load-"+run+"-%").Error
}

// courseSize is the course-wide cohort's member count, as pages read it.
func courseSize(ctx context.Context, db *store.DB, orgID, contextKey string) int {
	var n int
	db.WithContext(ctx).Raw(`SELECT co.member_count FROM cohorts co JOIN courses c ON c.org_id = co.org_id AND c.id = co.course_id
		WHERE co.org_id = ? AND c.context_key = ? AND co.cohort_key = 'course'`, orgID, contextKey).Scan(&n)
	return n
}

// drive runs fn from workers until count calls are done or the duration
// passes, and returns each call's latency.
func drive(ctx context.Context, workers, count int, d time.Duration, fn func(i int) (time.Duration, error)) ([]time.Duration, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var (
		mu       sync.Mutex
		lat      = make([]time.Duration, 0, min(count, 1<<20))
		firstErr error
		issued   atomic.Int64
		wg       sync.WaitGroup
	)
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(issued.Add(1)) - 1
				if i >= count {
					return
				}
				l, err := fn(i)
				mu.Lock()
				if err != nil && firstErr == nil && ctx.Err() == nil {
					firstErr = err
					cancel()
				} else if err == nil {
					lat = append(lat, l)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(lat) == 0 && firstErr == nil {
		firstErr = errors.New("no launch completed")
	}
	return lat, time.Since(start), firstErr
}

// processCPU is a process's user+system CPU time from /proc.
func processCPU(pid int) (time.Duration, error) {
	if pid <= 0 {
		return 0, errors.New("no pid")
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which may hold spaces.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	if len(f) < 15 {
		return 0, errors.New("short /proc stat")
	}
	ticks := 0
	for _, i := range []int{11, 12} { // utime, stime
		v, _ := strconv.Atoi(f[i])
		ticks += v
	}
	return time.Duration(ticks) * time.Second / 100, nil
}

// postgresCPU sums the CPU of every postgres process, with the children the
// postmaster has already reaped.
func postgresCPU() time.Duration {
	entries, _ := os.ReadDir("/proc")
	var total time.Duration
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil || !strings.Contains(string(b), "(postgres)") {
			continue
		}
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
		if len(f) < 15 {
			continue
		}
		ticks := 0
		for _, i := range []int{11, 12, 13, 14} { // utime, stime, cutime, cstime
			v, _ := strconv.Atoi(f[i])
			ticks += v
		}
		total += time.Duration(ticks) * time.Second / 100
	}
	return total
}

// backendCPU reads the CPU time of each Postgres backend connected to the
// tool's database: on a machine whose Postgres serves other databases too,
// these are the launches' own. A backend that exits during the run takes
// its time with it; the tool's pool keeps its connections.
func backendCPU(ctx context.Context, db *store.DB) map[int]time.Duration {
	out := map[int]time.Duration{}
	if db.Dialect != store.Postgres {
		return out
	}
	var pids []int
	db.WithContext(ctx).Raw(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`).Scan(&pids)
	for _, pid := range pids {
		if cpu, err := processCPU(pid); err == nil {
			out[pid] = cpu
		}
	}
	return out
}

func ncpu() int { return runtime.NumCPU() }
