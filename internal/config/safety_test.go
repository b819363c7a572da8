package config

import (
	"flag"
	"path/filepath"
	"strings"
	"testing"
)

// The profiler stays on loopback unless the operator says otherwise.
func TestDebugListenOnLoopbackUnlessForced(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		env  map[string]string
		args []string
		ok   bool
	}{
		{nil, []string{"--debug-listen", "127.0.0.1:6060"}, true},
		{nil, []string{"--debug-listen", "[::1]:6060"}, true},
		{nil, []string{"--debug-listen", "localhost:6060"}, true},
		{map[string]string{EnvDebugListen: "127.0.0.2:6060"}, nil, true},
		{nil, []string{"--debug-listen", "0.0.0.0:6060"}, false},
		{nil, []string{"--debug-listen", ":6060"}, false},
		{nil, []string{"--debug-listen", "[::]:6060"}, false},
		{map[string]string{EnvDebugListen: "10.0.0.5:6060"}, nil, false},
		{map[string]string{EnvDebugListen: "0.0.0.0:6060", EnvDebugListenPublic: "true"}, nil, true},
		{nil, []string{"--debug-listen", "0.0.0.0:6060", "--debug-listen-public"}, true},
		{map[string]string{EnvDebugListenPublic: "true"}, []string{"--debug-listen", "0.0.0.0:6060", "--debug-listen-public=false"}, false},
	} {
		cfg, err := load(t, tc.env, append([]string{"--data-dir", dir}, tc.args...)...)
		name := strings.Join(tc.args, " ") + " " + tc.env[EnvDebugListen] + " " + tc.env[EnvDebugListenPublic]
		if tc.ok && (err != nil || cfg.DebugListen == "") {
			t.Errorf("%s: refused: %v", name, err)
		}
		if !tc.ok {
			if err == nil || !strings.Contains(err.Error(), EnvDebugListen) || !strings.Contains(err.Error(), EnvDebugListenPublic) ||
				!strings.Contains(err.Error(), "loopback") || strings.Contains(err.Error(), "\n") {
				t.Errorf("%s: %v, want one line naming %s and %s", name, err, EnvDebugListen, EnvDebugListenPublic)
			}
		}
	}
	if _, err := load(t, map[string]string{EnvDebugListenPublic: "maybe"}, "--data-dir", dir); err == nil || !strings.Contains(err.Error(), EnvDebugListenPublic) {
		t.Errorf("a bad %s: %v", EnvDebugListenPublic, err)
	}
}

// loadDemo reads settings as `roundtable demo` does.
func loadDemo(t *testing.T, env map[string]string, args ...string) (Config, error) {
	t.Helper()
	getenv := DemoEnv(func(k string) string { return env[k] })
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	s := Bind(fs, getenv, "127.0.0.1:8080")
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return s.Load(getenv)
}

// The demo keeps to its own data: on a host set up for production it
// reads neither the production database nor its data directory nor its
// secret, unless told to by its own settings.
func TestDemoKeepsToItsOwnData(t *testing.T) {
	t.Chdir(t.TempDir())
	production := map[string]string{
		EnvDatabaseURL: "postgres://roundtable:secret@db.example.edu:5432/roundtable",
		EnvDataDir:     "/srv/roundtable",
		EnvSecret:      strings.Repeat("p", 40),
		EnvLogLevel:    "warn",
	}
	cfg, err := loadDemo(t, production)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DatabaseURL != "" || cfg.DataDir != DemoDataDir || cfg.SecretSource != "generated" || string(cfg.Secret) == production[EnvSecret] {
		t.Fatalf("the demo on a production host: database %q, data dir %q, secret from %s", cfg.DatabaseURL, cfg.DataDir, cfg.SecretSource)
	}
	if cfg.LogLevel.String() != "WARN" {
		t.Errorf("the demo ignored a setting that does not touch data: log level %v", cfg.LogLevel)
	}

	// Its own variables, or flags on its command line, say otherwise.
	own := map[string]string{EnvDemoDatabaseURL: "postgres://demo@127.0.0.1:5432/demo", EnvDemoDataDir: filepath.Join(t.TempDir(), "d")}
	for k, v := range production {
		own[k] = v
	}
	cfg, err = loadDemo(t, own)
	if err != nil || cfg.DatabaseURL != own[EnvDemoDatabaseURL] || cfg.DataDir != own[EnvDemoDataDir] {
		t.Errorf("with %s and %s: %q %q %v", EnvDemoDatabaseURL, EnvDemoDataDir, cfg.DatabaseURL, cfg.DataDir, err)
	}
	dir := t.TempDir()
	cfg, err = loadDemo(t, production, "--database-url", "postgres://demo@127.0.0.1:5432/other", "--data-dir", dir)
	if err != nil || cfg.DatabaseURL != "postgres://demo@127.0.0.1:5432/other" || cfg.DataDir != dir {
		t.Errorf("with flags: %q %q %v", cfg.DatabaseURL, cfg.DataDir, err)
	}
}
