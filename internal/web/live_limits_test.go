package web_test

import (
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roundtable-lms/roundtable/internal/apptest"
	"github.com/roundtable-lms/roundtable/internal/config"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
)

// streamOpener opens live event streams from one client address and keeps
// those the server accepts open until the test ends.
type streamOpener struct {
	t      *testing.T
	client *http.Client
	mu     sync.Mutex
	open   []*http.Response
}

func newStreamOpener(t *testing.T, localIP string) *streamOpener {
	d := &net.Dialer{Timeout: 5 * time.Second}
	if localIP != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(localIP)}
	}
	o := &streamOpener{t: t, client: &http.Client{Timeout: 0, Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 4}}}
	t.Cleanup(func() {
		o.mu.Lock()
		defer o.mu.Unlock()
		for _, r := range o.open {
			r.Body.Close()
		}
		o.client.CloseIdleConnections()
	})
	return o
}

// try opens one stream and returns its status, its Retry-After and, when
// refused, its page.
func (o *streamOpener) try(rawURL string) (status int, retryAfter, body string) {
	o.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, rawURL, nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := o.client.Do(req)
	if err != nil {
		o.t.Fatal(err)
	}
	if resp.StatusCode == http.StatusOK {
		o.mu.Lock()
		o.open = append(o.open, resp)
		o.mu.Unlock()
		return resp.StatusCode, "", ""
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Retry-After"), string(b)
}

// closeOne ends one of the streams the server accepted.
func (o *streamOpener) closeOne() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.open[0].Body.Close()
	o.open = o.open[1:]
}

// One session trying 3,000 live streams (as a reviewer's script did, which
// held 3,021 open files) gets at most its share; the others are refused at
// once with 429 and a Retry-After. An address past its share is refused
// the same way, and past the process's bound every stream is refused with
// 503, until one closes.
func TestLiveStreamsAreBounded(t *testing.T) {
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			env := apptest.StartWith(t, kind, func(c *config.Config) {
				c.LiveStreams = config.LiveStreams{Total: 10, PerAddress: 8, PerSession: 6}
			})
			eventsOf := func(user string) string {
				path, tok, _ := launchToken(t, env, user)
				return env.App.URL(path+"/events") + "?rt=" + url.QueryEscape(tok)
			}
			alice, bob := eventsOf(apptest.Learner), eventsOf(apptest.Learner2)
			addLearner(t, env, "learner-carol", "Carol Diaz", "Carol", "Diaz")
			carol := eventsOf("learner-carol")

			// Alice's script: up to 3,000 attempts, or 30 seconds.
			here := newStreamOpener(t, "")
			statuses := map[int]int{}
			deadline := time.Now().Add(30 * time.Second)
			attempts := 0
			for ; attempts < 3000 && time.Now().Before(deadline); attempts++ {
				status, retryAfter, body := here.try(alice)
				statuses[status]++
				if status != http.StatusOK && (status != http.StatusTooManyRequests || retryAfter == "" || !strings.Contains(body, "open in too many tabs")) {
					t.Fatalf("attempt %d: %d, Retry-After %q:\n%.400s", attempts, status, retryAfter, body)
				}
			}
			if statuses[http.StatusOK] != 6 || statuses[http.StatusTooManyRequests] != attempts-6 || attempts < 100 {
				t.Errorf("%d attempts: %v, want 6 streams and the rest refused", attempts, statuses)
			}
			if n := env.App.Web.OpenLiveStreams(); n != 6 {
				t.Errorf("%d streams open, want 6", n)
			}

			// Bob, from the same address: two more, then the address is full.
			for i, want := range []int{http.StatusOK, http.StatusOK, http.StatusTooManyRequests} {
				if status, retryAfter, body := here.try(bob); status != want || (want != http.StatusOK && (retryAfter == "" || !strings.Contains(body, "from your network"))) {
					t.Errorf("bob's stream %d: %d (Retry-After %q), want %d", i+1, status, retryAfter, want)
				}
			}

			// Carol, from another address: two more, then the process is full.
			there := newStreamOpener(t, "127.0.0.2")
			for i, want := range []int{http.StatusOK, http.StatusOK, http.StatusServiceUnavailable} {
				if status, retryAfter, body := there.try(carol); status != want || (want != http.StatusOK && (retryAfter == "" || !strings.Contains(body, "Live updates are busy"))) {
					t.Errorf("carol's stream %d: %d (Retry-After %q), want %d", i+1, status, retryAfter, want)
				}
			}
			if n := env.App.Web.OpenLiveStreams(); n != 10 {
				t.Errorf("%d streams open, want 10", n)
			}

			// A stream that ends makes room.
			here.closeOne()
			waitUntil(t, "a closed stream to be counted out", func() bool { return env.App.Web.OpenLiveStreams() == 9 })
			if status, _, _ := there.try(carol); status != http.StatusOK {
				t.Errorf("after a stream closed: %d", status)
			}
		})
	}
}
