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

	"github.com/PuerkitoBio/goquery"

	"github.com/roundtable-lms/roundtable/internal/config"
	"github.com/roundtable-lms/roundtable/internal/demo"
	"github.com/roundtable-lms/roundtable/lti/ltiplatform"
)

// The demo course's peer review is seeded once and consistently: six
// learners' work (one late), each with three reviewers and no
// self-review, the instructor's calibration example, one flagged review,
// results not released; aisha.rahman has not submitted and can.
func TestDemoPeerReviewIsSeededOnce(t *testing.T) {
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
			SecretSource: "env", LogFormat: "text"}
		d, err := demo.Start(context.Background(), cfg, lmsAddr, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	count := func(d *demo.Demo, q string, args ...any) (n int64) {
		t.Helper()
		if err := d.App.DB.Raw(q, args...).Row().Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	type tally struct{ subs, late, reviews, done, examples, calibrations, flags, rubrics int64 }
	read := func(d *demo.Demo) tally {
		return tally{
			subs:         count(d, `SELECT COUNT(*) FROM pr_submissions`),
			late:         count(d, `SELECT COUNT(*) FROM pr_submissions WHERE late`),
			reviews:      count(d, `SELECT COUNT(*) FROM pr_reviews WHERE state <> 'removed'`),
			done:         count(d, `SELECT COUNT(*) FROM pr_reviews WHERE state = 'done'`),
			examples:     count(d, `SELECT COUNT(*) FROM pr_examples`),
			calibrations: count(d, `SELECT COUNT(*) FROM pr_calibrations`),
			flags:        count(d, `SELECT COUNT(*) FROM pr_flags`),
			rubrics:      count(d, `SELECT COUNT(*) FROM pr_rubrics`),
		}
	}

	d := start()
	got := read(d)
	want := len(demo.PeerReviewLearners)
	if got.subs != int64(want) || got.late != 1 || got.reviews != int64(3*want) || got.examples != 1 || got.flags != 1 ||
		got.done < 6 || got.done >= got.reviews || got.calibrations < 3 {
		t.Fatalf("seeded %+v", got)
	}
	if n := count(d, `SELECT COUNT(*) FROM pr_reviews WHERE reviewer_id = author_id`); n != 0 {
		t.Errorf("%d self-reviews", n)
	}
	if n := count(d, `SELECT COUNT(*) FROM pr_submissions s WHERE (SELECT COUNT(DISTINCT reviewer_id) FROM pr_reviews r
		WHERE r.org_id = s.org_id AND r.submission_id = s.id AND r.state <> 'removed') <> 3`); n != 0 {
		t.Errorf("%d submissions without exactly three reviewers", n)
	}
	if n := count(d, `SELECT COUNT(*) FROM pr_submissions s JOIN users u ON u.org_id = s.org_id AND u.id = s.author_id
		WHERE u.subject IN ('aisha.rahman', 'lucas.moreau')`); n != 0 {
		t.Errorf("a visitor's learner already submitted")
	}
	if n := count(d, `SELECT COUNT(*) FROM pr_activity_state WHERE released_at IS NOT NULL`); n != 0 {
		t.Errorf("results are released")
	}
	// Who flagged is the reviewed author, of a review done.
	if n := count(d, `SELECT COUNT(*) FROM pr_flags f JOIN pr_reviews r ON r.org_id = f.org_id AND r.id = f.review_id WHERE r.state = 'done'`); n != 1 {
		t.Errorf("the flag is not on a review done")
	}
	// Reviewers who submitted a review had calibrated first.
	if n := count(d, `SELECT COUNT(DISTINCT r.reviewer_id) FROM pr_reviews r WHERE r.state = 'done' AND NOT EXISTS
		(SELECT 1 FROM pr_calibrations c WHERE c.org_id = r.org_id AND c.link_id = r.link_id AND c.user_id = r.reviewer_id)`); n != 0 {
		t.Errorf("%d reviewers submitted reviews without calibrating", n)
	}

	// The course lists it, with a gradebook column.
	var found bool
	for _, l := range d.Platform.Links(demo.CourseID) {
		found = found || l.ID == demo.PeerReviewID
	}
	items := d.Platform.LineItems(demo.CourseID)
	if !found || len(items) != 1 || items[0].ScoreMaximum != 10 {
		t.Errorf("the course's activities %+v, gradebook columns %+v", d.Platform.Links(demo.CourseID), items)
	}

	// A visitor launching as a learner who has not submitted is offered
	// the work form, in the seeded rows.
	users := count(d, `SELECT COUNT(*) FROM users`)
	res, err := ltiplatform.NewBrowser().Launch(context.Background(), d.Platform, ltiplatform.LaunchRequest{
		ClientID: d.ClientID, UserID: "aisha.rahman", CourseID: demo.CourseID, ResourceLinkID: demo.PeerReviewID})
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("launch: %v %+v", err, res)
	}
	if !strings.Contains(res.Body, `data-testid="submit-work"`) {
		t.Errorf("the learner's page offers no way to submit:\n%.3000s", res.Body)
	}
	if n := count(d, `SELECT COUNT(*) FROM users`); n != users {
		t.Errorf("the launch made new users beside the seeded ones: %d, was %d", n, users)
	}

	if err := d.Shutdown(); err != nil {
		t.Fatal(err)
	}
	d = start()
	defer d.Shutdown()
	if again := read(d); again != got {
		t.Errorf("a restart seeded again: %+v, was %+v", again, got)
	}
}

// A visitor walks the seeded peer review: the instructor's dashboard
// shows the late work, the reviews done and the flag, the flagged review
// and the late learner's page (three reviewers) open; a learner with a
// draft finds it; a learner who has not calibrated is asked to first; the
// author who flagged reads no feedback while results are not released.
func TestDemoPeerReviewWalksAsSeeded(t *testing.T) {
	t.Parallel()
	d := startDemo(t)
	as := func(user string) (*staffPages, *goquery.Document) {
		t.Helper()
		b := ltiplatform.NewBrowser()
		res, err := b.Launch(context.Background(), d.Platform, ltiplatform.LaunchRequest{
			ClientID: d.ClientID, UserID: user, CourseID: demo.CourseID, ResourceLinkID: demo.PeerReviewID})
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("launch as %s: %v %+v", user, err, res)
		}
		u, _ := url.Parse(res.URL)
		p := &staffPages{t: t, b: b, url: u}
		return p, p.open(res.URL)
	}
	href := func(doc *goquery.Document, sel string) string {
		t.Helper()
		h, ok := doc.Find(sel).First().Attr("href")
		if !ok {
			t.Fatalf("no %s on the page:\n%.3000s", sel, doc.Text())
		}
		return h
	}
	text := func(doc *goquery.Document, sel string) string {
		return strings.Join(strings.Fields(doc.Find(sel).Text()), " ")
	}

	maya, home := as("maya.chen")
	dash := maya.open(href(home, "[data-testid=dashboard-link]"))
	if got := text(dash, "[data-testid=late]"); got != "1 late submission" {
		t.Errorf("dashboard: %q", got)
	}
	if got := text(dash, "[data-testid=on-time]"); got != "5 submissions on time" {
		t.Errorf("dashboard: %q", got)
	}
	if got := text(dash, "[data-testid=reviews-progress]"); !strings.HasPrefix(got, "9 of 18 reviews") {
		t.Errorf("dashboard: %q", got)
	}
	if dash.Find("[data-testid=flag]").Length() != 1 || dash.Find("[data-testid=release]").Length() != 1 {
		t.Errorf("dashboard flags and release:\n%.4000s", text(dash, "main"))
	}
	maya.open(href(dash, "[data-testid=flag] a"))
	var mateus string
	dash.Find("[data-testid=learner-row] th a").Each(func(_ int, a *goquery.Selection) {
		if a.Text() == "Mateus Silva" {
			mateus, _ = a.Attr("href")
		}
	})
	if page := maya.open(mateus); page.Find("[data-testid=received] [data-testid=given-row]").Length() != 3 {
		t.Errorf("the late learner's page: %s", text(page, "[data-testid=received]"))
	}
	maya.open(href(dash, "[data-testid=examples] li a"))

	olivia, home := as("olivia.bennett")
	if got := text(home, "[data-testid=queue-summary]"); !strings.Contains(got, "3 reviews to do") {
		t.Errorf("olivia's queue: %q", got)
	}
	drafts := 0
	home.Find("[data-testid=queue-item] a").Each(func(_ int, a *goquery.Selection) {
		h, _ := a.Attr("href")
		page := olivia.open(h)
		if page.Find("[data-testid=review-form] input[type=radio]:checked").Length() > 0 {
			drafts++
		}
	})
	if drafts != 1 {
		t.Errorf("olivia finds %d drafts, want 1", drafts)
	}

	mateusP, home := as("mateus.silva")
	if home.Find("[data-testid=calibration-link]").Length() != 1 || home.Find("[data-testid=submitted] .late").Length() != 1 {
		t.Errorf("mateus's page: %s", text(home, "main"))
	}
	if page := mateusP.open(href(home, "[data-testid=queue-item] a")); page.Find("[data-testid=must-calibrate]").Length() != 1 {
		t.Errorf("mateus reviews without being asked to calibrate first")
	}

	var flagger string
	if err := d.App.DB.Raw(`SELECT u.subject FROM pr_flags f JOIN pr_reviews r ON r.org_id = f.org_id AND r.id = f.review_id
		JOIN users u ON u.org_id = r.org_id AND u.id = r.author_id`).Row().Scan(&flagger); err != nil {
		t.Fatal(err)
	}
	fp, home := as(flagger)
	if home.Find("[data-testid=feedback-link]").Length() > 0 {
		if page := fp.open(href(home, "[data-testid=feedback-link]")); page.Find("[data-testid=feedback-review]").Length() != 0 {
			t.Errorf("%s reads feedback before the results are released", flagger)
		}
	}
}
