// Package demo runs Roundtable next to a built-in demo LMS (a genuine LTI
// 1.3 platform) on a second origin, registered with each other through LTI
// Dynamic Registration and seeded with a course, so a newcomer can launch
// as a learner or an instructor, and register the LMS again to see the
// approval flow.
package demo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/roundtable-lms/roundtable/internal/app"
	"github.com/roundtable-lms/roundtable/internal/config"
	"github.com/roundtable-lms/roundtable/internal/egress"
	"github.com/roundtable-lms/roundtable/internal/tenant"
	"github.com/roundtable-lms/roundtable/lti"
	"github.com/roundtable-lms/roundtable/lti/ltiplatform"
)

// Seeded names.
const (
	CourseID     = "data-101"
	DiscussionID = "data-101-discussion"
)

// Demo is a running tool and demo LMS.
type Demo struct {
	App      *app.App
	Platform *ltiplatform.Platform
	// LMSURL is the demo LMS's course page, where a person starts.
	LMSURL string
	// RegisterURL is the demo LMS's "Register a tool" page, filled in with
	// Roundtable's registration URL.
	RegisterURL string
	// ClientID is the client id of the demo's own registration.
	ClientID string
	// AdminPassword signs AdminEmail in to the admin console.
	AdminPassword string
	lms           *http.Server
	lmsErr        chan error
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
	// The demo LMS runs on this machine: Roundtable may reach loopback,
	// which it refuses for any other LMS unless the operator allows it.
	cfg.AllowPrivateNetworks = cfg.AllowPrivateNetworks.Union(egress.Loopback)
	if cfg.Grades.BackoffMax == 0 {
		// Someone trying the demo switches the LMS off and on again and
		// expects the scores within seconds, not after hours of backoff.
		cfg.Grades.BackoffBase, cfg.Grades.BackoffMax = time.Second, 10*time.Second
	}
	a, err := app.New(ctx, cfg, logger)
	if err != nil {
		ln.Close()
		return nil, err
	}
	d := &Demo{App: a, Platform: p, LMSURL: p.URL("/courses/" + CourseID), lmsErr: make(chan error, 1),
		RegisterURL: p.URL("/admin/tools/register?" + url.Values{"url": {a.URL("/lti/register")}}.Encode())}
	// The LMS serves first: registration reads its configuration over HTTP.
	d.lms = &http.Server{Handler: p.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := d.lms.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.lmsErr <- err
		}
	}()
	a.Start()
	if err := seed(p); err != nil {
		d.Shutdown()
		return nil, err
	}
	if err := d.register(ctx); err != nil {
		d.Shutdown()
		return nil, err
	}
	if err := d.seedDiscussion(ctx); err != nil {
		d.Shutdown()
		return nil, err
	}
	if err := d.seedPeerReview(ctx); err != nil {
		d.Shutdown()
		return nil, err
	}
	if d.AdminPassword, err = ensureAdmin(ctx, a, cfg.DataDir); err != nil {
		d.Shutdown()
		return nil, err
	}
	return d, nil
}

// AdminEmail is the demo's admin console account.
const AdminEmail = "admin@demo.roundtable.test"

// ensureAdmin gives the demo an admin console account, with a password made
// on first start and kept in the data dir, so a person can approve LMSs.
func ensureAdmin(ctx context.Context, a *app.App, dataDir string) (string, error) {
	path := filepath.Join(dataDir, "demo-admin-password")
	if b, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	password := lti.RandomToken(12)
	if _, err := a.Admins.Create(ctx, AdminEmail, password); err != nil {
		return "", fmt.Errorf("demo admin account: %w", err)
	}
	if err := os.WriteFile(path, []byte(password+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("demo admin account: %w", err)
	}
	return password, nil
}

// register connects Roundtable and the demo LMS.
//
// Roundtable keeps its registrations in its database (the data dir
// survives restarts) while the demo LMS lives in memory and forgets its
// tools. So on each start every registration Roundtable holds for this
// LMS's issuer is given back to the LMS as a tool with its stored client id
// and deployment, as if the LMS had kept them; only when Roundtable holds
// none does the demo register through LTI Dynamic Registration, active at
// once whatever the policy. Registering again on every start would instead
// pile up registrations under new client ids and strand the discussions
// recorded under the old one. Registrations made later from the LMS's
// "Register a tool" page follow ROUNDTABLE_REGISTRATION (approval by
// default), so a person sees the approval flow.
func (d *Demo) register(ctx context.Context) error {
	p, a := d.Platform, d.App
	all, err := a.Registry.List(ctx)
	if err != nil {
		return err
	}
	var ours []tenant.Platform
	for _, r := range all {
		if r.Issuer == p.Issuer() {
			ours = append(ours, r)
		}
	}
	sort.Slice(ours, func(i, j int) bool { return ours[i].CreatedAt.Before(ours[j].CreatedAt) })
	// Every registration of the demo LMS, this start's and those a person
	// makes from its "Register a tool" page, is in the organisation of the
	// first: one demo human is one person whichever registration they
	// launch through.
	var org string
	a.Registry.JoinDynamic = func(r tenant.Platform) string {
		if r.Issuer == p.Issuer() {
			return org
		}
		return ""
	}
	if len(ours) == 0 {
		reg, err := a.Web.RegisterPlatform(ctx, p.OpenIDConfigurationURL(), p.NewRegistrationToken(), true)
		if err != nil {
			return fmt.Errorf("demo: register Roundtable with the demo LMS: %w", err)
		}
		d.ClientID, org = reg.ClientID, reg.OrgID
	} else {
		org = ours[0].OrgID
		for _, r := range ours[1:] {
			// A data dir of an earlier release holds them apart; those
			// nobody launched through yet join now.
			if r.OrgID != org {
				if err := a.Registry.Attach(ctx, r.ID, org); err != nil {
					a.Logger.WarnContext(ctx, "demo: a registration of the demo LMS stays in an organisation of its own",
						slog.String("platform", r.ID), slog.Any("error", err))
				}
			}
		}
		for i, r := range ours {
			deployment := "demo-deployment"
			if len(r.Deployments) > 0 {
				deployment = r.Deployments[0]
			}
			err := errors.Join(p.AddTool(ltiplatform.Tool{
				ClientID: r.ClientID, DeploymentID: deployment, Name: "Roundtable",
				LoginURL: a.URL("/lti/login"), RedirectURIs: []string{a.URL("/lti/launch")},
				TargetLinkURI: a.URL("/lti/launch"), JWKSURL: a.Web.JWKSURL(r.ID),
			}))
			if i > 0 {
				// Later registrations keep the link registering gave them.
				err = errors.Join(err, p.PlaceTool(r.ClientID, "Roundtable", nil))
			}
			if err != nil {
				return err
			}
		}
		d.ClientID = ours[0].ClientID
	}
	// The demo's own registration shows as the seeded discussion and peer
	// review, not as the empty link that registering put in the course.
	// The peer review is graded: the LMS keeps a gradebook column for it.
	p.RemoveResourceLink(ltiplatform.PlacementID(d.ClientID, CourseID))
	return errors.Join(
		p.AddResourceLink(ltiplatform.ResourceLink{
			ID: DiscussionID, CourseID: CourseID, ClientID: d.ClientID,
			Title:       discussionTitle,
			Description: discussionDescription,
		}),
		p.AddResourceLink(ltiplatform.ResourceLink{
			ID: PeerReviewID, CourseID: CourseID, ClientID: d.ClientID,
			Title:       peerReviewTitle,
			Description: peerReviewDescription,
			LineItem:    &ltiplatform.LineItemSpec{ScoreMaximum: peerReviewPoints},
		}))
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

// seed fills the demo LMS with a course and its people (kept in memory,
// so seeded on every start); register then adds Roundtable.
func seed(p *ltiplatform.Platform) error {
	steps := []error{
		p.AddCourse(ltiplatform.Course{ID: CourseID, Label: "DATA-101", Title: "Data Analysis Fundamentals"}),
	}
	for _, u := range people {
		steps = append(steps,
			p.AddUser(ltiplatform.User{ID: u.id, Name: u.given + " " + u.family, GivenName: u.given, FamilyName: u.family,
				Email: u.id + "@learn.example.org", Locale: "en"}),
			p.Enroll(CourseID, u.id, u.role))
	}
	return errors.Join(steps...)
}
