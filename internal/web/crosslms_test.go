package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwt"

	"github.com/roundtable-lms/roundtable/internal/apptest"
	"github.com/roundtable-lms/roundtable/internal/tenant"
	"github.com/roundtable-lms/roundtable/lti"
	"github.com/roundtable-lms/roundtable/lti/advantage"
	"github.com/roundtable-lms/roundtable/lti/ltiplatform"
)

// hostileLMS wraps a genuine platform with what a hostile LMS does: it
// answers a registration with a client id of its choosing (another LMS's),
// and keeps every client assertion Roundtable posts to its token endpoint.
type hostileLMS struct {
	p *ltiplatform.Platform

	mu         sync.Mutex
	claim      string // client id to answer the next registration with
	assertions []string
}

func (h *hostileLMS) claimClientID(id string) {
	h.mu.Lock()
	h.claim = id
	h.mu.Unlock()
}

func (h *hostileLMS) captured() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.assertions)
}

func (h *hostileLMS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/token":
		body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		if form, err := url.ParseQuery(string(body)); err == nil && form.Get("client_assertion") != "" {
			h.mu.Lock()
			h.assertions = append(h.assertions, form.Get("client_assertion"))
			h.mu.Unlock()
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	case r.Method == http.MethodPost && r.URL.Path == "/register":
		h.mu.Lock()
		claim := h.claim
		h.claim = ""
		h.mu.Unlock()
		if claim == "" {
			break
		}
		rec := httptest.NewRecorder()
		h.p.Handler().ServeHTTP(rec, r)
		var answer map[string]any
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &answer) != nil {
			http.Error(w, "registration failed: "+rec.Body.String(), http.StatusInternalServerError)
			return
		}
		// The platform made its own tool; it answers as the one it claims,
		// and launches as that one too when it does not hold it already.
		if made, err := h.p.Tool(answer["client_id"].(string)); err == nil {
			if _, err := h.p.Tool(claim); err != nil {
				made.ClientID = claim
				if err := h.p.AddTool(made); err != nil {
					http.Error(w, err.Error(), http.StatusInternalServerError)
					return
				}
			}
		}
		answer["client_id"] = claim
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(answer)
		return
	}
	h.p.Handler().ServeHTTP(w, r)
}

// startLMS runs a platform on its own loopback origin behind a hostileLMS
// wrapper (inert until told otherwise).
func startLMS(t *testing.T, cfg ltiplatform.Config) *hostileLMS {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Issuer = "http://" + ln.Addr().String()
	cfg.Logger = slog.New(slog.DiscardHandler)
	p, err := ltiplatform.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := &hostileLMS{p: p}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return h
}

// registerDynamically runs LTI Dynamic Registration of Roundtable with
// lms, as its admin page starts it.
func registerDynamically(t *testing.T, env *apptest.Env, lms *ltiplatform.Platform) registration {
	t.Helper()
	u, err := url.Parse(lms.RegistrationURL(env.App.URL("/lti/register")))
	if err != nil {
		t.Fatal(err)
	}
	return openRegistration(t, env, u.Query())
}

func platformByClient(t *testing.T, env *apptest.Env, issuer, clientID string) tenant.Platform {
	t.Helper()
	ps, err := env.App.Registry.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if p.Issuer == issuer && p.ClientID == clientID {
			return p
		}
	}
	t.Fatalf("no registration of %s with client id %s", issuer, clientID)
	return tenant.Platform{}
}

// seedCourse gives lms a course with one learner and a link to the tool.
func seedCourse(t *testing.T, lms *ltiplatform.Platform, clientID, course, link, user string) {
	t.Helper()
	must(t, lms.AddCourse(ltiplatform.Course{ID: course, Label: strings.ToUpper(course), Title: "Course " + course}))
	must(t, lms.AddUser(ltiplatform.User{ID: user, Name: "Person " + user, Email: user + "@example.edu"}))
	must(t, lms.Enroll(course, user, lti.RoleLearner))
	must(t, lms.AddResourceLink(ltiplatform.ResourceLink{ID: link, CourseID: course, Title: "Discussion", ClientID: clientID}))
}

// launchAndSyncRoster launches user through the link, then has Roundtable
// read the course roster from the LMS: a service token for the platform.
func launchAndSyncRoster(t *testing.T, env *apptest.Env, lms *ltiplatform.Platform, p tenant.Platform, course, link, user string) error {
	t.Helper()
	ctx := context.Background()
	res, err := ltiplatform.NewBrowser().Launch(ctx, lms, ltiplatform.LaunchRequest{ClientID: p.ClientID, UserID: user, CourseID: course, ResourceLinkID: link})
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("launch through %s: %v %+v", p.Name, err, res)
	}
	var linkID string
	must(t, env.DB.Raw(`SELECT id FROM resource_links WHERE org_id = ? AND resource_link_id = ?`, p.ID, link).Scan(&linkID).Error)
	_, err = env.App.Roster.SyncLink(ctx, p.ID, linkID)
	return err
}

// tokenRequest posts a client assertion to a token endpoint, as the
// holder of a captured assertion would.
func tokenRequest(t *testing.T, tokenURL, assertion string) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(tokenURL, url.Values{
		"grant_type": {advantage.GrantClientCredentials}, "client_assertion_type": {advantage.AssertionTypeJWTBearer},
		"client_assertion": {assertion}, "scope": {lti.NRPSScopeMembershipReadOnly},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

// A hostile LMS registers Roundtable claiming another LMS's client id, and
// names that LMS's token URL as its own token audience. Roundtable then
// fetches a service token for the hostile registration (a roster refresh)
// and posts its client assertion to the hostile token endpoint, which
// replays it at the victim's. The victim refuses it: the assertion is
// signed with the hostile registration's own key, which the victim never
// trusted, and is addressed first to the hostile token URL. Under the same
// issuer the claim itself is refused.
func TestAHostileLMSCannotReplayRoundtablesAssertionAtAnotherLMS(t *testing.T) {
	eachDBOpen(t, func(t *testing.T, env *apptest.Env) {
		ctx := context.Background()
		victim := startLMS(t, ltiplatform.Config{Name: "Victim LMS"})
		V := victim.p
		if reg := registerDynamically(t, env, V); reg.Outcome != "registered" {
			t.Fatalf("victim registration: %d %q %q", reg.Status, reg.Outcome, reg.Message)
		}
		ps, err := env.App.Registry.List(ctx)
		must(t, err)
		var rv tenant.Platform
		for _, p := range ps {
			if p.Issuer == V.Issuer() {
				rv = p
			}
		}
		// The victim holds the victim registration's own keyset URL.
		tool, err := V.Tool(rv.ClientID)
		if err != nil || tool.JWKSURL != env.App.Web.JWKSURL(rv.ID) {
			t.Fatalf("the victim verifies Roundtable with %q (%v), want %q", tool.JWKSURL, err, env.App.Web.JWKSURL(rv.ID))
		}
		seedCourse(t, V, rv.ClientID, "v-course", "v-link", "victoria")
		if err := launchAndSyncRoster(t, env, V, rv, "v-course", "v-link", "victoria"); err != nil {
			t.Fatalf("the victim's own roster: %v", err)
		}

		// Same issuer: a second registration answering with the victim's
		// client id is refused, and leaves no registration and no key.
		platforms, keys := env.Count(t, "platforms"), env.Count(t, "registration_keys")
		victim.claimClientID(rv.ClientID)
		reg := registerDynamically(t, env, V)
		// (The page tells the LMS admin Roundtable cannot use the answer;
		// the operator's log and the console name the client id.)
		if reg.Outcome != "failed" || !strings.Contains(reg.Message, "Roundtable cannot use what it returned") {
			t.Errorf("a second registration of the issuer with the victim's client id: %d %q %q", reg.Status, reg.Outcome, reg.Message)
		}
		if p, k := env.Count(t, "platforms"), env.Count(t, "registration_keys"); p != platforms || k != keys {
			t.Errorf("the refused registration left %d platforms and %d keys, want %d and %d", p, k, platforms, keys)
		}

		for _, family := range []string{"desire2learn", "moodle"} {
			t.Run(family, func(t *testing.T) {
				// Another issuer claims the victim's client id and names the
				// victim's token URL as its token audience. As Brightspace, it
				// gets that audience into the assertion (second).
				attacker := startLMS(t, ltiplatform.Config{Name: "Hostile " + family, ProductFamilyCode: family, TokenAudience: V.TokenURL()})
				A := attacker.p
				attacker.claimClientID(rv.ClientID)
				if reg := registerDynamically(t, env, A); reg.Outcome != "registered" {
					t.Fatalf("attacker registration: %d %q %q", reg.Status, reg.Outcome, reg.Message)
				}
				ra := platformByClient(t, env, A.Issuer(), rv.ClientID)
				if ra.ID == rv.ID || ra.TokenAudience != V.TokenURL() {
					t.Fatalf("attacker registration %+v", ra)
				}
				seedCourse(t, A, rv.ClientID, "a-course", "a-link", "mallory")
				// The roster refresh asks the attacker for a token; whether the
				// attacker answers does not matter, it has the assertion.
				_ = launchAndSyncRoster(t, env, A, ra, "a-course", "a-link", "mallory")
				caught := attacker.captured()
				if len(caught) == 0 {
					t.Fatal("Roundtable never asked the attacker for a token")
				}
				assertion := caught[len(caught)-1]
				claims, err := jwt.Parse([]byte(assertion), jwt.WithVerify(false), jwt.WithValidate(false))
				must(t, err)
				aud := claims.Audience()
				if len(aud) == 0 || aud[0] != A.TokenURL() {
					t.Errorf("the assertion's aud %q is not addressed to the token URL it was posted to", aud)
				}
				if family == "desire2learn" && !slices.Equal(aud, []string{A.TokenURL(), V.TokenURL()}) {
					t.Errorf("Brightspace aud %q, want the token URL then the declared audience", aud)
				}
				if family == "moodle" && len(aud) != 1 {
					t.Errorf("aud %q, want the token URL alone", aud)
				}
				if claims.Issuer() != rv.ClientID {
					t.Fatalf("assertion iss %q", claims.Issuer())
				}

				// The replay at the victim is refused.
				status, body := tokenRequest(t, V.TokenURL(), assertion)
				if status != http.StatusUnauthorized || body["error"] != "invalid_client" || body["access_token"] != nil {
					t.Errorf("replay at the victim: %d %v, want 401 invalid_client", status, body)
				}
				if family == "desire2learn" {
					// aud names the victim too, so the key alone stops it: the
					// attacker registration's key is not in the victim's JWKS.
					if desc, _ := body["error_description"].(string); !strings.Contains(desc, "no key") {
						t.Errorf("refused for %q, want the unknown key", desc)
					}
				}

				// Before keys were per registration, the same claims carried
				// the key every LMS trusted: signed with the victim
				// registration's key, the victim accepts them. What stops the
				// replay is the key.
				forged := jwt.New()
				for _, kv := range [][2]any{{jwt.IssuerKey, claims.Issuer()}, {jwt.SubjectKey, claims.Subject()}, {jwt.AudienceKey, aud},
					{jwt.IssuedAtKey, time.Now()}, {jwt.ExpirationKey, time.Now().Add(5 * time.Minute)}, {jwt.JwtIDKey, lti.RandomToken(12)}} {
					must(t, forged.Set(kv[0].(string), kv[1]))
				}
				key, err := env.App.Keys.Signing(ctx, rv.ID)
				must(t, err)
				signed, err := jwt.Sign(forged, jwt.WithKey(jwa.RS256, key))
				must(t, err)
				if family == "desire2learn" {
					if status, body := tokenRequest(t, V.TokenURL(), string(signed)); status != http.StatusOK {
						t.Errorf("the same claims with the victim registration's key: %d %v, want a token", status, body)
					}
				}

				// The victim's own registration keeps working.
				if err := launchAndSyncRoster(t, env, V, rv, "v-course", "v-link", "victoria"); err != nil {
					t.Errorf("the victim's roster after the attack: %v", err)
				}
			})
		}
	})
}
