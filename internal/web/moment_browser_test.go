package web_test

import (
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/roundtable-lms/roundtable/internal/browsertest"
	"github.com/roundtable-lms/roundtable/static"
)

// moment.js in Chromium, in a reader's time zone (Tokyo): a time's words
// are brought up to date from its datetime, its title gives the exact time
// in the reader's zone, and a time a live update inserts later is treated
// the same way.
func TestMomentScriptShowsTheReadersZone(t *testing.T) {
	js, err := fs.ReadFile(static.FS, "js/moment.js")
	if err != nil {
		t.Fatal(err)
	}
	threeHoursAgo := time.Now().UTC().Add(-3*time.Hour - 5*time.Minute).Truncate(time.Minute)
	mux := http.NewServeMux()
	mux.HandleFunc("/page", func(w http.ResponseWriter, r *http.Request) {
		// The server's words are stale on purpose: the page was written
		// long ago.
		fmt.Fprintf(w, `<!DOCTYPE html><html lang="en"><head><title>t</title></head><body><main>`+
			`<p id="a"><time datetime="%s" title="server" data-moment>just now</time></p>`+
			`</main><script src="/moment.js"></script></body></html>`, threeHoursAgo.Format(time.RFC3339))
	})
	mux.HandleFunc("/moment.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		w.Write(js)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	ctx := browsertest.New(t)
	if _, err := chromedp.Call(ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Asia/Tokyo"}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/page")); err != nil {
		t.Fatal(err)
	}
	tokyo := threeHoursAgo.In(time.FixedZone("JST", 9*3600))
	shown, err := chromedp.Run(ctx, chromedp.Poll[string](`(function () {
		var el = document.querySelector("#a time");
		return el.title === "server" ? null : el.textContent + "|" + el.title; })()`, chromedp.WithPollingTimeout(5*time.Second)))
	if err != nil {
		t.Fatalf("the time was not rewritten: %v", err)
	}
	words, title, _ := strings.Cut(shown, "|")
	if words != "3 hours ago" {
		t.Errorf("words %q, want 3 hours ago", words)
	}
	// The reader's locale writes the date and hour its own way (en-US
	// here: "Dec 7, 2026, 11:36 PM GMT+9"); the day, the hour and the
	// minute are Tokyo's.
	clock := tokyo.Format("3:04")
	if tokyo.Hour() == 0 || tokyo.Hour() > 12 {
		clock = tokyo.Format("15:04") + "|" + tokyo.Format("3:04")
	}
	if !strings.Contains(title, "GMT+9") || !strings.Contains(title, tokyo.Format("Jan 2")) || !containsAny(title, strings.Split(clock, "|")) {
		t.Errorf("title %q, want Tokyo's %s with its zone", title, tokyo.Format("Jan 2 15:04"))
	}

	// A live update inserts a post written a minute ago.
	minuteAgo := time.Now().UTC().Add(-90 * time.Second).Format(time.RFC3339)
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](`(function () {
		var p = document.createElement("p"); p.id = "b";
		p.innerHTML = '<span><time datetime="`+minuteAgo+`" title="server" data-moment>long ago</time></span>';
		document.querySelector("main").appendChild(p); })()`)); err != nil {
		t.Fatal(err)
	}
	inserted, err := chromedp.Run(ctx, chromedp.Poll[string](`(function () {
		var el = document.querySelector("#b time");
		return el.title === "server" ? null : el.textContent; })()`, chromedp.WithPollingTimeout(5*time.Second)))
	if err != nil {
		t.Fatalf("the inserted time was not rewritten: %v", err)
	}
	if inserted != "1 minute ago" {
		t.Errorf("inserted time says %q, want 1 minute ago", inserted)
	}
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// copy.js shows each post's Copy link, on the page as loaded, on a post a
// live update inserts, and on one brought up to date in place (which
// takes the fresh version's hidden attribute).
func TestCopyLinkButtonsShowWithTheScript(t *testing.T) {
	js, err := fs.ReadFile(static.FS, "js/copy.js")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/page", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!DOCTYPE html><html lang="en"><head><title>t</title></head><body><main>`+
			`<p id="copy-status" role="status"></p>`+
			`<article id="a"><button type="button" data-copy-link="/a/l/t/t1?post=p1#post-p1" hidden>Copy link</button></article>`+
			`</main><script src="/copy.js"></script></body></html>`)
	})
	mux.HandleFunc("/copy.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		w.Write(js)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	ctx := browsertest.New(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/page")); err != nil {
		t.Fatal(err)
	}
	shown := func(what, js string) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(5*time.Second))); err != nil {
			t.Errorf("%s: the Copy link stays hidden: %v", what, err)
		}
	}
	shown("the page as loaded", `!document.querySelector("#a button").hidden`)
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](`(function () {
		var p = document.createElement("article"); p.id = "b";
		p.innerHTML = '<header><button type="button" data-copy-link="/a/l/t/t1?post=p2#post-p2" hidden>Copy link</button></header>';
		document.querySelector("main").appendChild(p);
		document.querySelector("#a button").setAttribute("hidden", ""); })()`)); err != nil {
		t.Fatal(err)
	}
	shown("a post a live update inserted", `!document.querySelector("#b button").hidden`)
	shown("a post brought up to date in place", `!document.querySelector("#a button").hidden`)
}
