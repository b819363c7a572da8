package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/roundtable-lms/roundtable/discussion"
	"github.com/roundtable-lms/roundtable/internal/apptest"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/lti/ltiplatform"
)

// BenchmarkThreadPageWorstPost measures what one post can cost a thread
// page: a thread of 20 short replies whose last reply is an ordinary post
// of the longest length (20,000 characters of prose with links, lists and
// a table) or one of the worst a learner could write, stored directly as
// posts written before the limits are. For each it reports the page's
// size and the server's time to answer it in process (session, reads,
// template, no network), warm (the post's HTML cached: every view but
// the first) and cold (the post rendered afresh: the first view of a
// text in a process). SQLite:
//
//	go test ./web -run '^$' -bench ThreadPageWorstPost -benchtime 200x
func BenchmarkThreadPageWorstPost(b *testing.B) {
	ctx := context.Background()
	env := apptest.Start(b, store.SQLite)
	br, res := env.Launch(b, apptest.Learner, nil)
	u, _ := url.Parse(res.URL)
	rt := u.Query().Get("rt")
	threadPath := askDirect(b, br, res)
	threadID := threadPath[strings.LastIndex(threadPath, "/")+1:]
	var v discussion.Viewer
	if err := env.DB.Raw(`SELECT space_id, org_id, course_id, link_id, cohort_id, author_id FROM threads WHERE id = ?`, threadID).Row().
		Scan(&v.SpaceID, &v.OrgID, &v.CourseID, &v.LinkID, &v.CohortID, &v.UserID); err != nil {
		b.Fatal(err)
	}
	s := discussion.NewStore(env.DB)
	s.PostsPerMinute = 0
	var last string
	for i := range 20 {
		id, err := s.Reply(ctx, v, threadID, discussion.ReplyInput{Body: fmt.Sprintf("A short reply, number %d, with *some* emphasis.", i)})
		if err != nil {
			b.Fatal(err)
		}
		last = id
	}
	handler := env.App.Web.Handler()
	page := func() int {
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, threadPath+"?rt="+url.QueryEscape(rt), nil))
		if rec.Code != http.StatusOK {
			b.Fatalf("thread page: %d", rec.Code)
		}
		return rec.Body.Len()
	}
	// The machine is shared: besides the wall time, each reports the
	// process's CPU time per page (getrusage), which others' load moves
	// less.
	for _, c := range postCosts() {
		b.Run(c.name+"/warm", func(b *testing.B) {
			storeBody(b, env, last, c.body)
			size := page()
			var cpu time.Duration
			for b.Loop() {
				start := cpuTime()
				page()
				cpu += cpuTime() - start
			}
			b.ReportMetric(float64(size), "page-bytes")
			b.ReportMetric(float64(cpu.Microseconds())/1e3/float64(b.N), "cpu-ms/op")
		})
		b.Run(c.name+"/cold", func(b *testing.B) {
			i := 0
			var cpu time.Duration
			for b.Loop() {
				b.StopTimer()
				i++
				// Another text, so that the cache misses.
				storeBody(b, env, last, fmt.Sprintf("%d %s", i, c.body[:len(c.body)-len(fmt.Sprint(i))-1]))
				b.StartTimer()
				start := cpuTime()
				page()
				cpu += cpuTime() - start
			}
			b.ReportMetric(float64(cpu.Microseconds())/1e3/float64(b.N), "cpu-ms/op")
		})
	}
}

// cpuTime is the CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// askDirect starts a thread through the form, from the list page res,
// and returns its path.
func askDirect(b *testing.B, br *ltiplatform.Browser, res *ltiplatform.Result) string {
	b.Helper()
	ctx := context.Background()
	base, _ := url.Parse(res.URL)
	href, _ := parse(b, res.Body).Find("[data-testid=ask]").Attr("href")
	ask, _ := base.Parse(href)
	r, err := br.Get(ctx, ask.String())
	if err != nil {
		b.Fatal(err)
	}
	f := parse(b, r.Body).Find("form.post-form")
	vals := fields(f)
	vals.Set("kind", "discussion")
	vals.Set("title", "What one post costs")
	vals.Set("body", "The opening post.")
	action, _ := base.Parse(f.AttrOr("action", ""))
	r, err = br.PostForm(ctx, action.String(), vals)
	if err != nil || r.StatusCode != http.StatusOK {
		b.Fatalf("ask: %v %v", err, r)
	}
	u, _ := url.Parse(r.URL)
	return u.Path
}

func parse(b *testing.B, body string) *goquery.Document {
	d, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	return d
}

type postCost struct{ name, body string }

// postCosts are an ordinary post of 20,000 characters and the worst ones
// the review and markdown's tests found, each 20,000 characters or less.
func postCosts() []postCost {
	cut := func(s string) string { return s[:min(len(s), discussion.MaxBody)] }
	var ordinary strings.Builder
	for i := 0; ordinary.Len() < discussion.MaxBody; i++ {
		fmt.Fprintf(&ordinary, "Paragraph %d: the *quick* brown fox reads [the notes](https://example.com/notes/%d) and asks about it, "+
			"because the **second** exercise is not clear to everyone in the cohort yet.\n\n", i, i)
		if i%8 == 0 {
			ordinary.WriteString("- one point\n- another point\n\n| step | what |\n|---|---|\n| 1 | read |\n| 2 | try |\n\n")
		}
	}
	return []postCost{
		{"short", "A short reply of one line, as most are."},
		{"ordinary", cut(ordinary.String())},
		{"table-1500-columns", tableBomb(discussion.MaxBody)},
		{"quotes-20000-deep", strings.Repeat(">", discussion.MaxBody)},
		{"link-reference-repeated", cut("[a]: https://example.com/" + strings.Repeat("x", 1000) + "\n\n" + strings.Repeat("[a]", discussion.MaxBody))},
		{"unclosed-links", cut(strings.Repeat("[a](", discussion.MaxBody))},
		{"mismatched-emphasis", cut(strings.Repeat("a*_", discussion.MaxBody))},
		{"mentions", cut(strings.Repeat("@a ", discussion.MaxBody))},
		{"web-addresses", cut(strings.Repeat("www.a.a ", discussion.MaxBody))},
		{"two-column-table-10000-rows", cut("|a|b|\n|-|-|\n" + strings.Repeat("|\n", discussion.MaxBody))},
	}
}
