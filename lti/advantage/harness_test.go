package advantage_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/roundtable-lms/roundtable/lti"
	"github.com/roundtable-lms/roundtable/lti/advantage"
	"github.com/roundtable-lms/roundtable/lti/ltiplatform"
)

const (
	clientID = "roundtable"
	courseID = "c-1"
	linkID   = "rl-1"
)

var (
	keyOnce sync.Once
	rsaKey  *rsa.PrivateKey
)

// toolKey is one RSA key for every test: generating keys is slow.
func toolKey(t testing.TB) jwk.Key {
	t.Helper()
	keyOnce.Do(func() {
		var err error
		if rsaKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	})
	k, err := jwk.FromRaw(rsaKey)
	if err != nil {
		t.Fatal(err)
	}
	_ = k.Set(jwk.KeyIDKey, "tool-key-1")
	_ = k.Set(jwk.AlgorithmKey, jwa.RS256)
	return k
}

// env is the built-in platform and the tool's side: its published JWKS and
// a client for the platform's services.
type env struct {
	p        *ltiplatform.Platform
	reg      lti.Registration
	client   *advantage.Client
	tokens   *advantage.TokenSource
	sent     *recorder
	learners []string
	clock    *clock // the platform's and the tool's
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// recorder is a RoundTripper that notes what the client sends and can
// slow down token requests.
type recorder struct {
	mu         sync.Mutex
	base       http.RoundTripper
	reqs       []sentRequest
	tokenDelay time.Duration
}

type sentRequest struct {
	Method, Path, ContentType, Accept string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.reqs = append(r.reqs, sentRequest{req.Method, req.URL.RequestURI(), req.Header.Get("Content-Type"), req.Header.Get("Accept")})
	delay := r.tokenDelay
	r.mu.Unlock()
	if delay > 0 && strings.HasSuffix(req.URL.Path, "/token") {
		time.Sleep(delay)
	}
	return r.base.RoundTrip(req)
}

func (r *recorder) sent() []sentRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]sentRequest(nil), r.reqs...)
}

func newEnv(t testing.TB) *env {
	t.Helper()
	key := toolKey(t)
	pub, err := key.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	set := jwk.NewSet()
	_ = set.AddKey(pub)
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(jwks.Close)

	srv := httptest.NewUnstartedServer(nil)
	clk := &clock{t: time.Now()}
	p, err := ltiplatform.New(ltiplatform.Config{Issuer: "http://" + srv.Listener.Addr().String(), Now: clk.Now, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = p.Handler()
	srv.Start()
	t.Cleanup(srv.Close)

	must(t, p.AddTool(ltiplatform.Tool{ClientID: clientID, DeploymentID: "d-1", LoginURL: "https://tool.example/login",
		RedirectURIs: []string{"https://tool.example/launch"}, JWKSURL: jwks.URL, Name: "Roundtable"}))
	must(t, p.AddCourse(ltiplatform.Course{ID: courseID, Label: "BIO 1", Title: "Biology"}))
	must(t, p.AddUser(ltiplatform.User{ID: "teacher", Name: "Tess Teacher"}))
	must(t, p.Enroll(courseID, "teacher", "Instructor"))
	e := &env{p: p, clock: clk}
	for _, id := range []string{"amy", "bo", "cai", "dee", "eli", "fay"} {
		must(t, p.AddUser(ltiplatform.User{ID: id, Name: strings.ToUpper(id[:1]) + id[1:], Email: id + "@example.edu"}))
		must(t, p.Enroll(courseID, id, "Learner"))
		e.learners = append(e.learners, id)
	}
	must(t, p.AddResourceLink(ltiplatform.ResourceLink{ID: linkID, CourseID: courseID, Title: "Week 1 discussion"}))

	e.sent = &recorder{base: http.DefaultTransport}
	hc := &http.Client{Transport: e.sent, Timeout: 10 * time.Second}
	e.tokens = advantage.NewTokenSource(hc, func(context.Context, lti.Registration) (jwk.Key, error) { return key, nil })
	e.tokens.Now = clk.Now
	e.client = &advantage.Client{HTTP: hc, Tokens: e.tokens}
	e.reg = lti.Registration{ID: "reg-1", Issuer: p.Issuer(), ClientID: clientID, TokenURL: p.TokenURL(), JWKSURL: p.JWKSURL()}
	return e
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// requests counts the platform's recorded requests whose path starts with
// prefix, by status.
func (e *env) requests(prefix string) (n int, byStatus map[int]int) {
	byStatus = map[int]int{}
	for _, r := range e.p.ServiceRequests() {
		if strings.HasPrefix(r.Path, prefix) {
			n++
			byStatus[r.Status]++
		}
	}
	return n, byStatus
}

func (e *env) tokenRequests() int {
	n, _ := e.requests("/token")
	return n
}

// lineItem makes the link's gradebook column through the service.
func (e *env) lineItem(t testing.TB) advantage.LineItem {
	t.Helper()
	li, err := e.client.FindOrCreateLineItem(context.Background(), e.reg, e.p.LineItemsURL(courseID), advantage.LineItem{
		Label: "Week 1 discussion", ScoreMaximum: 10, ResourceID: "activity-1", ResourceLinkID: linkID, Tag: "participation"})
	if err != nil {
		t.Fatal(err)
	}
	return li
}

// platformID is the platform's short id of a line item URL.
func platformID(t testing.TB, url string) string {
	t.Helper()
	i := strings.LastIndex(url, "/")
	if i < 0 {
		t.Fatalf("line item URL %q", url)
	}
	return url[i+1:]
}

func score(user string, given float64, at time.Time) advantage.Score {
	return advantage.Score{UserID: user, ScoreGiven: &given, ScoreMaximum: 10, Comment: "thanks",
		ActivityProgress: advantage.ActivityCompleted, GradingProgress: advantage.GradingFullyGraded, Timestamp: at}
}
