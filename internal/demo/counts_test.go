package demo_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/roundtable-lms/roundtable/internal/config"
	"github.com/roundtable-lms/roundtable/internal/demo"
	"github.com/roundtable-lms/roundtable/lti/ltiplatform"
)

// staffPages walks the demo as its instructor, reading pages as a browser
// does.
type staffPages struct {
	t   *testing.T
	b   *ltiplatform.Browser
	url *url.URL
}

func (s *staffPages) open(href string) *goquery.Document {
	s.t.Helper()
	u, err := s.url.Parse(href)
	if err != nil {
		s.t.Fatal(err)
	}
	res, err := s.b.Get(context.Background(), u.String())
	if err != nil || res.StatusCode != http.StatusOK {
		s.t.Fatalf("GET %s: %v %+v", u, err, res)
	}
	s.url, _ = url.Parse(res.URL)
	d, err := goquery.NewDocumentFromReader(strings.NewReader(res.Body))
	if err != nil {
		s.t.Fatal(err)
	}
	return d
}

// leadingNumber reads "3 replies" as 3.
func leadingNumber(t *testing.T, s string) int {
	t.Helper()
	f := strings.Fields(s)
	if len(f) == 0 {
		t.Fatalf("no number in %q", s)
	}
	n, err := strconv.Atoi(f[0])
	if err != nil {
		t.Fatalf("no number in %q", s)
	}
	return n
}

// Every count the demo shows agrees across pages, and its seeded history
// reads as one: a list row's replies are the replies its thread shows,
// participation counts what each learner wrote, nobody who wrote in the
// discussion is listed as never having opened it, and people were last
// active at different times of the past days, not all when the demo
// started.
func TestDemoCountsAgreeAcrossPages(t *testing.T) {
	t.Parallel()
	cfg := config.Config{Listen: "127.0.0.1:0", DataDir: dataDir(t), Secret: []byte("demo test secret, long enough for keys"),
		SecretSource: "env", LogFormat: "text"}
	started := time.Now()
	d, err := demo.Start(context.Background(), cfg, "127.0.0.1:0", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Shutdown()
	b := ltiplatform.NewBrowser()
	res, err := b.Launch(context.Background(), d.Platform, ltiplatform.LaunchRequest{
		ClientID: d.ClientID, UserID: "maya.chen", CourseID: demo.CourseID, ResourceLinkID: demo.DiscussionID})
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("launch as the instructor: %v %+v", err, res)
	}
	u, _ := url.Parse(res.URL)
	pages := &staffPages{t: t, b: b, url: u}
	list := pages.open(res.URL)

	type row struct{ title, href string }
	var rows []row
	listed := map[string]int{}
	list.Find("[data-testid=thread]").Each(func(_ int, th *goquery.Selection) {
		link := th.Find("[data-testid=thread-link]")
		href, _ := link.Attr("href")
		title := strings.TrimSpace(link.Text())
		rows = append(rows, row{title, href})
		listed[title] = leadingNumber(t, th.Find("[data-testid=reply-count]").Text())
	})
	if len(rows) < 6 {
		t.Fatalf("the list shows %d threads", len(rows))
	}
	for _, r := range rows {
		page := pages.open(r.href)
		heading := leadingNumber(t, page.Find("#replies-heading").Text())
		shown := page.Find("[data-testid=post]").Length() - 1
		if heading != listed[r.title] || shown != listed[r.title] {
			t.Errorf("%q: the list says %d replies, the thread's heading %d, and it shows %d", r.title, listed[r.title], heading, shown)
		}
	}

	// Participation counts what each learner wrote.
	base := "/a/" + strings.Split(strings.TrimPrefix(u.Path, "/a/"), "/")[0]
	part := pages.open(base + "/participation")
	var written []struct {
		Name             string
		Threads, Replies int
	}
	if err := d.App.DB.Raw(`SELECT u.name,
			COUNT(CASE WHEN t.opening_post_id = p.id THEN 1 END) AS threads,
			COUNT(CASE WHEN t.opening_post_id <> p.id THEN 1 END) AS replies
		FROM posts p JOIN threads t ON t.org_id = p.org_id AND t.id = p.thread_id
		JOIN users u ON u.org_id = p.org_id AND u.id = p.author_id
		GROUP BY u.name`).Scan(&written).Error; err != nil {
		t.Fatal(err)
	}
	lastActive := map[string]bool{}
	learners := part.Find("[data-testid=learner]")
	learners.Each(func(_ int, l *goquery.Selection) {
		name := strings.TrimSpace(l.Find("[data-testid=name]").Text())
		for _, w := range written {
			if w.Name != name {
				continue
			}
			threads := leadingNumber(t, l.Find("[data-testid=threads]").Text())
			replies := leadingNumber(t, l.Find("[data-testid=replies]").Text())
			if threads != w.Threads || replies != w.Replies {
				t.Errorf("participation shows %s with %d threads and %d replies; they wrote %d and %d", name, threads, replies, w.Threads, w.Replies)
			}
		}
		at, ok := l.Find("[data-testid=last-active] time").Attr("datetime")
		when, err := time.Parse(time.RFC3339, at)
		if !ok || err != nil {
			t.Errorf("%s was never active: %q", name, l.Find("[data-testid=last-active]").Text())
			return
		}
		if !when.Before(started) || when.Before(started.Add(-5*24*time.Hour)) {
			t.Errorf("%s was last active at %s, outside the seeded history before %s", name, when, started)
		}
		lastActive[at] = true
	})
	if learners.Length() < 8 || len(lastActive) < learners.Length()/2 {
		t.Errorf("%d learners share %d last-active times", learners.Length(), len(lastActive))
	}

	// The roster, refreshed from the LMS, lists nobody who wrote as never
	// having opened the activity.
	roster := pages.open(base + "/roster")
	form := roster.Find("form:has([data-testid=roster-refresh])")
	action, _ := form.Attr("action")
	fields := url.Values{}
	form.Find("input[type=hidden]").Each(func(_ int, in *goquery.Selection) {
		n, _ := in.Attr("name")
		v, _ := in.Attr("value")
		fields.Set(n, v)
	})
	target, _ := pages.url.Parse(action)
	refreshed, err := b.PostForm(context.Background(), target.String(), fields)
	if err != nil || refreshed.StatusCode != http.StatusOK {
		t.Fatalf("roster refresh: %v %+v", err, refreshed)
	}
	roster, _ = goquery.NewDocumentFromReader(strings.NewReader(refreshed.Body))
	if roster.Find("[data-testid=member]").Length() < 10 {
		t.Fatalf("the refreshed roster lists %d people", roster.Find("[data-testid=member]").Length())
	}
	if never := roster.Find("[data-testid=never-opened] li"); never.Length() != 0 {
		t.Errorf("people who wrote in the discussion are listed as never having opened it: %s", never.Text())
	}
}
