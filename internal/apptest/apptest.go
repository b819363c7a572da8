// Package apptest boots a real Roundtable and a real LTI platform on
// loopback ports, registered with each other, for end-to-end tests and
// benchmarks.
package apptest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roundtable-lms/roundtable/internal/app"
	"github.com/roundtable-lms/roundtable/internal/config"
	"github.com/roundtable-lms/roundtable/internal/egress"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
	"github.com/roundtable-lms/roundtable/internal/tenant"
	"github.com/roundtable-lms/roundtable/lti"
	"github.com/roundtable-lms/roundtable/lti/ltiplatform"
)

// Names of the seeded platform data.
const (
	ClientID     = "roundtable-client"
	DeploymentID = "deployment-1"
	CourseID     = "course-101"
	LinkID       = "link-discussion"
	LooseLinkID  = "link-no-course"
	Learner      = "learner-alice"
	Learner2     = "learner-bob"
	Instructor   = "instructor-ines"
	Assistant    = "ta-tom"
)

// Env is a running tool and platform.
type Env struct {
	App        *app.App
	Platform   *ltiplatform.Platform
	Registered tenant.Platform
	DB         *store.DB
	// Clock is the web handlers' clock (kit.Base.Now).
	Clock       *Clock
	platformSrv *http.Server
}

// Clock is a test app's web clock: the real time, unless a test holds it
// still, as the tests of the per-person write limits do so that no
// token comes back while they count.
type Clock struct{ held atomic.Pointer[time.Time] }

// Now is the held time, or the real one.
func (c *Clock) Now() time.Time {
	if t := c.held.Load(); t != nil {
		return *t
	}
	return time.Now()
}

// Hold stops the clock at the current time, until Release.
func (c *Clock) Hold() {
	now := time.Now()
	c.held.Store(&now)
}

// Release lets the clock follow the real time again.
func (c *Clock) Release() { c.held.Store(nil) }

// Secret is the tests' ROUNDTABLE_SECRET.
var Secret = []byte("test secret that is long enough for roundtable")

// Start boots Roundtable on a fresh database of the given kind, and a
// platform on another loopback origin, registered with each other.
func Start(t testing.TB, kind store.Dialect) *Env {
	t.Helper()
	return StartWith(t, kind, nil)
}

// StartWith is Start with the tool's configuration edited first.
func StartWith(t testing.TB, kind store.Dialect, edit func(*config.Config)) *Env {
	t.Helper()
	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("ROUNDTABLE_TEST_LOG") != "" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}

	// The platform lives on 127.0.0.1 and the tool on localhost: two sites,
	// as an LMS and a tool are in real life.
	pln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p, err := ltiplatform.New(ltiplatform.Config{Issuer: "http://" + pln.Addr().String(), Name: "Test LMS", Logger: logger,
		KeyFile: platformKeyFile(t)})
	if err != nil {
		t.Fatal(err)
	}
	psrv := &http.Server{Handler: p.Handler()}
	go psrv.Serve(pln)
	t.Cleanup(func() { psrv.Close() })

	// The platform runs on loopback, which the tool reaches only because
	// the tests allow it, as an operator would for an LMS on their network.
	// Tests and benchmarks launch thousands of times from one loopback
	// address; the tests of the login limit set their own.
	cfg := config.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Secret: Secret, SecretSource: "env", LogLevel: slog.LevelInfo, LogFormat: "text",
		AllowPrivateNetworks: egress.Loopback, RegistrationsPerHour: config.DefaultRegistrationsPerHour, LoginRate: 1000000}
	if kind == store.Postgres {
		cfg.DatabaseURL = storetest.MigratedPostgresURL(t)
	}
	if edit != nil {
		edit(&cfg)
	}
	if cfg.DatabaseURL == "" {
		// The name store.Open gives the SQLite file in the data directory.
		storetest.WriteMigratedSQLite(t, filepath.Join(cfg.DataDir, "roundtable.db"))
	}
	a, err := app.New(ctx, cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	a.Keys.NewKey = toolKeySource()
	clock := &Clock{}
	a.Web.Now = clock.Now
	a.Start()
	t.Cleanup(func() { a.Shutdown() })

	reg, err := a.Registry.Add(ctx, tenant.Platform{
		Name: "Test LMS", Issuer: p.Issuer(), ClientID: ClientID, AuthURL: p.AuthURL(),
		TokenURL: p.TokenURL(), JWKSURL: p.JWKSURL(), Deployments: []string{DeploymentID},
	})
	if err != nil {
		t.Fatal(err)
	}
	must(t, p.AddTool(ltiplatform.Tool{
		ClientID: ClientID, DeploymentID: DeploymentID, Name: "Roundtable",
		LoginURL: a.URL("/lti/login"), RedirectURIs: []string{a.URL("/lti/launch")},
		// The LMS verifies what Roundtable signs with the registration's
		// own keys, as an LMS registered by hand is told to.
		TargetLinkURI: a.URL("/lti/launch"), JWKSURL: a.Web.JWKSURL(reg.ID),
	}))
	must(t, p.AddCourse(ltiplatform.Course{ID: CourseID, Label: "SAFE-101", Title: "Workplace Safety Essentials"}))
	for _, u := range []struct {
		user ltiplatform.User
		role string
	}{
		{ltiplatform.User{ID: Learner, Name: "Alice Mbeki", GivenName: "Alice", FamilyName: "Mbeki", Email: "alice@example.edu", Locale: "en-GB"}, lti.RoleLearner},
		{ltiplatform.User{ID: Learner2, Name: "Bob Lindqvist", GivenName: "Bob", FamilyName: "Lindqvist", Email: "bob@example.edu"}, lti.RoleLearner},
		{ltiplatform.User{ID: Instructor, Name: "Ines Okafor", GivenName: "Ines", FamilyName: "Okafor", Email: "ines@example.edu"}, lti.RoleInstructor},
		{ltiplatform.User{ID: Assistant, Name: "Tom Reyes", GivenName: "Tom", FamilyName: "Reyes", Email: "tom@example.edu"}, lti.RoleTeachingAssistant},
	} {
		must(t, p.AddUser(u.user))
		must(t, p.Enroll(CourseID, u.user.ID, u.role))
	}
	must(t, p.AddResourceLink(ltiplatform.ResourceLink{ID: LinkID, CourseID: CourseID, Title: "Week 1 discussion", Description: "Share one hazard you noticed at work this week."}))
	must(t, p.AddResourceLink(ltiplatform.ResourceLink{ID: LooseLinkID, Title: "Open forum"}))
	return &Env{App: a, Platform: p, Registered: reg, DB: a.DB, Clock: clock, platformSrv: psrv}
}

// platformKey is the test platforms' RSA key in PEM, made once per test
// process: a 2048-bit key takes a good part of a second to generate on a
// busy machine, and each test starts a platform of its own.
var platformKey = sync.OnceValues(func() ([]byte, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	return ltiplatform.KeyPEM(key)
})

// toolKeys are the RSA keys the tests' Roundtable signs with, made once
// per test process: each registration has a key of its own, and making one
// costs what the platform key does. A test's app takes them in order, so
// its registrations and rotations all have different keys; tests share
// keys only across databases. toolkey's own tests generate theirs.
var toolKeys struct {
	mu   sync.Mutex
	keys []*rsa.PrivateKey
}

// toolKeySource hands an app the process's tool keys, first to last,
// making a key when the app needs more than earlier apps did.
func toolKeySource() func() (*rsa.PrivateKey, error) {
	next := 0
	return func() (*rsa.PrivateKey, error) {
		toolKeys.mu.Lock()
		defer toolKeys.mu.Unlock()
		if next == len(toolKeys.keys) {
			key, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				return nil, err
			}
			toolKeys.keys = append(toolKeys.keys, key)
		}
		next++
		return toolKeys.keys[next-1], nil
	}
}

// platformKeyFile writes the shared platform key into the test's own
// directory, for ltiplatform.Config.KeyFile.
func platformKeyFile(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "platform-key.pem")
	WritePlatformKey(t, path)
	return path
}

// WritePlatformKey writes the test process's platform key (PEM) at path,
// for a test platform started with that KeyFile.
func WritePlatformKey(t testing.TB, path string) {
	t.Helper()
	data, err := platformKey()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// Launch launches user into the seeded course's discussion with a new browser.
func (e *Env) Launch(t testing.TB, user string, tamper *ltiplatform.Tamper) (*ltiplatform.Browser, *ltiplatform.Result) {
	t.Helper()
	b := ltiplatform.NewBrowser()
	res, err := b.Launch(context.Background(), e.Platform, ltiplatform.LaunchRequest{
		ClientID: ClientID, UserID: user, CourseID: CourseID, ResourceLinkID: LinkID, Tamper: tamper,
	})
	var pe *ltiplatform.PageError
	if errors.As(err, &pe) {
		// The tool refused at login: that page is the result.
		return b, &ltiplatform.Result{StatusCode: pe.StatusCode, URL: pe.URL, Body: pe.Body}
	}
	if err != nil {
		t.Fatalf("launch %s: %v", user, err)
	}
	return b, res
}

// Count returns the number of rows in table.
func (e *Env) Count(t testing.TB, table string) int64 {
	t.Helper()
	var n int64
	if err := e.DB.Table(table).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// SeedLearners adds n learners to the platform's course and returns their ids.
func SeedLearners(t testing.TB, e *Env, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("bench-learner-%04d", i)
		must(t, e.Platform.AddUser(ltiplatform.User{ID: ids[i], Name: fmt.Sprintf("Learner %d", i), Email: ids[i] + "@example.edu"}))
		must(t, e.Platform.Enroll(CourseID, ids[i], lti.RoleLearner))
	}
	return ids
}
