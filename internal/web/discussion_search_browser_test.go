package web_test

import (
	"fmt"
	"html"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/roundtable-lms/roundtable/internal/browsertest"
	"github.com/roundtable-lms/roundtable/static"
)

// suggest.js in Chromium against a scripted suggest endpoint: typing a title
// asks once after a pause (debounced), with the session token kept, and the
// live region shows the answer; a title too short empties it.
func TestSuggestScriptInBrowser(t *testing.T) {
	js, err := fs.ReadFile(static.FS, "js/suggest.js")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var asked []string
	mux := http.NewServeMux()
	mux.HandleFunc("/a/link-1/new", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!DOCTYPE html><html lang="en"><head><title>t</title></head><body><main>`+
			`<label for="title">Title</label><input id="title" name="title" type="text">`+
			`<div aria-live="polite" data-suggest-url="/a/link-1/suggest?rt=tok"></div>`+
			`</main><script src="/suggest.js"></script></body></html>`)
	})
	mux.HandleFunc("/suggest.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		w.Write(js)
	})
	mux.HandleFunc("/a/link-1/suggest", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("rt") != "tok" {
			http.Error(w, "no session", http.StatusUnauthorized)
			return
		}
		title := r.URL.Query().Get("title")
		mu.Lock()
		asked = append(asked, title)
		mu.Unlock()
		fmt.Fprintf(w, `<p>Similar questions in your cohort:</p><ul><li><a href="/a/link-1/t/1?rt=tok">%s?</a></li></ul>`, html.EscapeString(title))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	ctx := browsertest.New(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/a/link-1/new")); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#title"), "p-value meaning")); err != nil {
		t.Fatal(err)
	}
	text, err := chromedp.Run(ctx, chromedp.Poll[string](`(function () {
		var s = document.querySelector("[data-suggest-url]").textContent;
		return s.indexOf("Similar") >= 0 ? s : null; })()`, chromedp.WithPollingTimeout(5*time.Second)))
	if err != nil {
		t.Fatalf("no suggestions shown: %v", err)
	}
	if !strings.Contains(text, "Similar questions in your cohort:") || !strings.Contains(text, "p-value meaning?") {
		t.Errorf("region %q", text)
	}
	mu.Lock()
	n := len(asked)
	mu.Unlock()
	if n != 1 {
		t.Errorf("typing asked %d times (%q), want once after the pause", n, asked)
	}
	// Clearing the title empties the region.
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS("#title"), "p")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("title").dispatchEvent(new Event("input"))`)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector("[data-suggest-url]").textContent === "" || null`, chromedp.WithPollingTimeout(5*time.Second))); err != nil {
		t.Errorf("a short title leaves the suggestions: %v", err)
	}
}
