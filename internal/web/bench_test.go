package web_test

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roundtable-lms/roundtable/internal/apptest"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
	"github.com/roundtable-lms/roundtable/lti/ltiplatform"
)

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
	timer := &ltiplatform.HostTimer{Next: &http.Transport{MaxIdleConnsPerHost: 64}, Host: toolHost}
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
	timer.Reset()
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
	b.ReportMetric(float64(timer.Total())/float64(b.N)/1e6, "tool-ms/launch")
}
