package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/roundtable-lms/roundtable/internal/config"
	"github.com/roundtable-lms/roundtable/internal/demo"
)

// demoConfig reads the demo's settings: the service's, except that its
// data stays its own (config.DemoEnv).
func demoConfig(args []string, getenv func(string) string, stderr io.Writer) (cfg config.Config, lmsListen string, err error) {
	cfg, _, err = loadConfig("demo", args, config.DemoEnv(getenv), stderr, "127.0.0.1:8080", func(fs *flag.FlagSet) {
		fs.StringVar(&lmsListen, "lms-listen", "127.0.0.1:8081", "address of the built-in demo LMS")
		fs.Lookup("database-url").Usage = "postgres:// URL of the demo's own database; empty uses an SQLite file in the data dir (" +
			config.EnvDemoDatabaseURL + "; DATABASE_URL is not read by the demo)"
		fs.Lookup("data-dir").Usage = "the demo's own data directory: SQLite file, generated secret, demo LMS key, admin password (" +
			config.EnvDemoDataDir + ", default " + config.DemoDataDir + "; ROUNDTABLE_DATA_DIR is not read by the demo)"
	})
	return cfg, lmsListen, err
}

// demoDataText says where the demo keeps its data, and which of the
// service's settings it left alone.
func demoDataText(cfg config.Config, getenv func(string) string) string {
	dir := cfg.DataDir
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	where := "Demo data is kept in " + dir + "\n(its SQLite database, secret, demo LMS key and admin password);\ndelete that directory to start again."
	if cfg.DatabaseURL != "" {
		where = "Demo data is kept in the Postgres database of " + config.EnvDemoDatabaseURL + " / --database-url"
		if u, err := url.Parse(cfg.DatabaseURL); err == nil {
			where += " (" + u.Host + u.Path + ")"
		}
		where += "\nand in " + dir + " (secret, demo LMS key, admin password)."
	}
	var ignored []string
	for _, name := range []string{config.EnvDatabaseURL, config.EnvDataDir, config.EnvSecret} {
		if getenv(name) != "" {
			ignored = append(ignored, name)
		}
	}
	if len(ignored) > 0 {
		where += "\n\nThe demo does not read " + strings.Join(ignored, ", ") + ":\nit never touches the service's data. Set " +
			config.EnvDemoDatabaseURL + " or " + config.EnvDemoDataDir + "\nto put its data elsewhere."
	}
	return where
}

func demoCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, lmsListen, err := demoConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	if cfg.BaseURL == nil {
		// The tool is reached as localhost, the LMS as 127.0.0.1: two
		// different sites, as an LMS and a tool are in real life.
		_, port, _ := net.SplitHostPort(cfg.Listen)
		cfg.BaseURL, _ = config.ParseBaseURL("http://localhost:" + port)
	}
	logger := cfg.Logger()
	d, err := demo.Start(ctx, cfg, lmsListen, logger)
	if err != nil {
		return whichDatabase(err, cfg, true)
	}
	fmt.Fprintf(stdout, `
Roundtable demo is running.

  Open the demo LMS:  %s
  Roundtable itself:  %s

In the demo LMS, each activity of the course has an "Open as ..." button
for every person: pick a learner or the instructor and the activity opens
inside the course page through a real LTI 1.3 launch. Roundtable registered
itself with the demo LMS by LTI Dynamic Registration.

To see how an LMS admin connects Roundtable, register it again as another
client of the demo LMS:

  Register a tool:    %s

A registration made there is %s. It adds a
"Roundtable" link to the course, which shows a "waiting for approval" page
until you approve it in Roundtable's admin console:

  Admin console:      %s/admin
  Sign in as:         %s
  Password:           %s

%s

Press Ctrl+C to stop.

`, d.LMSURL, d.App.BaseURL, d.RegisterURL, policyText(cfg.Registration), d.App.BaseURL, demo.AdminEmail, d.AdminPassword, demoDataText(cfg, getenv))
	return d.Wait(ctx)
}

func policyText(policy string) string {
	if policy == config.RegistrationOpen {
		return "active at once (ROUNDTABLE_REGISTRATION=open)"
	}
	return "pending approval (ROUNDTABLE_REGISTRATION=approval, the default)"
}
