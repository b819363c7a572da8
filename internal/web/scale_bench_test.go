package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/roundtable-lms/roundtable/discussion/discussiontest"
	"github.com/roundtable-lms/roundtable/internal/apptest"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
	"github.com/roundtable-lms/roundtable/lti/ltiplatform"
)

// BenchmarkDiscussionAtScale measures the server's time to answer the
// discussion's pages — session, reads, template — on a cohort's space of
// 1,000 threads and 100,000 posts (discussiontest.Large), in process: each
// request goes straight to the tool's handler with a recorder, so neither
// the network nor a browser is counted. Sixteen learners launched for
// real; each concurrent worker uses one of their sessions. For each page
// and number of requests in flight it reports p50, p95 and p99 in ms:
//
//	TEST_DATABASE_URL=... go test ./web -run '^$' -bench DiscussionAtScale -benchtime 400x
//
// The fixture is seeded once per database, only when the benchmark runs.
func BenchmarkDiscussionAtScale(b *testing.B) {
	for _, kind := range storetest.Kinds {
		b.Run(string(kind), func(b *testing.B) {
			sc := newScaleEnv(b, kind)
			for _, p := range sc.pages {
				sc.warm(b, p.path)
				for _, inFlight := range []int{1, 8, 16} {
					b.Run(fmt.Sprintf("%s/inflight-%d", p.name, inFlight), func(b *testing.B) {
						sc.measure(b, p.path, inFlight)
					})
				}
			}
		})
	}
}

type scalePage struct{ name, path string }

type scaleEnv struct {
	handler  http.Handler
	sessions []scaleSession
	pages    []scalePage
}

// scaleSession is a learner's session: the token the pages carry and
// the browser's cookies.
type scaleSession struct {
	rt      string
	cookies []*http.Cookie
}

func newScaleEnv(b *testing.B, kind store.Dialect) *scaleEnv {
	env := apptest.Start(b, kind)
	users := apptest.SeedLearners(b, env, 16)
	sc := &scaleEnv{handler: env.App.Web.Handler()}
	var listPath string
	for _, u := range users {
		br := ltiplatform.NewBrowser()
		res, err := br.Launch(context.Background(), env.Platform, ltiplatform.LaunchRequest{
			ClientID: apptest.ClientID, UserID: u, CourseID: apptest.CourseID, ResourceLinkID: apptest.LinkID})
		if err != nil || res.StatusCode != http.StatusOK {
			b.Fatalf("launch %s: %v %v", u, err, res)
		}
		ru, _ := url.Parse(res.URL)
		listPath = ru.Path
		sc.sessions = append(sc.sessions, scaleSession{rt: ru.Query().Get("rt"), cookies: br.Cookies(res.URL)})
	}
	// The launches recorded the course, link and cohort: the fixture goes there.
	var sp discussiontest.Space
	rows, err := env.DB.SQL.Query(`SELECT s.org_id, s.course_id, s.resource_link_id, s.cohort_id, s.user_id
		FROM sessions s JOIN users u ON u.org_id = s.org_id AND u.id = s.user_id ORDER BY u.subject`)
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
	f, err := discussiontest.Seed(context.Background(), env.DB, sp, discussiontest.Large)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%s fixture: %d threads, %d posts (largest thread %d posts), seeded in %s; rows %v",
		kind, f.Rows["threads"], f.Rows["posts"], f.LargestPosts, f.Took.Round(time.Millisecond), f.Rows)

	sc.pages = []scalePage{
		{"list-latest", listPath},
		{"list-newest", listPath + "?sort=newest"},
		{"list-top", listPath + "?sort=top"},
		{"list-unanswered", listPath + "?sort=unanswered"},
		{"list-tag", listPath + "?tag=" + f.Tag},
		{"list-following", listPath + "?following=1"},
	}
	// Page 20 of the latest activity: follow "Older threads" 19 times.
	path := listPath
	for i := 1; i < 20; i++ {
		d := sc.page(b, path, "[data-testid=thread]", 25)
		next, ok := d.Find("[data-testid=next-page]").Attr("href")
		if !ok {
			b.Fatalf("no next page after page %d", i)
		}
		nu, _ := url.Parse(next)
		q := nu.Query()
		q.Del("rt")
		path = nu.Path + "?" + q.Encode()
	}
	sc.pages = append(sc.pages,
		scalePage{"list-page-20", path},
		scalePage{"thread-100-posts", listPath + "/t/" + f.Hundred},
		scalePage{"search-word", listPath + "/search?q=" + url.QueryEscape(f.SearchWord)},
		scalePage{"search-two-words", listPath + "/search?q=" + url.QueryEscape(f.SearchWords)},
	)
	// Each page shows what it should before it is timed.
	for _, p := range sc.pages {
		switch {
		case strings.Contains(p.path, "/t/"):
			// 100 posts: the opening post and 99 replies, nested or not.
			sc.page(b, p.path, "[data-testid=post]", 100)
		case strings.Contains(p.path, "/search"):
			sc.page(b, p.path, "[data-testid=result]", 20)
		case strings.Contains(p.path, "following"):
			sc.page(b, p.path, "[data-testid=thread]", min(25, f.Following))
		default:
			sc.page(b, p.path, "[data-testid=thread]", 25)
		}
	}
	return sc
}

// request is a GET of path in session s.
func (sc *scaleEnv) request(path string, s scaleSession) *http.Request {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	req := httptest.NewRequest(http.MethodGet, path+sep+"rt="+url.QueryEscape(s.rt), nil)
	for _, c := range s.cookies {
		req.AddCookie(c)
	}
	return req
}

// do serves one GET of path in session s and records the answer.
func (sc *scaleEnv) do(path string, s scaleSession) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	sc.handler.ServeHTTP(rec, sc.request(path, s))
	return rec
}

// discard is a response writer that keeps only the status, as a socket
// would take the body: a recorder's growing buffer is the benchmark's
// garbage, not the server's.
type discard struct {
	header http.Header
	status int
}

func (d *discard) Header() http.Header { return d.header }
func (d *discard) WriteHeader(status int) {
	if d.status == 0 {
		d.status = status
	}
}
func (d *discard) Write(b []byte) (int, error) {
	d.WriteHeader(http.StatusOK)
	return len(b), nil
}

// page opens path in the first session and checks it shows want items of sel.
func (sc *scaleEnv) page(b *testing.B, path, sel string, want int) *goquery.Document {
	b.Helper()
	rec := sc.do(path, sc.sessions[0])
	if rec.Code != http.StatusOK {
		b.Fatalf("%s: %d %.500s", path, rec.Code, rec.Body.String())
	}
	d, err := goquery.NewDocumentFromReader(rec.Body)
	if err != nil {
		b.Fatal(err)
	}
	if n := d.Find(sel).Length(); n != want {
		b.Fatalf("%s: %d of %s, want %d", path, n, sel, want)
	}
	return d
}

// warmRequests is how many times each page is served, 16 at a time,
// before it is timed: enough for every pooled connection to have prepared
// and planned the page's statements (Postgres settles on a reusable plan
// after five executions per connection), as a running server's have.
// Without it, the first page timed after the fixture's load also paid for
// the load's checkpoint and the pool's first connections.
const warmRequests = 16 * 8

// warm serves path warmRequests times, 16 in flight, untimed.
func (sc *scaleEnv) warm(b *testing.B, path string) {
	b.Helper()
	sc.warmAs(b, func(w int) (string, scaleSession) { return path, sc.sessions[w%len(sc.sessions)] })
}

// warmAs is warm with each worker w's page and session given by who.
func (sc *scaleEnv) warmAs(b *testing.B, who func(w int) (string, scaleSession)) {
	b.Helper()
	var wg sync.WaitGroup
	var failed atomic.Value
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			path, s := who(w)
			for range warmRequests / 16 {
				rw := &discard{header: http.Header{}}
				sc.handler.ServeHTTP(rw, sc.request(path, s))
				if rw.status != http.StatusOK {
					failed.Store(fmt.Sprintf("warm %s: %d", path, rw.status))
					return
				}
			}
		}()
	}
	wg.Wait()
	if msg := failed.Load(); msg != nil {
		b.Fatal(msg)
	}
}

// measure serves b.N requests of path, inFlight at a time, and reports
// the latency percentiles and the throughput.
func (sc *scaleEnv) measure(b *testing.B, path string, inFlight int) {
	sc.measureAs(b, inFlight, func(w int) (string, scaleSession) { return path, sc.sessions[w%len(sc.sessions)] })
}

// measureAs is measure with each worker w's page and session given by who.
func (sc *scaleEnv) measureAs(b *testing.B, inFlight int, who func(w int) (string, scaleSession)) {
	var next atomic.Int64
	took := make([][]time.Duration, inFlight)
	var failed atomic.Value
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for w := range inFlight {
		wg.Add(1)
		go func() {
			defer wg.Done()
			path, s := who(w)
			for next.Add(1) <= int64(b.N) {
				req := sc.request(path, s)
				rw := &discard{header: http.Header{}}
				t0 := time.Now()
				sc.handler.ServeHTTP(rw, req)
				took[w] = append(took[w], time.Since(t0))
				if rw.status != http.StatusOK {
					failed.Store(fmt.Sprintf("%s: %d", path, rw.status))
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if msg := failed.Load(); msg != nil {
		b.Fatal(msg)
	}
	all := slices.Concat(took...)
	slices.Sort(all)
	at := func(q float64) float64 {
		return float64(all[min(len(all)-1, int(q*float64(len(all))))]) / 1e6
	}
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.95), "p95-ms")
	b.ReportMetric(at(0.99), "p99-ms")
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "req/s")
}
