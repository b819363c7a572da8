package live_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/roundtable-lms/roundtable/internal/live"
	"github.com/roundtable-lms/roundtable/internal/session"
	"github.com/roundtable-lms/roundtable/internal/space"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
	"github.com/roundtable-lms/roundtable/internal/tenant"
	"github.com/roundtable-lms/roundtable/lti"
	"github.com/roundtable-lms/roundtable/lti/ltiplatform"
)

const crossSecret = "cross-process test secret, long enough to use"

// TestEventCrossesServerProcesses runs two real `roundtable serve`
// processes on one Postgres, launches a learner through an LTI platform
// into process B, opens the cohort's event stream on B and on A with that
// session (both processes share the database, so the session is valid on
// either), and publishes from a third bus on its own connections (this
// test process): both streams deliver the event.
func TestEventCrossesServerProcesses(t *testing.T) {
	dbURL := storetest.PostgresURL(t) // skips without TEST_DATABASE_URL
	ctx := context.Background()
	bin := filepath.Join(t.TempDir(), "roundtable")
	build := exec.Command("go", "build", "-o", bin, "github.com/roundtable-lms/roundtable/cmd/roundtable")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	a := startServer(t, bin, dbURL)
	b := startServer(t, bin, dbURL)

	// The LMS, registered in the shared database.
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
	db, err := store.Open(ctx, store.Config{URL: dbURL})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	reg, err := tenant.NewRegistry(db).Add(ctx, tenant.Platform{
		Name: "Test LMS", Issuer: p.Issuer(), ClientID: "client-b", AuthURL: p.AuthURL(),
		TokenURL: p.TokenURL(), JWKSURL: p.JWKSURL(), Deployments: []string{"d1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	must(t, p.AddTool(ltiplatform.Tool{
		ClientID: "client-b", DeploymentID: "d1", Name: "Roundtable",
		LoginURL: b + "/lti/login", RedirectURIs: []string{b + "/lti/launch"},
		TargetLinkURI: b + "/lti/launch", JWKSURL: b + "/lti/platforms/" + reg.ID + "/jwks.json",
	}))
	must(t, p.AddCourse(ltiplatform.Course{ID: "c1", Label: "C1", Title: "Course one"}))
	must(t, p.AddUser(ltiplatform.User{ID: "u1", Name: "Alice Mbeki", Email: "alice@example.edu"}))
	must(t, p.Enroll("c1", "u1", lti.RoleLearner))
	must(t, p.AddResourceLink(ltiplatform.ResourceLink{ID: "l1", CourseID: "c1", Title: "Discussion"}))

	res, err := ltiplatform.NewBrowser().Launch(ctx, p, ltiplatform.LaunchRequest{ClientID: "client-b", UserID: "u1", CourseID: "c1", ResourceLinkID: "l1"})
	if err != nil {
		t.Fatalf("launch into process B: %v", err)
	}
	u, err := url.Parse(res.URL)
	if err != nil || res.StatusCode != 200 || !strings.HasPrefix(res.URL, b) {
		t.Fatalf("launch ended at %s with %d", res.URL, res.StatusCode)
	}
	tok := u.Query().Get("rt")
	sess, err := session.NewStore(db, []byte(crossSecret)).FromToken(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := space.NewStore(db).ForCohort(ctx, sess.OrgID, sess.CourseID, sess.LinkID, sess.CohortID)
	if err != nil {
		t.Fatal(err)
	}
	topic := live.SpaceTopic(sp.ID)
	events := u.Path + "/events?rt=" + url.QueryEscape(tok)
	onB := openEvents(t, b+events)
	onA := openEvents(t, a+events) // the session lives in the shared database

	bus := live.NewPostgres(db, nil)
	t.Cleanup(func() { bus.Close() })
	start := time.Now()
	e, err := bus.Publish(ctx, topic, "post.created", map[string]string{"thread": "t1"})
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]<-chan string{"B": onB, "A": onA} {
		select {
		case id := <-s:
			if id != strconv.FormatInt(e.ID, 10) {
				t.Fatalf("process %s delivered event %s, want %d", name, id, e.ID)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("process %s did not deliver the event", name)
		}
	}
	t.Logf("an event published by a third process reached streams on two server processes in %v", time.Since(start))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// startServer runs `roundtable serve` on a free loopback port with a data
// directory of its own and returns its base URL once it is ready.
func startServer(t *testing.T, bin, dbURL string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(),
		"DATABASE_URL="+dbURL,
		"ROUNDTABLE_SECRET="+crossSecret,
		"ROUNDTABLE_LISTEN=127.0.0.1:"+strconv.Itoa(port),
		"ROUNDTABLE_DATA_DIR="+t.TempDir(),
		"ROUNDTABLE_LOG_LEVEL=warn",
		// The test LMS runs on loopback, which the server reaches only
		// when told.
		"ROUNDTABLE_ALLOW_PRIVATE_NETWORKS=127.0.0.0/8",
	)
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			t.Errorf("the server did not stop on SIGINT\n%s", logs.String())
		}
		if t.Failed() {
			t.Logf("server on port %d:\n%s", port, logs.String())
		}
	})
	base := fmt.Sprintf("http://localhost:%d", port)
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return base
			}
		}
		select {
		case err := <-exited:
			t.Fatalf("the server exited: %v\n%s", err, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server is not ready\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// openEvents opens an SSE stream and sends the id of each event it
// delivers.
func openEvents(t *testing.T, rawURL string) <-chan string {
	t.Helper()
	resp, err := http.Get(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 500))
		t.Fatalf("%s: %d %s", rawURL, resp.StatusCode, b)
	}
	ids := make(chan string, 10)
	go func() {
		r := bufio.NewReader(resp.Body)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if id, ok := strings.CutPrefix(strings.TrimSpace(line), "id: "); ok {
				ids <- id
			}
		}
	}()
	return ids
}
