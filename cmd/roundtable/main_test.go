package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
)

// env returns a getenv for a fresh database of the given kind. The SQLite
// database is written migrated, as a first command leaves it (a copy of one
// migrated once per test process), so each test does not pay for the
// migrations again; TestServeShutsDownGracefully starts from an empty data
// directory.
func env(t *testing.T, kind store.Dialect) func(string) string {
	dir := t.TempDir()
	vars := map[string]string{
		"ROUNDTABLE_DATA_DIR": dir,
		"ROUNDTABLE_SECRET":   "command test secret, long enough to use",
		"ROUNDTABLE_LISTEN":   "127.0.0.1:0",
	}
	if kind == store.Postgres {
		vars["DATABASE_URL"] = storetest.PostgresURL(t)
	} else {
		storetest.WriteMigratedSQLite(t, filepath.Join(dir, "roundtable.db"))
	}
	return func(k string) string { return vars[k] }
}

func runCmd(t *testing.T, getenv func(string) string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, getenv, strings.NewReader(""), &out, &errOut)
	return out.String() + errOut.String(), err
}

func TestPlatformAndKeyCommands(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			getenv := env(t, kind)
			out, err := runCmd(t, getenv, "platform", "add", "--name", "Moodle", "--issuer", "https://moodle.example.edu",
				"--client-id", "abc123", "--auth-url", "https://moodle.example.edu/mod/lti/auth.php",
				"--token-url", "https://moodle.example.edu/mod/lti/token.php", "--jwks-url", "https://moodle.example.edu/mod/lti/certs.php",
				"--deployment-id", "1", "--deployment-id", "7", "--base-url", "https://roundtable.example.org")
			if err != nil {
				t.Fatalf("platform add: %v\n%s", err, out)
			}
			id := regexp.MustCompile(`\(id (\S+)\)`).FindStringSubmatch(out)
			if id == nil {
				t.Fatalf("no id printed:\n%s", out)
			}
			// The keyset URL is the registration's own.
			for _, want := range []string{"https://roundtable.example.org/lti/login", "https://roundtable.example.org/lti/launch",
				"https://roundtable.example.org/lti/platforms/" + id[1] + "/jwks.json", "https://roundtable.example.org/lti/config.json?platform=" + id[1]} {
				if !strings.Contains(out, want) {
					t.Errorf("platform add does not tell the admin %s:\n%s", want, out)
				}
			}
			if strings.Contains(out, "/.well-known/jwks.json") {
				t.Errorf("platform add gives the shared keyset URL:\n%s", out)
			}
			out, _ = runCmd(t, getenv, "platform", "list")
			if !strings.Contains(out, "abc123") || !strings.Contains(out, "1,7") {
				t.Errorf("platform list:\n%s", out)
			}
			out, err = runCmd(t, getenv, "platform", "show", id[1])
			if err != nil || !strings.Contains(out, "https://moodle.example.edu/mod/lti/certs.php") || !strings.Contains(out, "/lti/platforms/"+id[1]+"/jwks.json") ||
				!strings.Contains(out, "Signing key:") {
				t.Errorf("platform show: %v\n%s", err, out)
			}
			if out, err := runCmd(t, getenv, "platform", "add", "--name", "Moodle", "--issuer", "https://moodle.example.edu",
				"--client-id", "abc123", "--auth-url", "https://moodle.example.edu/a", "--jwks-url", "https://moodle.example.edu/j", "--deployment-id", "1"); err == nil ||
				!strings.Contains(err.Error(), "already holds client id abc123") {
				t.Errorf("a second registration with the same client id: %v\n%s", err, out)
			}
			// A registration whose keyset URL the LMS was given first.
			chosen := "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
			out, err = runCmd(t, getenv, "platform", "add", "--id", chosen, "--name", "Canvas", "--issuer", "https://canvas.instructure.com",
				"--client-id", "10000000000001", "--auth-url", "https://sso.canvaslms.com/api/lti/authorize_redirect",
				"--jwks-url", "https://sso.canvaslms.com/api/lti/security/jwks", "--deployment-id", "1:abc")
			if err != nil || !strings.Contains(out, "(id "+chosen+")") || !strings.Contains(out, "/lti/platforms/"+chosen+"/jwks.json") {
				t.Errorf("platform add --id: %v\n%s", err, out)
			}
			// Another registration of the Moodle, in its organisation; an
			// unknown organisation is refused.
			out, err = runCmd(t, getenv, "platform", "add", "--org", id[1], "--name", "Moodle (second)", "--issuer", "https://moodle.example.edu",
				"--client-id", "def456", "--auth-url", "https://moodle.example.edu/mod/lti/auth.php",
				"--jwks-url", "https://moodle.example.edu/mod/lti/certs.php", "--deployment-id", "9")
			if err != nil || !strings.Contains(out, "in organisation "+id[1]+".") {
				t.Errorf("platform add --org: %v\n%s", err, out)
			}
			if _, err := runCmd(t, getenv, "platform", "add", "--org", "no-such-organisation", "--name", "Moodle (third)", "--issuer", "https://moodle.example.edu",
				"--client-id", "ghi789", "--auth-url", "https://moodle.example.edu/mod/lti/auth.php",
				"--jwks-url", "https://moodle.example.edu/mod/lti/certs.php", "--deployment-id", "10"); err == nil || !strings.Contains(err.Error(), "no organisation") {
				t.Errorf("platform add into an unknown organisation: %v", err)
			}

			// Keys are per registration.
			if _, err := runCmd(t, getenv, "keys", "rotate"); err == nil || !strings.Contains(err.Error(), "--platform") {
				t.Errorf("keys rotate without a platform: %v", err)
			}
			out, _ = runCmd(t, getenv, "keys", "list", "--platform", id[1])
			if strings.Count(out, "signing") != 1 || !strings.Contains(out, id[1]) {
				t.Fatalf("keys list before rotation:\n%s", out)
			}
			if out, err = runCmd(t, getenv, "keys", "rotate", "--platform", id[1]); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			out, _ = runCmd(t, getenv, "keys", "list", "--platform", id[1])
			if strings.Count(out, "signing") != 1 || strings.Count(out, "published") != 1 {
				t.Fatalf("keys list after rotation:\n%s", out)
			}
			old := regexp.MustCompile(`(\S+)\s+\S+\s+published`).FindStringSubmatch(out)
			if old == nil {
				t.Fatalf("no published key:\n%s", out)
			}
			if out, err := runCmd(t, getenv, "keys", "retire", "--platform", id[1], old[1]); err != nil {
				t.Fatalf("keys retire: %v\n%s", err, out)
			}
			out, _ = runCmd(t, getenv, "keys", "list")
			if strings.Count(out, "signing") != 3 || strings.Count(out, "retired") != 1 || !strings.Contains(out, chosen) {
				t.Errorf("keys list of every registration:\n%s", out)
			}
			if _, err := runCmd(t, getenv, "platform", "add", "--name", "X", "--issuer", "not a url", "--client-id", "c",
				"--auth-url", "https://x/a", "--jwks-url", "https://x/j", "--deployment-id", "1"); err == nil || !strings.Contains(err.Error(), "issuer") {
				t.Errorf("a bad issuer: %v", err)
			}
			if _, err := runCmd(t, getenv, "platform", "remove", id[1]); err != nil {
				t.Fatal(err)
			}
			if _, err := runCmd(t, getenv, "platform", "show", id[1]); err == nil {
				t.Error("a removed platform is still shown")
			}
			// Its keys went with it.
			out, _ = runCmd(t, getenv, "keys", "list")
			if strings.Contains(out, id[1]) {
				t.Errorf("a removed registration's keys are listed:\n%s", out)
			}
			out, _ = runCmd(t, getenv, "migrate", "status")
			if !strings.Contains(out, "00001_foundation.sql") || !strings.Contains(out, "applied") {
				t.Errorf("migrate status:\n%s", out)
			}
		})
	}
}

// Issue 9: a host with a semicolon went into every page's frame-ancestors.
// platform add refuses it, naming the field, and saves nothing.
func TestPlatformAddRefusesAnInjectedHost(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			getenv := env(t, kind)
			for flag, value := range map[string]string{
				"--auth-url": "https://lms6.example;sandbox/auth",
				"--issuer":   "https://lms6.example;sandbox",
				"--jwks-url": "https://user:pw@lms6.example/jwks",
			} {
				args := map[string]string{"--name": "Sixth", "--issuer": "https://lms6.example", "--client-id": "c6",
					"--auth-url": "https://lms6.example/auth", "--jwks-url": "https://lms6.example/jwks", "--deployment-id": "1"}
				args[flag] = value
				cmd := []string{"platform", "add"}
				for k, v := range args {
					cmd = append(cmd, k, v)
				}
				out, err := runCmd(t, getenv, cmd...)
				field := map[string]string{"--auth-url": "auth URL", "--issuer": "issuer", "--jwks-url": "JWKS URL"}[flag]
				if err == nil || !strings.Contains(err.Error(), field) {
					t.Errorf("%s %s: %v (want an error naming the %s)\n%s", flag, value, err, field, out)
				}
			}
			if out, _ := runCmd(t, getenv, "platform", "list"); strings.Contains(out, "c6") {
				t.Errorf("a refused platform was saved:\n%s", out)
			}
		})
	}
}

func TestBadSettingStopsWithOneLine(t *testing.T) {
	getenv := env(t, store.SQLite)
	_, err := runCmd(t, getenv, "serve", "--base-url", "http://roundtable.example.org")
	if err == nil || !strings.Contains(err.Error(), "ROUNDTABLE_BASE_URL") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("got %v", err)
	}
	// config reads the form of the write limits; the discussion, through
	// the app, refuses a kind it does not know before anything is opened.
	_, err = runCmd(t, getenv, "serve", "--write-limits", "votes=10")
	if err == nil || !strings.Contains(err.Error(), "ROUNDTABLE_WRITE_LIMITS") || !strings.Contains(err.Error(), `"votes"`) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("a misspelt write kind: %v", err)
	}
}

// serve answers health checks and stops cleanly when its context ends, as
// on SIGTERM.
func TestServeShutsDownGracefully(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	vars := map[string]string{"ROUNDTABLE_DATA_DIR": t.TempDir(), "ROUNDTABLE_SECRET": "command test secret, long enough to use", "ROUNDTABLE_LISTEN": addr}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		var out bytes.Buffer
		done <- run(ctx, []string{"serve"}, func(k string) string { return vars[k] }, nil, &out, &out)
	}()
	// A bound for a hung start only: under -race on two busy cores the
	// job queue's own SQLite migrations alone take seconds.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("serve never became ready")
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve stopped with %v", err)
		}
	case <-time.After(25 * time.Second):
		t.Fatal("serve did not stop")
	}
}

// `roundtable demo` on a host set up for production keeps to its own
// data directory and database, and says so.
func TestDemoIgnoresTheServiceData(t *testing.T) {
	t.Chdir(t.TempDir())
	production := map[string]string{
		"DATABASE_URL":        "postgres://roundtable:secret@db.example.edu:5432/roundtable",
		"ROUNDTABLE_DATA_DIR": "/srv/roundtable",
		"ROUNDTABLE_SECRET":   "the production secret, long enough to use",
	}
	getenv := func(k string) string { return production[k] }
	var stderr bytes.Buffer
	cfg, _, err := demoConfig(nil, getenv, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DatabaseURL != "" || cfg.DataDir != "./demo-data" || string(cfg.Secret) == production["ROUNDTABLE_SECRET"] {
		t.Fatalf("demo settings on a production host: database %q, data dir %q, secret from %s", cfg.DatabaseURL, cfg.DataDir, cfg.SecretSource)
	}
	text := demoDataText(cfg, getenv)
	for _, want := range []string{"demo-data", "does not read DATABASE_URL, ROUNDTABLE_DATA_DIR, ROUNDTABLE_SECRET", "ROUNDTABLE_DEMO_DATABASE_URL"} {
		if !strings.Contains(text, want) {
			t.Errorf("the banner does not say %q:\n%s", want, text)
		}
	}
}

// A database this binary cannot handle stops `serve` and `demo` before
// they listen, with a message that says what happened, which database it
// is and what to do; the database is left as it was.
func TestServeAndDemoRefuseADatabaseTheyCannotHandle(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			// spoil opens the database getenv names through the given
			// settings, migrates it and spoils its recorded versions.
			spoil := func(getenv func(string) string, urlVar, dirVar, how string) {
				t.Helper()
				db, err := store.Open(ctx, store.Config{URL: getenv(urlVar), DataDir: getenv(dirVar)})
				if err != nil {
					t.Fatal(err)
				}
				defer db.Close()
				if err := db.Migrate(ctx); err != nil {
					t.Fatal(err)
				}
				if err := db.Exec(how).Error; err != nil {
					t.Fatal(err)
				}
			}
			where := "ROUNDTABLE_DATA_DIR (--data-dir)"
			if kind == store.Postgres {
				where = "DATABASE_URL (--database-url)"
			}

			getenv := env(t, kind)
			spoil(getenv, "DATABASE_URL", "ROUNDTABLE_DATA_DIR", `INSERT INTO goose_db_version (version_id, is_applied) VALUES (99999, TRUE)`)
			out, err := runCmd(t, getenv, "serve")
			if err == nil {
				t.Fatalf("serve started on a newer database:\n%s", out)
			}
			for _, want := range []string{"written by a newer Roundtable (schema version 99999; this binary knows up to", where} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("serve's message lacks %q:\n%v", want, err)
				}
			}

			getenv = env(t, kind)
			spoil(getenv, "DATABASE_URL", "ROUNDTABLE_DATA_DIR", `DELETE FROM goose_db_version WHERE version_id = 15`)
			if _, err := runCmd(t, getenv, "serve"); err == nil || !strings.Contains(err.Error(), "lacks migration 15") || !strings.Contains(err.Error(), where) {
				t.Errorf("serve on a database without migration 15: %v", err)
			}
			if _, err := runCmd(t, getenv, "migrate", "up"); err == nil || !strings.Contains(err.Error(), "lacks migration 15") {
				t.Errorf("migrate up on a database without migration 15: %v", err)
			}

			demoDir := t.TempDir()
			vars := map[string]string{"ROUNDTABLE_DEMO_DATA_DIR": demoDir}
			if kind == store.Postgres {
				vars["ROUNDTABLE_DEMO_DATABASE_URL"] = storetest.PostgresURL(t)
			} else {
				storetest.WriteMigratedSQLite(t, filepath.Join(demoDir, "roundtable.db"))
			}
			demoEnv := func(k string) string { return vars[k] }
			spoil(demoEnv, "ROUNDTABLE_DEMO_DATABASE_URL", "ROUNDTABLE_DEMO_DATA_DIR", `INSERT INTO goose_db_version (version_id, is_applied) VALUES (99999, TRUE)`)
			out, err = runCmd(t, demoEnv, "demo", "--listen", "127.0.0.1:0", "--lms-listen", "127.0.0.1:0")
			if err == nil {
				t.Fatalf("the demo started on a newer database:\n%s", out)
			}
			wantDemo := "delete " + demoDir + " to start the demo afresh"
			if kind == store.Postgres {
				wantDemo = "ROUNDTABLE_DEMO_DATABASE_URL (--database-url)"
			}
			for _, want := range []string{"written by a newer Roundtable", wantDemo} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("the demo's message lacks %q:\n%v", want, err)
				}
			}
		})
	}
}
