package web_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/roundtable-lms/roundtable/internal/apptest"
	"github.com/roundtable-lms/roundtable/internal/peerreview"
	"github.com/roundtable-lms/roundtable/internal/peerreview/peerreviewtest"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
	"github.com/roundtable-lms/roundtable/lti/ltiplatform"
)

// BenchmarkPeerReviewAtScale measures the server's time to answer the peer
// review's pages on a course of 1,000 submitters and 3,000 reviews (k = 3,
// 70 % done; peerreviewtest.Large), in its reviewing phase, as
// BenchmarkDiscussionAtScale measures the discussion's: in process, each
// request straight to the tool's handler, sixteen learners and the
// instructor launched for real. The pages: a learner's queue
// (/a/:link/review), a review page opened by its reviewer (each worker's
// learner opens one of their own) and the instructor's dashboard, which
// computes the whole activity's grades. For each page and number of
// requests in flight it reports p50, p95 and p99 in ms:
//
//	TEST_DATABASE_URL=... go test ./internal/web -run '^$' -bench PeerReviewAtScale -benchtime 400x
func BenchmarkPeerReviewAtScale(b *testing.B) {
	for _, kind := range storetest.Kinds {
		b.Run(string(kind), func(b *testing.B) {
			sc, pages := newPeerReviewScaleEnv(b, kind)
			for _, p := range pages {
				sc.warmAs(b, p.who)
				for _, inFlight := range []int{1, 8, 16} {
					b.Run(fmt.Sprintf("%s/inflight-%d", p.name, inFlight), func(b *testing.B) {
						sc.measureAs(b, inFlight, p.who)
					})
				}
			}
		})
	}
}

// prScalePage is a page timed, each worker's address and session.
type prScalePage struct {
	name string
	who  func(w int) (string, scaleSession)
}

// peerReviewScaleSettings: a graded peer review, three reviewers each,
// text and files up to 60 MB.
func peerReviewScaleSettings() map[string]string {
	s := maps.Clone(peerReviewSettings)
	s["reviewers"], s["max_file_mb"] = "3", "60"
	return s
}

func newPeerReviewScaleEnv(b *testing.B, kind store.Dialect) (*scaleEnv, []prScalePage) {
	env := apptest.Start(b, kind)
	ines := join(b, env, apptest.Instructor)
	ines.configure(peerReviewScaleSettings())
	staff := scaleSession{rt: ines.rt, cookies: ines.b.Cookies(ines.res.URL)}

	users := apptest.SeedLearners(b, env, 16)
	sc := &scaleEnv{handler: env.App.Web.Handler()}
	var base string
	for _, u := range users {
		br := ltiplatform.NewBrowser()
		res, err := br.Launch(context.Background(), env.Platform, ltiplatform.LaunchRequest{
			ClientID: apptest.ClientID, UserID: u, CourseID: apptest.CourseID, ResourceLinkID: apptest.LinkID})
		if err != nil || res.StatusCode != http.StatusOK {
			b.Fatalf("launch %s: %v %v", u, err, res)
		}
		ru, _ := url.Parse(res.URL)
		base = ru.Path
		sc.sessions = append(sc.sessions, scaleSession{rt: ru.Query().Get("rt"), cookies: br.Cookies(res.URL)})
	}
	// The launches recorded the course, link and cohort: the fixture goes
	// there, the launched learners first, in the order of their sessions.
	var sp peerreviewtest.Space
	rows, err := env.DB.SQL.Query(`SELECT s.org_id, s.course_id, s.resource_link_id, s.cohort_id, s.user_id
		FROM sessions s JOIN users u ON u.org_id = s.org_id AND u.id = s.user_id WHERE u.subject LIKE 'bench-learner-%' ORDER BY u.subject`)
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
		var viewer string
		if err := rows.Scan(&sp.OrgID, &sp.CourseID, &sp.LinkID, &sp.CohortID, &viewer); err != nil {
			b.Fatal(err)
		}
		sp.Viewers = append(sp.Viewers, viewer)
	}
	if err := rows.Close(); err != nil || len(sp.Viewers) != len(users) {
		b.Fatalf("sessions: %v, %d viewers", err, len(sp.Viewers))
	}
	a, err := env.App.Courses.Activity(context.Background(), sp.OrgID, sp.LinkID, sp.Viewers[0], sp.CohortID)
	if err != nil {
		b.Fatal(err)
	}
	o, ok := a.Settings.Options.(peerreview.Options)
	if !ok || o.Reviewers != 3 {
		b.Fatalf("the activity is not a peer review of three reviewers: %+v", a.Settings.Options)
	}
	f, err := peerreviewtest.Seed(context.Background(), env.DB, sp, peerreviewtest.Scale{Learners: 1000, Filled: true}, o)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%s fixture: %v, seeded in %s", kind, f.Rows, f.Took.Round(time.Millisecond))

	learner := func(w int) scaleSession { return sc.sessions[w%len(sc.sessions)] }
	pages := []prScalePage{
		{"queue", func(w int) (string, scaleSession) { return base + "/review", learner(w) }},
		{"review", func(w int) (string, scaleSession) {
			return base + "/review/r/" + f.Given[sp.Viewers[w%len(sp.Viewers)]][0], learner(w)
		}},
		{"dashboard", func(int) (string, scaleSession) { return base + "/review/dashboard", staff }},
	}
	// Each page shows what it should before it is timed.
	check := func(p prScalePage, w int, sel string, want int) {
		path, s := p.who(w)
		rec := sc.do(path, s)
		if rec.Code != http.StatusOK {
			b.Fatalf("%s: %d %.500s", path, rec.Code, rec.Body.String())
		}
		d, err := goquery.NewDocumentFromReader(rec.Body)
		if err != nil {
			b.Fatal(err)
		}
		if n := d.Find(sel).Length(); n != want {
			b.Fatalf("%s: %d of %s, want %d\n%.2000s", path, n, sel, want, strings.TrimSpace(d.Find("main").Text()))
		}
	}
	for w := range len(sc.sessions) {
		check(pages[0], w, "[data-testid=queue-item]", 3)
		check(pages[1], w, "[data-testid=review-form]", 1)
	}
	check(pages[2], 0, "[data-testid=learner-row]", 100)
	return sc, pages
}
