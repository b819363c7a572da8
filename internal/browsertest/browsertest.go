// Package browsertest runs Debian's Chromium under chromedp for the
// end-to-end browser tests: one Chromium per test process (per set of
// command-line flags), started when the first test asks for it, and a
// fresh browser context (cookies, storage, cache of its own) for each test.
//
// A package with browser tests ends its Chromiums in TestMain:
//
//	func TestMain(m *testing.M) { browsertest.Main(m) }
package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Flag is a Chromium command-line switch a test needs. Tests asking for the
// same flags share one Chromium; a different set starts another.
type Flag struct {
	Name  string
	Value string
}

// HostResolverRules maps host names to addresses in Chromium, as
// "MAP tool.test 127.0.0.1" serves a tool on a non-secure origin.
func HostResolverRules(rules string) Flag {
	return Flag{Name: "host-resolver-rules", Value: rules}
}

// TabTimeout bounds each test's browser context.
const TabTimeout = 60 * time.Second

// browser is one running Chromium.
type browser struct {
	ctx    context.Context // a chromedp context holding the browser
	cancel func()          // closes the browser, then its allocator
}

var (
	browsersMu sync.Mutex
	browsers   = map[string]*browser{}
)

// New returns a chromedp context on a new browser context of the shared
// headless Chromium for flags: nothing of another test's cookies, storage
// or cache is visible in it, and it is closed when the test ends. Without
// a Chromium the test is skipped locally and fails under CI, where .ci/run
// installs it.
func New(t testing.TB, flags ...Flag) context.Context {
	t.Helper()
	return NewWithin(t, TabTimeout, flags...)
}

// NewWithin is New for a walk longer than TabTimeout (several people in
// their own browsers taking turns): its context ends after timeout.
func NewWithin(t testing.TB, timeout time.Duration, flags ...Flag) context.Context {
	t.Helper()
	path := chromium(t)
	b, err := shared(path, flags)
	if err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	ctx, cancelCtx := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	t.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
	})
	// The first action opens the tab in its browser context.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open a browser context: %v", err)
	}
	return ctx
}

// Main runs a test package's tests, then ends the Chromiums they started.
func Main(m *testing.M) {
	code := m.Run()
	Close()
	os.Exit(code)
}

// Close ends every shared Chromium. Tests started after it get new ones.
func Close() {
	browsersMu.Lock()
	defer browsersMu.Unlock()
	for key, b := range browsers {
		b.cancel()
		delete(browsers, key)
	}
}

// chromium finds the Chromium binary or ends the test.
func chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no Chromium on PATH under CI: .ci/run installs it with apt-get install -y chromium")
	}
	t.Skip("no Chromium on PATH: install it (apt-get install -y chromium) to run the browser tests")
	return ""
}

// shared returns the running Chromium for flags, starting it on first use
// and again if it has died.
func shared(path string, flags []Flag) (*browser, error) {
	flags = slices.Clone(flags)
	slices.SortFunc(flags, func(a, b Flag) int { return strings.Compare(a.Name+"="+a.Value, b.Name+"="+b.Value) })
	key := fmt.Sprint(flags)
	browsersMu.Lock()
	defer browsersMu.Unlock()
	if b := browsers[key]; b != nil {
		if b.ctx.Err() == nil {
			return b, nil
		}
		b.cancel()
		delete(browsers, key)
	}
	b, err := start(path, flags)
	if err != nil {
		return nil, err
	}
	browsers[key] = b
	return b, nil
}

func start(path string, flags []Flag) (*browser, error) {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.Flag("headless", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		// Keep the cross-site activity iframe in the page's process so the
		// test can read inside it.
		chromedp.Flag("disable-site-isolation-trials", true),
		chromedp.Flag("disable-features", "IsolateOrigins,site-per-process"),
		chromedp.WindowSize(1280, 900),
	)
	for _, f := range flags {
		opts = append(opts, chromedp.Flag(f.Name, f.Value))
	}
	// The browser outlives the test that started it: its contexts hang
	// from the background, and Close ends them.
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	cancel := func() {
		cancelBrowser()
		cancelAlloc()
	}
	// The browser lives as long as the context of its first action: no
	// timeout on this one.
	if err := chromedp.Do(bctx); err != nil {
		cancel()
		return nil, err
	}
	return &browser{ctx: bctx, cancel: cancel}, nil
}

// FrameText waits for sel inside the page's first iframe and returns its text.
func FrameText(ctx context.Context, frameSel, sel string) (string, error) {
	deadline := time.Now().Add(20 * time.Second)
	var lastErr error
	for time.Now().Before(deadline) {
		nodes, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSS(frameSel)))
		if err == nil && len(nodes) > 0 {
			tctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			text, err := chromedp.Run(tctx, chromedp.Text(chromedp.CSS(sel), chromedp.FromNode(nodes[0])))
			cancel()
			if err == nil {
				return text, nil
			}
			lastErr = err
		} else {
			lastErr = err
		}
		time.Sleep(200 * time.Millisecond)
	}
	return "", lastErr
}
