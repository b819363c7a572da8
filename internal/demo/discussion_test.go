package demo_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/roundtable-lms/roundtable/internal/config"
	"github.com/roundtable-lms/roundtable/internal/demo"
)

// The demo course's discussion is seeded once: questions answered and not,
// discussions and replies, in the cohort a learner's launch opens.
func TestDemoDiscussionIsSeededOnce(t *testing.T) {
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
	count := func(d *demo.Demo, table string) (n int64) {
		d.App.DB.Table(table).Count(&n)
		return n
	}
	d := start()
	threads, posts := count(d, "threads"), count(d, "posts")
	if threads < 6 || posts < 15 {
		t.Fatalf("seeded %d threads and %d posts", threads, posts)
	}
	res := launch(t, d, d.ClientID, demo.DiscussionID)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("launch: %d", res.StatusCode)
	}
	page, err := goquery.NewDocumentFromReader(strings.NewReader(res.Body))
	if err != nil {
		t.Fatal(err)
	}
	items := page.Find("[data-testid=thread]")
	if items.Length() != int(threads) || page.Find("[data-testid=thread] [data-testid=answered]").Length() < 2 ||
		page.Find("[data-testid=thread] [data-testid=unanswered]").Length() < 1 || page.Find("[data-testid=pinned]").Length() != 1 {
		t.Errorf("the learner's list: %s", items.Text())
	}
	if count(d, "users") != 10 || count(d, "cohorts") != 1 {
		t.Errorf("the launch made new rows beside the seeded ones: %d users, %d cohorts", count(d, "users"), count(d, "cohorts"))
	}
	if err := d.Shutdown(); err != nil {
		t.Fatal(err)
	}
	d = start()
	defer d.Shutdown()
	if count(d, "threads") != threads || count(d, "posts") != posts {
		t.Errorf("a restart seeded again")
	}
}
