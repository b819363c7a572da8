package web_test

import (
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/roundtable-lms/roundtable/internal/browsertest"
	"github.com/roundtable-lms/roundtable/static"
)

// live.js in Chromium against a scripted event stream: events are
// re-dispatched on document, the live region counts them with a Show link
// that reloads, and events of another activity are ignored.
func TestLiveScriptInBrowser(t *testing.T) {
	js, err := fs.ReadFile(static.FS, "js/live.js")
	if err != nil {
		t.Fatal(err)
	}
	var loads atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/a/link-1", func(w http.ResponseWriter, r *http.Request) {
		loads.Add(1)
		fmt.Fprint(w, `<!DOCTYPE html><html lang="en"><head><title>t</title></head>`+
			`<body data-live-src="/a/link-1/events?lastEventId=0&amp;rt=tok"><main><h1>Threads</h1></main>`+
			`<div data-live-status aria-live="polite" class="live-status"></div>`+
			`<script src="/collect.js"></script><script src="/live.js"></script></body></html>`)
	})
	mux.HandleFunc("/collect.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		fmt.Fprint(w, `window.got = []; document.addEventListener("roundtable:live", function (e) { window.got.push(e.detail); });`)
	})
	mux.HandleFunc("/live.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		w.Write(js)
	})
	var streamed atomic.Int32
	mux.HandleFunc("/a/link-1/events", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("rt") != "tok" {
			http.Error(w, "no session", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		if streamed.Add(1) > 1 {
			// A reconnect (after the reload): nothing new.
			fmt.Fprint(w, "retry: 3000\n\n")
			w.(http.Flusher).Flush()
			<-r.Context().Done()
			return
		}
		fmt.Fprint(w, "retry: 3000\n\n"+
			"id: 1\nevent: post.created\ndata: {\"id\":1,\"type\":\"post.created\",\"data\":{\"link\":\"link-1\",\"thread\":\"t1\"},\"at\":\"2026-01-01T00:00:00Z\"}\n\n"+
			"id: 2\nevent: post.created\ndata: {\"id\":2,\"type\":\"post.created\",\"data\":{\"link\":\"link-2\",\"thread\":\"t9\"},\"at\":\"2026-01-01T00:00:00Z\"}\n\n"+
			": keep-alive\n\n"+
			"id: 3\nevent: vote\ndata: {\"id\":3,\"type\":\"vote\",\"data\":{\"link\":\"link-1\",\"post\":\"p1\"},\"at\":\"2026-01-01T00:00:00Z\"}\n\n")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	ctx := browsertest.New(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/a/link-1")); err != nil {
		t.Fatal(err)
	}
	text, err := chromedp.Run(ctx, chromedp.Poll[string](`(function () {
		var s = document.querySelector("[data-live-status]").textContent;
		return s.indexOf("update") >= 0 ? s : null; })()`, chromedp.WithPollingTimeout(10*time.Second)))
	if err != nil {
		t.Fatalf("the live region never announced the events: %v", err)
	}
	if !strings.HasPrefix(text, "1 new post and 1 update") || !strings.HasSuffix(text, "Show") {
		t.Fatalf("live region %q", text)
	}
	ids, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`window.got.map(function (e) { return e.id; })`))
	if err != nil || len(ids) != 2 || ids[0] != 1 || ids[1] != 3 {
		t.Fatalf("roundtable:live events %v %v, want 1 and 3", ids, err)
	}
	before := loads.Load()
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`[data-live-status] a`))); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for loads.Load() == before {
		if time.Now().After(deadline) {
			t.Fatal("Show did not reload the page")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
