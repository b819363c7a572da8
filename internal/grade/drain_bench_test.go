package grade_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable/internal/course"
	"github.com/roundtable-lms/roundtable/internal/grade"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
	"github.com/roundtable-lms/roundtable/internal/tenant"
	"github.com/roundtable-lms/roundtable/internal/toolkey"
	"github.com/roundtable-lms/roundtable/lti"
	"github.com/roundtable-lms/roundtable/lti/advantage"
	"github.com/roundtable-lms/roundtable/lti/ltiplatform"
)

// BenchmarkDrain10000 queues 10,000 scores (one per learner of a course)
// and measures how long Roundtable's delivery queue takes to send them all
// to the built-in LMS over HTTP (tokens, line item, one AGS score request
// each, one at a time against the LMS), on each database:
//
//	go test -run x -bench Drain -benchtime 1x ./grade
//
// It reports the drain time and the delivery rate.
func BenchmarkDrain10000(b *testing.B) {
	for _, kind := range storetest.Kinds {
		b.Run(string(kind), func(b *testing.B) {
			for range b.N {
				drain(b, kind, drainSize)
			}
		})
	}
}

func drain(b *testing.B, kind store.Dialect, n int) {
	b.StopTimer()
	ctx := context.Background()
	db := storetest.Open(b, kind)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	pln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	p, err := ltiplatform.New(ltiplatform.Config{Issuer: "http://" + pln.Addr().String(), Name: "Bench LMS", Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	psrv := &http.Server{Handler: p.Handler()}
	go psrv.Serve(pln)
	defer psrv.Close()

	keys, err := toolkey.New(db, []byte(killSecret))
	if err != nil {
		b.Fatal(err)
	}
	registry := tenant.NewRegistry(db)
	registry.Keys = keys
	var regID string // set before the platform first asks for the keys
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		set, err := keys.PublicSet(r.Context(), regID)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(set)
	}))
	defer jwks.Close()
	reg, err := registry.Add(ctx, tenant.Platform{Name: "Bench LMS", Issuer: p.Issuer(), ClientID: "client-d",
		AuthURL: p.AuthURL(), TokenURL: p.TokenURL(), JWKSURL: p.JWKSURL(), Deployments: []string{"d1"}})
	if err != nil {
		b.Fatal(err)
	}
	regID = reg.ID
	must(b, p.AddTool(ltiplatform.Tool{ClientID: "client-d", DeploymentID: "d1", Name: "Roundtable", LoginURL: jwks.URL + "/login",
		RedirectURIs: []string{jwks.URL + "/launch"}, TargetLinkURI: jwks.URL + "/launch", JWKSURL: jwks.URL}))
	must(b, p.AddCourse(ltiplatform.Course{ID: "c1", Label: "C1", Title: "Course one"}))
	must(b, p.AddResourceLink(ltiplatform.ResourceLink{ID: "l1", CourseID: "c1", Title: "Graded discussion"}))

	// One launch records the course and activity; the learners and their
	// failed scores are written in bulk, and Retry queues them all.
	courses := course.NewStore(db)
	var rec course.Recorded
	err = db.Tx(ctx, func(tx *gorm.DB) error {
		var err error
		rec, err = courses.RecordLaunch(ctx, tx, course.LaunchInput{OrgID: reg.OrgID, PlatformID: reg.ID, Issuer: reg.Issuer, DeploymentID: "d1", Subject: "teacher",
			ContextID: "c1", ResourceLinkID: "l1", LinkTitle: "Graded discussion", Roles: course.Roles{course.Instructor},
			AGSLineItems: p.LineItemsURL("c1"), AGSScopes: []string{lti.AGSScopeLineItem, lti.AGSScopeScore}})
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC()
	for start := 0; start < n; start += 500 {
		var users, scores []string
		var uargs, sargs []any
		for i := start; i < min(start+500, n); i++ {
			id := fmt.Sprintf("learner-%05d", i)
			must(b, p.AddUser(ltiplatform.User{ID: id, Name: id}))
			must(b, p.Enroll("c1", id, lti.RoleLearner))
			users = append(users, "(?, ?, ?, ?, ?, ?, ?, ?)")
			uargs = append(uargs, reg.OrgID, id, reg.Issuer, id, id, id, now, now)
			scores = append(scores, "(?, ?, ?, ?, 5, 10, 'InProgress', 'Pending', '', ?, 'failed', ?)")
			sargs = append(sargs, reg.ID, rec.Link.ID, id, rec.Course.ID, now, now)
		}
		if err := db.Exec(`INSERT INTO users (org_id, id, issuer, subject, name, pseudonym, created_at, updated_at) VALUES `+strings.Join(users, ", "), uargs...).Error; err != nil {
			b.Fatal(err)
		}
		if err := db.Exec(`INSERT INTO grade_scores (org_id, link_id, user_id, course_id, score_given, score_maximum, activity_progress,
			grading_progress, comment, scored_at, state, updated_at) VALUES `+strings.Join(scores, ", "), sargs...).Error; err != nil {
			b.Fatal(err)
		}
	}
	client := &http.Client{Timeout: 30 * time.Second}
	ags := &advantage.Client{HTTP: client, Tokens: advantage.NewTokenSource(client, func(ctx context.Context, reg lti.Registration) (jwk.Key, error) {
		return keys.Signing(ctx, reg.ID)
	})}
	svc, err := grade.New(db, ags, tenant.NewRegistry(db), grade.Config{}, quiet)
	if err != nil {
		b.Fatal(err)
	}
	queued, err := svc.Retry(ctx, grade.Filter{}, "")
	if err != nil || queued != n {
		b.Fatalf("queued %d of %d: %v", queued, n, err)
	}

	b.StartTimer()
	began := time.Now()
	if err := svc.Start(ctx); err != nil {
		b.Fatal(err)
	}
	deadline := began.Add(10 * time.Minute)
	for {
		counts, err := svc.StateCounts(ctx, grade.Filter{OrgID: reg.ID})
		if err != nil {
			b.Fatal(err)
		}
		if counts[grade.StateDelivered] == n {
			break
		}
		if counts[grade.StateFailed] > 0 || time.Now().After(deadline) {
			b.Fatalf("drain stopped: %v", counts)
		}
		time.Sleep(50 * time.Millisecond)
	}
	took := time.Since(began)
	b.StopTimer()
	stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	svc.Stop(stopCtx)
	cancel()
	if got := len(p.Scores(p.LineItems("c1")[0].ID)); got != n {
		b.Fatalf("the LMS holds %d scores, want %d", got, n)
	}
	b.ReportMetric(took.Seconds(), "s/drain")
	b.ReportMetric(float64(n)/took.Seconds(), "scores/s")
	b.ReportMetric(float64(p.MaxConcurrentRequests("client-d")), "max-parallel-calls")
}

// drainSize is how many scores BenchmarkDrain10000 queues.
var drainSize = envInt("DRAIN_SIZE", 10000)

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}
