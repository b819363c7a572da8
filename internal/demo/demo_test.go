package demo_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/roundtable-lms/roundtable/internal/config"
	"github.com/roundtable-lms/roundtable/internal/demo"
	"github.com/roundtable-lms/roundtable/internal/tenant"
	"github.com/roundtable-lms/roundtable/lti/ltiplatform"
)

func launch(t *testing.T, d *demo.Demo, clientID, linkID string) *ltiplatform.Result {
	t.Helper()
	res, err := ltiplatform.NewBrowser().Launch(context.Background(), d.Platform, ltiplatform.LaunchRequest{
		ClientID: clientID, UserID: "aisha.rahman", CourseID: demo.CourseID, ResourceLinkID: linkID})
	if pe, ok := err.(*ltiplatform.PageError); ok {
		return &ltiplatform.Result{StatusCode: pe.StatusCode, URL: pe.URL, Body: pe.Body}
	}
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// The demo registers itself by dynamic registration on its first start,
// gives the LMS its registrations back on the next ones, and a second
// registration from the LMS's "Register a tool" page waits for approval,
// in the first one's organisation.
func TestDemoRegistersOnceAndSurvivesRestarts(t *testing.T) {
	t.Parallel()
	dir := dataDir(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lmsAddr := ln.Addr().String()
	ln.Close()
	start := func() *demo.Demo {
		cfg := config.Config{Listen: "127.0.0.1:0", DataDir: dir, Secret: []byte("demo test secret, long enough for keys"),
			SecretSource: "env", LogFormat: "text", Registration: config.RegistrationApproval}
		d, err := demo.Start(context.Background(), cfg, lmsAddr, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}

	d := start()
	first := d.ClientID
	if res := launch(t, d, first, demo.DiscussionID); res.StatusCode != http.StatusOK || !strings.Contains(res.URL, "/a/") {
		t.Fatalf("launch on first start: %d %s", res.StatusCode, res.URL)
	}
	ps, _ := d.App.Registry.List(context.Background())
	if len(ps) != 1 || ps[0].RegisteredBy != tenant.RegisteredDynamically || ps[0].Status != tenant.StatusActive {
		t.Fatalf("registrations %+v", ps)
	}

	// A second registration, as a person does from the demo LMS.
	u, _ := url.Parse(d.Platform.RegistrationURL(d.App.URL("/lti/register")))
	resp, err := http.Get(d.App.URL("/lti/register?" + u.RawQuery))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	ps, _ = d.App.Registry.List(context.Background())
	var second tenant.Platform
	for _, p := range ps {
		if p.ClientID != first {
			second = p
		}
	}
	if resp.StatusCode != http.StatusOK || second.Status != tenant.StatusPending {
		t.Fatalf("second registration: %d %+v", resp.StatusCode, second)
	}
	link := ltiplatform.PlacementID(second.ClientID, demo.CourseID)
	if res := launch(t, d, second.ClientID, link); res.StatusCode != http.StatusForbidden {
		t.Fatalf("launch before approval: %d", res.StatusCode)
	}
	if err := d.App.Registry.SetStatus(context.Background(), second.ID, tenant.StatusActive); err != nil {
		t.Fatal(err)
	}
	if err := d.Shutdown(); err != nil {
		t.Fatal(err)
	}

	d = start()
	defer d.Shutdown()
	if d.ClientID != first {
		t.Errorf("restart registered again: client %s, was %s", d.ClientID, first)
	}
	if ps, _ := d.App.Registry.List(context.Background()); len(ps) != 2 {
		t.Errorf("%d registrations after a restart, want 2", len(ps))
	}
	if res := launch(t, d, first, demo.DiscussionID); res.StatusCode != http.StatusOK {
		t.Errorf("launch after restart: %d", res.StatusCode)
	}
	if res := launch(t, d, second.ClientID, link); res.StatusCode != http.StatusOK {
		t.Errorf("approved second registration after restart: %d\n%.400s", res.StatusCode, res.Body)
	}
	// Both registrations are in one organisation: the human who launched
	// through each is one person there.
	ps, _ = d.App.Registry.List(context.Background())
	if len(ps) != 2 || ps[0].OrgID != ps[1].OrgID {
		t.Errorf("the demo's registrations are in organisations %q and %q, want one", ps[0].OrgID, ps[len(ps)-1].OrgID)
	}
	var people []string
	if err := d.App.DB.Raw(`SELECT DISTINCT org_id || '/' || id FROM users WHERE subject = 'aisha.rahman'`).Scan(&people).Error; err != nil || len(people) != 1 {
		t.Errorf("Aisha, launched through both registrations, is %v (%v), want one person", people, err)
	}
}

// The demo prints an admin account that signs in to the console, the same
// on every start.
func TestDemoAdminAccountSignsIn(t *testing.T) {
	t.Parallel()
	d := startDemo(t)
	if d.AdminPassword == "" {
		t.Fatal("the demo has no admin password to print")
	}
	if _, err := d.App.Admins.Authenticate(context.Background(), demo.AdminEmail, d.AdminPassword, "127.0.0.1"); err != nil {
		t.Fatalf("the printed admin account does not sign in: %v", err)
	}
}

// A newcomer's first "Open as" lands in the seeded discussion: the demo's
// own registration adds no empty activity to the course, only the seeded
// discussion and peer review, in that order.
func TestDemoCourseOffersTheSeededDiscussion(t *testing.T) {
	t.Parallel()
	d := startDemo(t)
	links := d.Platform.Links(demo.CourseID)
	if len(links) != 2 || links[0].ID != demo.DiscussionID || links[1].ID != demo.PeerReviewID {
		t.Fatalf("course activities %+v, want the seeded discussion and peer review", links)
	}
}
