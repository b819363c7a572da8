package ltiplatform_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"

	"github.com/roundtable-lms/roundtable/lti"
	"github.com/roundtable-lms/roundtable/lti/ltiplatform"
)

// env is a platform and a fake tool, each on its own loopback server.
type env struct {
	p        *ltiplatform.Platform
	platform *httptest.Server
	tool     *fakeTool
	clock    *clock
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

const (
	clientID     = "roundtable-client"
	deploymentID = "dep-1"
)

// newEnv boots a platform seeded with a course, three people, two
// activities and the fake tool.
func newEnv(t testing.TB) *env {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	clk := &clock{t: time.Now()}
	p, err := ltiplatform.New(ltiplatform.Config{
		Issuer: "http://" + srv.Listener.Addr().String(),
		Name:   "Demo LMS",
		Now:    clk.Now,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = p.Handler()
	srv.Start()
	t.Cleanup(srv.Close)

	tool := newFakeTool(t, p)
	must(t, p.AddTool(ltiplatform.Tool{
		ClientID:     clientID,
		DeploymentID: deploymentID,
		LoginURL:     tool.URL("/lti/login"),
		RedirectURIs: []string{tool.URL("/lti/launch")},
		JWKSURL:      tool.URL("/lti/jwks"),
		Name:         "Fake tool",
	}))
	must(t, p.AddUser(ltiplatform.User{ID: "u-ana", Name: "Ana Lima", GivenName: "Ana", FamilyName: "Lima",
		Email: "ana@example.edu", Picture: "https://example.edu/ana.png", Locale: "pt-BR"}))
	must(t, p.AddUser(ltiplatform.User{ID: "u-ben", Name: "Ben Okafor", Email: "ben@example.edu"}))
	must(t, p.AddUser(ltiplatform.User{ID: "u-cy", Name: "Cy Noroles"}))
	must(t, p.AddCourse(ltiplatform.Course{ID: "c-101", Label: "HIST 101", Title: "World History"}))
	must(t, p.Enroll("c-101", "u-ana", "Instructor"))
	must(t, p.Enroll("c-101", "u-ben", lti.RoleLearner, "Mentor"))
	must(t, p.Enroll("c-101", "u-cy"))
	must(t, p.AddResourceLink(ltiplatform.ResourceLink{
		ID: "rl-1", CourseID: "c-101", Title: "Week 1 discussion", Description: "Sources",
		Custom: map[string]string{"uid": "$User.id", "cid": "$Context.id", "rid": "$ResourceLink.id",
			"unknown": "$Canvas.course.id", "plain": "hello"},
	}))
	must(t, p.AddResourceLink(ltiplatform.ResourceLink{ID: "rl-2", CourseID: "c-101", Title: "Week 2"}))
	return &env{p: p, platform: srv, tool: tool, clock: clk}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (e *env) launch(user, link string) ltiplatform.LaunchRequest {
	return ltiplatform.LaunchRequest{ClientID: clientID, UserID: user, CourseID: "c-101", ResourceLinkID: link}
}

// fakeTool is the smallest honest LTI tool: it starts the OIDC login with a
// state cookie and a nonce, and validates the launch strictly.
type fakeTool struct {
	p   *ltiplatform.Platform
	srv *httptest.Server

	mu       sync.Mutex
	nonces   map[string]string // state -> nonce
	launches []map[string]any
	// authParams mutates the authorization request before redirecting.
	authParams func(url.Values)
}

func newFakeTool(t testing.TB, p *ltiplatform.Platform) *fakeTool {
	ft := &fakeTool{p: p, nonces: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/lti/login", ft.login)
	mux.HandleFunc("POST /lti/launch", ft.launch)
	ft.srv = httptest.NewServer(mux)
	t.Cleanup(ft.srv.Close)
	return ft
}

func (ft *fakeTool) URL(path string) string { return ft.srv.URL + path }

func (ft *fakeTool) lastLaunch() map[string]any {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	if len(ft.launches) == 0 {
		return nil
	}
	return ft.launches[len(ft.launches)-1]
}

func (ft *fakeTool) login(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("iss") != ft.p.Issuer() || q.Get("login_hint") == "" || q.Get("client_id") != clientID ||
		!strings.HasPrefix(q.Get("target_link_uri"), ft.srv.URL+"/") {
		http.Error(w, "bad login initiation", http.StatusBadRequest)
		return
	}
	state, nonce := randText(), randText()
	ft.mu.Lock()
	ft.nonces[state] = nonce
	mutate := ft.authParams
	ft.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: "tool_state", Value: state, Path: "/lti/",
		Secure: true, HttpOnly: true, SameSite: http.SameSiteNoneMode})
	v := url.Values{
		"scope": {"openid"}, "response_type": {"id_token"}, "response_mode": {"form_post"},
		"prompt": {"none"}, "client_id": {clientID}, "redirect_uri": {ft.URL("/lti/launch")},
		"login_hint": {q.Get("login_hint")}, "lti_message_hint": {q.Get("lti_message_hint")},
		"state": {state}, "nonce": {nonce},
	}
	if mutate != nil {
		mutate(v)
	}
	http.Redirect(w, r, ft.p.AuthURL()+"?"+v.Encode(), http.StatusFound)
}

func (ft *fakeTool) launch(w http.ResponseWriter, r *http.Request) {
	if e := r.FormValue("error"); e != "" {
		http.Error(w, "platform error: "+e+": "+r.FormValue("error_description"), http.StatusBadRequest)
		return
	}
	c, err := r.Cookie("tool_state")
	if err != nil || c.Value != r.FormValue("state") {
		http.Error(w, "state mismatch", http.StatusForbidden)
		return
	}
	ft.mu.Lock()
	nonce, ok := ft.nonces[c.Value]
	delete(ft.nonces, c.Value)
	ft.mu.Unlock()
	if !ok {
		http.Error(w, "unknown state", http.StatusForbidden)
		return
	}
	token := r.FormValue("id_token")
	if err := jwxVerify(r.Context(), ft.p.JWKSURL(), token, ft.p.Issuer(), clientID, time.Now()); err != nil {
		http.Error(w, "invalid id_token (jwx): "+err.Error(), http.StatusForbidden)
		return
	}
	claims, err := verifyIDToken(r.Context(), ft.p.JWKSURL(), token, ft.p.Issuer(), clientID, time.Now())
	if err != nil {
		http.Error(w, "invalid id_token: "+err.Error(), http.StatusForbidden)
		return
	}
	if claims["nonce"] != nonce {
		http.Error(w, "nonce mismatch", http.StatusForbidden)
		return
	}
	ft.mu.Lock()
	ft.launches = append(ft.launches, claims)
	ft.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, "<p>Hello %v, storage %q</p>", claims["sub"], r.FormValue("lti_storage_target"))
}

func randText() string { return rand.Text() }

// jwxVerify checks a token with jwx, as the tool side does: keys from the
// JWKS by kid, the algorithm the key declares, iss, aud, exp and iat.
func jwxVerify(ctx context.Context, jwksURL, token, issuer, aud string, now time.Time) error {
	set, err := jwk.Fetch(ctx, jwksURL)
	if err != nil {
		return err
	}
	_, err = jwt.Parse([]byte(token),
		jwt.WithKeySet(set, jws.WithRequireKid(true), jws.WithInferAlgorithmFromKey(false)),
		jwt.WithValidate(true), jwt.WithIssuer(issuer), jwt.WithAudience(aud),
		jwt.WithRequiredClaim("exp"), jwt.WithRequiredClaim("iat"),
		jwt.WithAcceptableSkew(time.Minute), jwt.WithClock(jwt.ClockFunc(func() time.Time { return now })))
	return err
}

// verifyIDToken is a strict RS256 id_token verifier, written from the JOSE
// specs with the standard library so it shares no code with the signer.
func verifyIDToken(ctx context.Context, jwksURL, token, issuer, aud string, now time.Time) (map[string]any, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, errors.New("not a compact JWS")
	}
	var header struct {
		Alg string `json:"alg"`
		KID string `json:"kid"`
	}
	if err := decodeSegment(parts[0], &header); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	if header.Alg != "RS256" {
		return nil, fmt.Errorf("algorithm %q refused", header.Alg)
	}
	if header.KID == "" {
		return nil, errors.New("no kid")
	}
	pub, err := fetchKey(ctx, jwksURL, header.KID)
	if err != nil {
		return nil, err
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, fmt.Errorf("signature encoding: %w", err)
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig); err != nil {
		return nil, fmt.Errorf("bad signature: %w", err)
	}
	var claims map[string]any
	if err := decodeSegment(parts[1], &claims); err != nil {
		return nil, fmt.Errorf("claims: %w", err)
	}
	if claims["iss"] != issuer {
		return nil, fmt.Errorf("iss %v", claims["iss"])
	}
	switch a := claims["aud"].(type) {
	case string:
		if a != aud {
			return nil, fmt.Errorf("aud %q", a)
		}
	case []any:
		if !slices.Contains(a, any(aud)) || (len(a) > 1 && claims["azp"] != aud) {
			return nil, fmt.Errorf("aud %v azp %v", a, claims["azp"])
		}
	default:
		return nil, errors.New("no aud")
	}
	exp, okE := claims["exp"].(float64)
	iat, okI := claims["iat"].(float64)
	const leeway = 60
	if !okE || !okI || float64(now.Unix()) > exp+leeway || iat > float64(now.Unix())+leeway {
		return nil, errors.New("bad timestamps")
	}
	return claims, nil
}

func decodeSegment(s string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func fetchKey(ctx context.Context, jwksURL, kid string) (*rsa.PublicKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, jwksURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var set struct {
		Keys []ltiplatform.JWK `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	for _, k := range set.Keys {
		if k.KID != kid {
			continue
		}
		if k.KTY != "RSA" || (k.Alg != "" && k.Alg != "RS256") {
			return nil, fmt.Errorf("key %q is not an RS256 key", kid)
		}
		n, err1 := base64.RawURLEncoding.DecodeString(k.N)
		e, err2 := base64.RawURLEncoding.DecodeString(k.E)
		if err := errors.Join(err1, err2); err != nil {
			return nil, err
		}
		return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}, nil
	}
	return nil, fmt.Errorf("unknown kid %q", kid)
}
