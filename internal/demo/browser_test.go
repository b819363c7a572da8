package demo_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/roundtable-lms/roundtable/internal/browsertest"
	"github.com/roundtable-lms/roundtable/internal/config"
	"github.com/roundtable-lms/roundtable/internal/demo"
)

func startDemo(t *testing.T) *demo.Demo {
	t.Helper()
	cfg := config.Config{Listen: "127.0.0.1:0", DataDir: dataDir(t), Secret: []byte("browser test secret, long enough for keys"), SecretSource: "env", LogFormat: "text"}
	d, err := demo.Start(context.Background(), cfg, "127.0.0.1:0", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Shutdown() })
	return d
}

// A person opens the demo course, presses "Open as" a learner, and the
// activity inside the LMS iframe greets that learner.
func TestDemoOpenAsLearnerShowsTheLearnerInTheFrame(t *testing.T) {
	t.Parallel()
	d := startDemo(t)
	ctx := browsertest.New(t)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(d.LMSURL),
		chromedp.WaitVisible(chromedp.CSS(`a.open-as[data-user="aisha.rahman"]`)),
		chromedp.Click(chromedp.CSS(`a.open-as[data-user="aisha.rahman"]`)),
		chromedp.WaitVisible(chromedp.CSS(`iframe#activity`)),
	); err != nil {
		t.Fatal(err)
	}
	name, err := browsertest.FrameText(ctx, "iframe#activity", "[data-testid=user-name]")
	if err != nil {
		t.Fatalf("activity page in the iframe: %v", err)
	}
	if name != "Aisha Rahman" {
		t.Fatalf("the iframe shows %q, want the learner's name", name)
	}
	role, _ := browsertest.FrameText(ctx, "iframe#activity", "[data-testid=user-role]")
	if strings.TrimSpace(role) != "Learner" {
		t.Errorf("role %q", role)
	}
}

// When the browser keeps no cookies for Roundtable inside the LMS page, the
// launch still succeeds: state and nonce go through the LMS's postMessage
// storage, and the session through the link token.
func TestLaunchWithoutCookiesUsesPlatformStorage(t *testing.T) {
	t.Parallel()
	// Roundtable is served as http://tool.test, which Chromium maps to
	// loopback but does not treat as a secure context, so it refuses every
	// Secure cookie the tool sets: the strictest cookie blocking there is.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, port, _ := net.SplitHostPort(addr)
	base, _ := url.Parse("http://tool.test:" + port)
	cfg := config.Config{Listen: addr, BaseURL: base, DataDir: dataDir(t), Secret: []byte("browser test secret, long enough for keys"), SecretSource: "env", LogFormat: "text"}
	var logs syncBuffer
	d, err := demo.Start(context.Background(), cfg, "127.0.0.1:0", slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Shutdown() })

	ctx := browsertest.New(t, browsertest.HostResolverRules("MAP tool.test 127.0.0.1"))
	if err := chromedp.Do(ctx,
		chromedp.Navigate(d.LMSURL),
		chromedp.Click(chromedp.CSS(`a.open-as[data-user="lucas.moreau"]`)),
		chromedp.WaitVisible(chromedp.CSS(`iframe#activity`)),
	); err != nil {
		t.Fatal(err)
	}
	name, err := browsertest.FrameText(ctx, "iframe#activity", "[data-testid=user-name]")
	if err != nil {
		t.Fatalf("activity page in the iframe: %v", err)
	}
	if name != "Lucas Moreau" {
		t.Fatalf("the iframe shows %q, want the learner's name", name)
	}
	var sessions int64
	d.App.DB.Raw("SELECT COUNT(*) FROM sessions").Scan(&sessions)
	if sessions != 1 {
		t.Fatalf("%d sessions, want exactly one", sessions)
	}
	// The launch went the cookie-less way: first the page that asks the LMS
	// for the stored state (200), then the confirmed launch (303).
	log := logs.String()
	first := strings.Index(log, "path=/lti/launch status=200")
	second := strings.Index(log, "path=/lti/launch status=303")
	if first < 0 || second < first {
		t.Fatalf("launch did not go through platform storage; log:\n%s", log)
	}
	if strings.Contains(log, "lti launch refused") {
		t.Fatalf("a launch was refused on the way:\n%s", log)
	}
}

// syncBuffer is a bytes.Buffer safe for the server's concurrent logging.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// An LMS admin registers Roundtable from the demo LMS's "Register a tool"
// page: Roundtable's page opens in a frame, registers, and its
// org.imsglobal.lti.close message tells the LMS page it is done.
func TestRegisterToolPageClosesOnLTIClose(t *testing.T) {
	t.Parallel()
	d := startDemo(t)
	ctx := browsertest.New(t)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(d.RegisterURL),
		chromedp.Click(chromedp.CSS(`form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#register-status`)),
		chromedp.WaitNotPresent(chromedp.CSS(`iframe#register-frame`)),
	); err != nil {
		t.Fatal(err)
	}
	status, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#register-status`)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(status, "Registered") {
		t.Errorf("status %q", status)
	}
	ps, err := d.App.Registry.List(context.Background())
	if err != nil || len(ps) != 2 {
		t.Fatalf("%d registrations (%v), want the demo's and the new one", len(ps), err)
	}
}

// An instructor presses "Add activity" in the demo course, places a
// discussion from Roundtable's chooser inside the LMS frame, and comes back
// to the course with the new activity listed; a learner then opens it.
func TestAddActivityFromTheDemoCourse(t *testing.T) {
	t.Parallel()
	d := startDemo(t)
	ctx := browsertest.New(t)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(d.LMSURL),
		chromedp.WaitVisible(chromedp.CSS(`a.add-as[data-user="maya.chen"]`)),
		chromedp.Click(chromedp.CSS(`a.add-as[data-user="maya.chen"]`)),
		chromedp.WaitVisible(chromedp.CSS(`iframe#activity`)),
	); err != nil {
		t.Fatal(err)
	}
	if h, err := browsertest.FrameText(ctx, "iframe#activity", "h1"); err != nil || h != "Add a Roundtable activity" {
		t.Fatalf("the frame shows %q (%v), want the chooser", h, err)
	}
	title := "Week 2: a chart that misled you"
	inFrame(t, ctx, "type the title", func(f *chromedp.Node) chromedp.Action[chromedp.Void] {
		return chromedp.SetValue(chromedp.CSS(`#title`), title, chromedp.FromNode(f))
	})
	inFrame(t, ctx, "type the instructions", func(f *chromedp.Node) chromedp.Action[chromedp.Void] {
		return chromedp.SetValue(chromedp.CSS(`#instructions`), "Share one chart and what was wrong with it.", chromedp.FromNode(f))
	})
	inFrame(t, ctx, "place it", func(f *chromedp.Node) chromedp.Action[chromedp.Void] {
		return chromedp.Submit(chromedp.CSS(`form[data-testid=chooser]`), chromedp.FromNode(f))
	})
	// The signed answer goes to the LMS, which shows the course again.
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`.deep-link-result`))); err != nil {
		t.Fatal(err)
	}
	added, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`.deep-link-result .added-title`)))
	if err != nil || added != title {
		t.Fatalf("the course says it added %q (%v)", added, err)
	}
	link := placedLink(t, d, title)
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`article[data-link="`+link+`"] a.open-as[data-user="aisha.rahman"]`)),
		chromedp.WaitVisible(chromedp.CSS(`iframe#activity`)),
	); err != nil {
		t.Fatal(err)
	}
	if h, err := browsertest.FrameText(ctx, "iframe#activity", "h1"); err != nil || h != title {
		t.Errorf("the new activity opens on %q (%v)", h, err)
	}
	if name, _ := browsertest.FrameText(ctx, "iframe#activity", "[data-testid=user-name]"); name != "Aisha Rahman" {
		t.Errorf("opened as %q", name)
	}
}

// placedLink is the id of the demo course's activity the LMS holds under
// title, the one an instructor just placed.
func placedLink(t *testing.T, d *demo.Demo, title string) string {
	t.Helper()
	for _, l := range d.Platform.Links(demo.CourseID) {
		if l.Title == title {
			return l.ID
		}
	}
	t.Fatal("the LMS has no such activity")
	return ""
}
