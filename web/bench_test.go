package web_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roundtable-lms/roundtable/apptest"
	"github.com/roundtable-lms/roundtable/lti/ltiplatform"
	"github.com/roundtable-lms/roundtable/store"
	"github.com/roundtable-lms/roundtable/store/storetest"
)

// toolTimer sums the time the tool took to answer, as seen by the browser,
// separating it from the platform's share of a launch.
type toolTimer struct {
	next     http.RoundTripper
	toolHost string
	nanos    atomic.Int64
	requests atomic.Int64
}

func (tt *toolTimer) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host != tt.toolHost {
		return tt.next.RoundTrip(r)
	}
	start := time.Now()
	resp, err := tt.next.RoundTrip(r)
	if err == nil {
		// Count the body too: the page is part of the answer.
		resp.Body = &timedBody{ReadCloser: resp.Body, done: func() { tt.nanos.Add(int64(time.Since(start))) }}
	}
	tt.requests.Add(1)
	return resp, err
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

// BenchmarkLaunch runs complete launches — login initiation, the
// platform's authorization, id_token verification, recording, session and
// the activity page — over real HTTP through the built-in platform, one at
// a time (serial: the server time of one launch) and many at once
// (parallel: throughput, as when a class opens an activity together).
// It reports launches per second and the tool's own time per launch.
func BenchmarkLaunch(b *testing.B) {
	for _, kind := range storetest.Kinds {
		for _, mode := range []struct {
			name        string
			parallelism int
		}{{"serial", 0}, {"parallel", 8}} {
			b.Run(string(kind)+"/"+mode.name, func(b *testing.B) {
				benchLaunch(b, kind, mode.parallelism)
			})
		}
	}
}

func benchLaunch(b *testing.B, kind store.Dialect, parallelism int) {
	env := apptest.Start(b, kind)
	users := apptest.SeedLearners(b, env, 200)
	toolHost := strings.TrimPrefix(env.App.BaseURL.String(), "http://")
	timer := &toolTimer{next: &http.Transport{MaxIdleConnsPerHost: 64}, toolHost: toolHost}
	var next atomic.Int64
	launch := func() {
		br := ltiplatform.NewBrowser()
		br.HTTPClient().Transport = timer
		user := users[int(next.Add(1))%len(users)]
		res, err := br.Launch(context.Background(), env.Platform, ltiplatform.LaunchRequest{
			ClientID: apptest.ClientID, UserID: user, CourseID: apptest.CourseID, ResourceLinkID: apptest.LinkID})
		if err != nil || res.StatusCode != 200 {
			b.Fatalf("launch: %v %v", err, res)
		}
	}
	// Every learner launches once first, as on a course's first day; the
	// measured launches are the returning ones that make up most traffic.
	for range users {
		launch()
	}
	timer.nanos.Store(0)
	b.ResetTimer()
	start := time.Now()
	if parallelism == 0 {
		for i := 0; i < b.N; i++ {
			launch()
		}
	} else {
		b.SetParallelism(parallelism)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				launch()
			}
		})
	}
	elapsed := time.Since(start)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "launches/s")
	b.ReportMetric(float64(timer.nanos.Load())/float64(b.N)/1e6, "tool-ms/launch")
}
