package demo_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/roundtable-lms/roundtable/internal/browsertest"
	"github.com/roundtable-lms/roundtable/internal/config"
	"github.com/roundtable-lms/roundtable/internal/demo"
)

// inFrame runs act on the activity iframe's document, retrying while the
// frame navigates.
func inFrame(t *testing.T, ctx context.Context, what string, act func(frame *chromedp.Node) chromedp.Action[chromedp.Void]) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var err error
	for time.Now().Before(deadline) {
		var nodes []*chromedp.Node
		if nodes, err = chromedp.Run(ctx, chromedp.Nodes(chromedp.CSS(`iframe#activity`))); err == nil && len(nodes) > 0 {
			tctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			err = chromedp.Do(tctx, act(nodes[0]))
			cancel()
			if err == nil {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s: %v", what, err)
}

// With no cookies at all inside the LMS page, a learner opens a seeded
// question, replies and sees the reply: every link and form carries the
// session token and the CSRF token, and nothing needs a script.
func TestCookielessLearnerRepliesInTheFrame(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, port, _ := net.SplitHostPort(addr)
	base, _ := url.Parse("http://tool.test:" + port)
	cfg := config.Config{Listen: addr, BaseURL: base, DataDir: dataDir(t), Secret: []byte("browser test secret, long enough for keys"), SecretSource: "env", LogFormat: "text"}
	d, err := demo.Start(context.Background(), cfg, "127.0.0.1:0", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Shutdown() })

	ctx := browsertest.New(t, browsertest.HostResolverRules("MAP tool.test 127.0.0.1"))
	if err := chromedp.Do(ctx,
		chromedp.Navigate(d.LMSURL),
		chromedp.Click(chromedp.CSS(`#link-`+demo.DiscussionID+` ~ .opens a.open-as[data-user="mateus.silva"]`)),
		chromedp.WaitVisible(chromedp.CSS(`iframe#activity`)),
	); err != nil {
		t.Fatal(err)
	}
	// The seeded discussion's latest unanswered question, first of its kind in the list.
	title := "Why does groupby drop the rows where the region is empty?"
	// Follow the link as a click would, inside the frame (chromedp cannot
	// click into a cross-site frame): read its href, navigate the frame.
	if _, err := browsertest.FrameText(ctx, "iframe#activity", "[data-testid=user-name]"); err != nil {
		t.Fatal(err)
	}
	var href string
	deadline := time.Now().Add(20 * time.Second)
	for href == "" {
		nodes, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSS(`iframe#activity`)))
		if err == nil && len(nodes) > 0 {
			tctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			var res chromedp.AttributeResult
			res, err = chromedp.Run(tctx, chromedp.AttributeValue(chromedp.CSS(`[data-testid=thread]:has([data-testid=unanswered]) [data-testid=thread-link]`), "href", chromedp.FromNode(nodes[0])))
			cancel()
			href = res.Value
		}
		if time.Now().After(deadline) {
			t.Fatalf("find the unanswered question: %v", err)
		}
	}
	if !strings.Contains(href, "rt=") {
		t.Errorf("the link does not carry the session token: %s", href)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](`document.querySelector("iframe#activity").src = `+strconv.Quote(base.String()+href)+`; 1`)); err != nil {
		t.Fatal(err)
	}
	got, err := browsertest.FrameText(ctx, "iframe#activity", "[data-testid=thread-title]")
	if err != nil || got != title {
		t.Fatalf("thread page: %q %v", got, err)
	}
	answer := "Rename one column with df.rename, then zero-pad the ids with str.zfill before merging."
	inFrame(t, ctx, "type the reply", func(f *chromedp.Node) chromedp.Action[chromedp.Void] {
		return chromedp.SetValue(chromedp.CSS(`#reply-body`), answer, chromedp.FromNode(f))
	})
	inFrame(t, ctx, "post the reply", func(f *chromedp.Node) chromedp.Action[chromedp.Void] {
		return chromedp.Submit(chromedp.CSS(`#reply form`), chromedp.FromNode(f))
	})
	deadline = time.Now().Add(15 * time.Second)
	for {
		var n int64
		d.App.DB.Raw(`SELECT COUNT(*) FROM posts WHERE body = ?`, answer).Scan(&n)
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the reply was not stored")
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The stored reply may be seen before the frame has followed the
	// redirect to the thread: wait for the new page.
	deadline = time.Now().Add(15 * time.Second)
	for {
		body, err := browsertest.FrameText(ctx, "iframe#activity", "#replies-heading")
		if err == nil && strings.HasPrefix(body, "1 reply") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after posting, the thread shows %q (%v)", body, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
