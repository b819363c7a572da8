package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"

	"github.com/roundtable-lms/roundtable/config"
	"github.com/roundtable-lms/roundtable/demo"
)

func demoCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var lmsListen string
	cfg, _, err := loadConfig("demo", args, getenv, stderr, "127.0.0.1:8080", func(fs *flag.FlagSet) {
		fs.StringVar(&lmsListen, "lms-listen", "127.0.0.1:8081", "address of the built-in demo LMS")
	})
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
		return err
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

Data is kept in %s. Press Ctrl+C to stop.

`, d.LMSURL, d.App.BaseURL, d.RegisterURL, policyText(cfg.Registration), d.App.BaseURL, demo.AdminEmail, d.AdminPassword, cfg.DataDir)
	return d.Wait(ctx)
}

func policyText(policy string) string {
	if policy == config.RegistrationOpen {
		return "active at once (ROUNDTABLE_REGISTRATION=open)"
	}
	return "pending approval (ROUNDTABLE_REGISTRATION=approval, the default)"
}
