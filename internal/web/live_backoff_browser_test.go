package web_test

import (
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/roundtable-lms/roundtable/internal/browsertest"
	"github.com/roundtable-lms/roundtable/static"
)

// streamAttempt is one request of a page's event stream.
type streamAttempt struct {
	at                   time.Time
	lastEventID, queryID string
}

// live.js in Chromium, against a server that refuses a stream (past its
// bounds on open streams): the page does not give up, nor hammer. A broken
// stream reconnects at once with its Last-Event-ID; a refused one is tried
// again seconds later, from the last event the page saw. The page's long
// timers run at once, so the test reads the wait the page asked for
// instead of sitting it out.
func TestLiveScriptBacksOffWhenRefused(t *testing.T) {
	js, err := fs.ReadFile(static.FS, "js/live.js")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var attempts []streamAttempt
	hold := make(chan struct{})
	t.Cleanup(func() { close(hold) })
	mux := http.NewServeMux()
	mux.HandleFunc("/a/link-1", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!DOCTYPE html><html lang="en"><head><title>t</title></head>`+
			`<body data-live-src="/a/link-1/events?lastEventId=0&amp;rt=tok"><main><h1>Threads</h1></main>`+
			`<div data-live-status aria-live="polite"></div><script src="/live.js"></script></body></html>`)
	})
	mux.HandleFunc("/live.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		w.Write(js)
	})
	mux.HandleFunc("/a/link-1/events", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		attempts = append(attempts, streamAttempt{at: time.Now(), lastEventID: r.Header.Get("Last-Event-ID"), queryID: r.URL.Query().Get("lastEventId")})
		n := len(attempts)
		mu.Unlock()
		switch n {
		case 1:
			// One event, then the stream breaks: the browser reconnects.
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprint(w, "retry: 100\n\nid: 7\nevent: vote\ndata: {\"id\":7,\"type\":\"vote\",\"data\":{\"link\":\"link-1\"},\"at\":\"2026-01-01T00:00:00Z\"}\n\n")
		case 2:
			w.Header().Set("Retry-After", "30")
			http.Error(w, "Live updates are busy right now.", http.StatusServiceUnavailable)
		default:
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprint(w, "retry: 100\n\n")
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
			case <-hold:
			}
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	ctx := browsertest.New(t)
	timers, err := browsertest.SkipLongTimers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/a/link-1")); err != nil {
		t.Fatal(err)
	}
	count := func() []streamAttempt {
		mu.Lock()
		defer mu.Unlock()
		return append([]streamAttempt(nil), attempts...)
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(count()) < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("the page did not try again after the refusal: %+v", count())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Held open: no further attempt, though a refusal's wait would now be
	// no wait at all.
	time.Sleep(300 * time.Millisecond)
	got := count()
	if len(got) != 3 {
		t.Fatalf("%d attempts, want 3: %+v", len(got), got)
	}
	if got[1].lastEventID != "7" {
		t.Errorf("the reconnection after a break sent Last-Event-ID %q, want 7", got[1].lastEventID)
	}
	// About five seconds, at random within half of it either way.
	waits := evalJS[[]float64](t, ctx, timers)
	if len(waits) != 1 || waits[0] < 2500 || waits[0] > 7500 {
		t.Errorf("after one refusal the page waited %v ms, want one wait of 2500 to 7500", waits)
	}
	if got[2].queryID != "7" {
		t.Errorf("the retry after a refusal resumes from %q, want 7", got[2].queryID)
	}
}
