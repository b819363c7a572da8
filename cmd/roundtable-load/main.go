// Command roundtable-load measures launches against a running Roundtable:
// it starts the built-in LTI platform, registers it with the tool's
// database, and drives complete launches (login initiation, the platform's
// authorization, the launch post, the activity page) over real HTTP, then
// reports throughput, latency, and the CPU each process spent per launch.
// The platform runs on loopback: the tool must be allowed to reach it.
//
//	roundtable serve --database-url "$DB" --allow-private-networks 127.0.0.0/8 &
//	roundtable-load --tool http://localhost:8080 --database-url "$DB" --tool-pid $!
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

	"github.com/roundtable-lms/roundtable/lti"
	"github.com/roundtable-lms/roundtable/lti/ltiplatform"
	"github.com/roundtable-lms/roundtable/store"
	"github.com/roundtable-lms/roundtable/tenant"
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
}

func main() {
	var o options
	flag.StringVar(&o.tool, "tool", "http://localhost:8080", "base URL of the running Roundtable")
	flag.StringVar(&o.databaseURL, "database-url", os.Getenv("DATABASE_URL"), "the tool's database (postgres:// URL); empty: SQLite in --data-dir")
	flag.StringVar(&o.dataDir, "data-dir", "./data", "the tool's data dir, for SQLite")
	flag.IntVar(&o.toolPID, "tool-pid", 0, "process id of the tool, to report its CPU per launch")
	flag.IntVar(&o.concurrency, "concurrency", 32, "launches in flight at once")
	flag.DurationVar(&o.duration, "duration", 20*time.Second, "how long to measure (after the warm-up)")
	flag.IntVar(&o.maxLaunches, "max-launches", 100000, "stop after this many measured launches")
	flag.IntVar(&o.users, "users", 500, "learners in the load course")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "roundtable-load:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options, out io.Writer) error {
	if o.concurrency < 1 || o.users < 1 || o.duration <= 0 || o.maxLaunches < 1 {
		return errors.New("--concurrency, --users, --duration and --max-launches must be positive")
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

	clientID, err := register(ctx, o, p)
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
	users := make([]string, o.users)
	for i := range users {
		users[i] = fmt.Sprintf("load-learner-%05d", i)
		steps = append(steps, p.AddUser(ltiplatform.User{ID: users[i], Name: fmt.Sprintf("Learner %d", i), Email: users[i] + "@example.edu"}),
			p.Enroll(course, users[i], lti.RoleLearner))
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

	// Warm-up: every learner's first launch, as on a course's first day.
	fmt.Fprintf(out, "warm-up: %d first launches...\n", len(users))
	if _, _, err := drive(ctx, o.concurrency, len(users), time.Hour, func(i int) (time.Duration, error) { return launch(users[i]) }); err != nil {
		return err
	}

	toolBefore, _ := processCPU(o.toolPID)
	pgBefore := postgresCPU()
	selfBefore, _ := processCPU(os.Getpid())
	transport.Reset()
	var next atomic.Int64
	lat, elapsed, err := drive(ctx, o.concurrency, o.maxLaunches, o.duration, func(int) (time.Duration, error) {
		return launch(users[int(next.Add(1))%len(users)])
	})
	if err != nil {
		return err
	}
	toolAfter, _ := processCPU(o.toolPID)
	pgAfter := postgresCPU()
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
			fmt.Fprintf(out, "Postgres CPU:        %s per launch\n", perLaunch(pgCPU))
			fmt.Fprintf(out, "tool capacity:       %.0f launches/s on %d cores (tool + Postgres CPU alone)\n",
				float64(ncpu())*float64(n)*1e9/float64(toolCPU+pgCPU), ncpu())
		}
	}
	fmt.Fprintf(out, "platform+client CPU: %s per launch (this process: the LMS's signing and the browsers)\n", perLaunch(selfAfter-selfBefore))
	return nil
}

// register adds the load platform to the tool's registry, through the
// tool's own database, and returns its client id.
func register(ctx context.Context, o options, p *ltiplatform.Platform) (string, error) {
	cfg := store.Config{URL: o.databaseURL}
	if o.databaseURL == "" {
		cfg.SQLitePath = filepath.Join(o.dataDir, "roundtable.db")
	}
	db, err := store.Open(ctx, cfg)
	if err != nil {
		return "", err
	}
	defer db.Close()
	clientID := "load-" + lti.RandomToken(6)
	_, err = tenant.NewRegistry(db).Add(ctx, tenant.Platform{Name: "Load LMS " + clientID, Issuer: p.Issuer(), ClientID: clientID,
		AuthURL: p.AuthURL(), TokenURL: p.TokenURL(), JWKSURL: p.JWKSURL(), Deployments: []string{"load"}})
	return clientID, err
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

func ncpu() int { return runtime.NumCPU() }
