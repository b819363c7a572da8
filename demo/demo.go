// Package demo runs Roundtable next to a built-in demo LMS (a genuine LTI
// 1.3 platform) on a second origin, registered with each other and seeded
// with a course, so a newcomer can launch as a learner or an instructor.
package demo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/roundtable-lms/roundtable/app"
	"github.com/roundtable-lms/roundtable/config"
	"github.com/roundtable-lms/roundtable/lti"
	"github.com/roundtable-lms/roundtable/lti/ltiplatform"
	"github.com/roundtable-lms/roundtable/tenant"
)

// Seeded names.
const (
	ClientID     = "roundtable-demo"
	DeploymentID = "demo-deployment"
	CourseID     = "data-101"
	DiscussionID = "data-101-discussion"
)

// Demo is a running tool and demo LMS.
type Demo struct {
	App      *app.App
	Platform *ltiplatform.Platform
	// LMSURL is the demo LMS's course page, where a person starts.
	LMSURL string
	lms    *http.Server
	lmsErr chan error
}

// Start runs Roundtable per cfg and the demo LMS on lmsListen. The tool is
// reached as localhost and the LMS as 127.0.0.1: two sites, as in real life.
func Start(ctx context.Context, cfg config.Config, lmsListen string, logger *slog.Logger) (*Demo, error) {
	ln, err := net.Listen("tcp", lmsListen)
	if err != nil {
		return nil, fmt.Errorf("demo LMS --lms-listen: %w", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	p, err := ltiplatform.New(ltiplatform.Config{
		Issuer:  fmt.Sprintf("http://127.0.0.1:%d", port),
		Name:    "Demo LMS",
		KeyFile: filepath.Join(cfg.DataDir, "demo-lms-key.pem"),
		Logger:  logger,
	})
	if err != nil {
		ln.Close()
		return nil, err
	}
	a, err := app.New(ctx, cfg, logger)
	if err != nil {
		ln.Close()
		return nil, err
	}
	d := &Demo{App: a, Platform: p, LMSURL: p.URL("/courses/" + CourseID), lmsErr: make(chan error, 1)}
	if err := d.register(ctx); err != nil {
		ln.Close()
		a.Shutdown()
		return nil, err
	}
	if err := seed(p, a); err != nil {
		ln.Close()
		a.Shutdown()
		return nil, err
	}
	d.lms = &http.Server{Handler: p.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := d.lms.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.lmsErr <- err
		}
	}()
	a.Start()
	return d, nil
}

// register adds the demo LMS to Roundtable's registry once; later runs
// find it there.
func (d *Demo) register(ctx context.Context) error {
	p := d.Platform
	_, err := d.App.Registry.FindRegistration(ctx, p.Issuer(), ClientID)
	var le *lti.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &le) && le.Reason == lti.ReasonUnknownPlatform:
		_, err = d.App.Registry.Add(ctx, tenant.Platform{
			Name: "Demo LMS", Issuer: p.Issuer(), ClientID: ClientID, AuthURL: p.AuthURL(),
			TokenURL: p.TokenURL(), JWKSURL: p.JWKSURL(), Deployments: []string{DeploymentID}, LMSFamily: "roundtable-demo-lms",
		})
		return err
	}
	return err
}

// Wait blocks until ctx ends or the LMS fails, then stops both servers.
func (d *Demo) Wait(ctx context.Context) error {
	var err error
	select {
	case <-ctx.Done():
	case err = <-d.lmsErr:
	}
	return errors.Join(err, d.Shutdown())
}

// Shutdown stops the LMS and the tool.
func (d *Demo) Shutdown() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return errors.Join(d.lms.Shutdown(ctx), d.App.Shutdown())
}

type person struct {
	id, given, family, role string
}

var people = []person{
	{"maya.chen", "Maya", "Chen", lti.RoleInstructor},
	{"samuel.okoro", "Samuel", "Okoro", lti.RoleTeachingAssistant},
	{"aisha.rahman", "Aisha", "Rahman", lti.RoleLearner},
	{"lucas.moreau", "Lucas", "Moreau", lti.RoleLearner},
	{"priya.natarajan", "Priya", "Natarajan", lti.RoleLearner},
	{"tomas.garcia", "Tomás", "García", lti.RoleLearner},
	{"hannah.schmidt", "Hannah", "Schmidt", lti.RoleLearner},
	{"kenji.watanabe", "Kenji", "Watanabe", lti.RoleLearner},
	{"olivia.bennett", "Olivia", "Bennett", lti.RoleLearner},
	{"mateus.silva", "Mateus", "Silva", lti.RoleLearner},
}

// seed fills the demo LMS (kept in memory, so seeded on every start).
func seed(p *ltiplatform.Platform, a *app.App) error {
	steps := []error{
		p.AddTool(ltiplatform.Tool{
			ClientID: ClientID, DeploymentID: DeploymentID, Name: "Roundtable",
			LoginURL: a.URL("/lti/login"), RedirectURIs: []string{a.URL("/lti/launch")},
			TargetLinkURI: a.URL("/lti/launch"), JWKSURL: a.URL("/.well-known/jwks.json"),
		}),
		p.AddCourse(ltiplatform.Course{ID: CourseID, Label: "DATA-101", Title: "Data Analysis Fundamentals"}),
	}
	for _, u := range people {
		steps = append(steps,
			p.AddUser(ltiplatform.User{ID: u.id, Name: u.given + " " + u.family, GivenName: u.given, FamilyName: u.family,
				Email: u.id + "@learn.example.org", Locale: "en"}),
			p.Enroll(CourseID, u.id, u.role))
	}
	steps = append(steps, p.AddResourceLink(ltiplatform.ResourceLink{
		ID: DiscussionID, CourseID: CourseID, ClientID: ClientID,
		Title:       "Cohort discussion: cleaning messy data",
		Description: "Share a dataset that fought back, and how you tamed it. Ask the cohort when you are stuck.",
	}))
	return errors.Join(steps...)
}
