package ltiplatform

import (
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// HostTimer is a RoundTripper that sums how long one host (the tool) took
// to answer, body included, so that a launch's time can be split between
// the tool and the platform. Share one among browsers with
// Browser.HTTPClient().Transport = timer.
type HostTimer struct {
	Next http.RoundTripper
	Host string

	nanos    atomic.Int64
	requests atomic.Int64
}

// RoundTrip implements http.RoundTripper.
func (t *HostTimer) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host != t.Host {
		return t.Next.RoundTrip(r)
	}
	start := time.Now()
	resp, err := t.Next.RoundTrip(r)
	t.requests.Add(1)
	if err == nil {
		resp.Body = &timedBody{ReadCloser: resp.Body, done: func() { t.nanos.Add(int64(time.Since(start))) }}
	}
	return resp, err
}

// Total is the time the host took, summed over its requests.
func (t *HostTimer) Total() time.Duration { return time.Duration(t.nanos.Load()) }

// Requests is how many requests went to the host.
func (t *HostTimer) Requests() int64 { return t.requests.Load() }

// Reset starts the sums again.
func (t *HostTimer) Reset() {
	t.nanos.Store(0)
	t.requests.Store(0)
}

type timedBody struct {
	io.ReadCloser
	once sync.Once
	done func()
}

func (b *timedBody) Close() error {
	b.once.Do(b.done)
	return b.ReadCloser.Close()
}
