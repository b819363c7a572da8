package browsertest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/roundtable-lms/roundtable/internal/browsertest"
)

// Tests share one Chromium, but each sees a browser of its own: a cookie
// or a stored value of one test is not there in the next, and the window
// is the size the pages were designed at.
func TestEachTestHasItsOwnBrowserContext(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/set" {
			http.SetCookie(w, &http.Cookie{Name: "who", Value: "first", Path: "/"})
		}
		fmt.Fprint(w, `<!DOCTYPE html><html lang="en"><head><title>t</title></head><body><main><h1>t</h1></main></body></html>`)
	}))
	defer srv.Close()

	var first, second = browsertest.New(t), browsertest.New(t)
	if chromedp.FromContext(first).Browser != chromedp.FromContext(second).Browser {
		t.Error("two contexts of one test run in two Chromiums")
	}
	if err := chromedp.Do(first, chromedp.Navigate(srv.URL+"/set")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(first, chromedp.Evaluate[any](`localStorage.setItem("who", "first")`)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(second, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	cookies, err := chromedp.Run(second, chromedp.Evaluate[string](`document.cookie`))
	if err != nil {
		t.Fatal(err)
	}
	stored, err := chromedp.Run(second, chromedp.Evaluate[string](`localStorage.getItem("who") || ""`))
	if err != nil {
		t.Fatal(err)
	}
	if cookies != "" || stored != "" {
		t.Errorf("a second browser context sees cookie %q and stored %q of the first", cookies, stored)
	}
	if own, _ := chromedp.Run(first, chromedp.Evaluate[string](`document.cookie`)); own != "who=first" {
		t.Errorf("the first context's cookie %q", own)
	}
	width, err := chromedp.Run(second, chromedp.Evaluate[int](`window.innerWidth`))
	if err != nil {
		t.Fatal(err)
	}
	if width != 1280 {
		t.Errorf("window width %d, want 1280", width)
	}

	// Another flag set starts another Chromium.
	other := browsertest.New(t, browsertest.HostResolverRules("MAP tool.test 127.0.0.1"))
	if chromedp.FromContext(other).Browser == chromedp.FromContext(first).Browser {
		t.Error("a test asking for other flags shares the default Chromium")
	}
}
