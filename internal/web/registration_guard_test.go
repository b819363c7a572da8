package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/roundtable-lms/roundtable/internal/apptest"
	"github.com/roundtable-lms/roundtable/internal/config"
	"github.com/roundtable-lms/roundtable/internal/egress"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
	"github.com/roundtable-lms/roundtable/internal/tenant"
	"github.com/roundtable-lms/roundtable/lti"
)

// internalSecret is what the stand-in for a service on the server's
// private side answers; it must never reach a page.
const internalSecret = "INTERNAL-SECRET-7f3a"

// internalService stands in for a service on the private side of the
// Roundtable server (an admin API, a cloud metadata endpoint), listening
// on addr; it counts the requests that reach it. It refuses them with its
// secret in the reason, which a page showing the LMS's answer would show.
func internalService(t *testing.T, addr string) (base string, hits *atomic.Int32) {
	t.Helper()
	hits = &atomic.Int32{}
	return serveOn(t, addr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `{"error": "forbidden", "error_description": "`+internalSecret+`"}`)
	})), hits
}

// serveOn serves h on a loopback address of the test's choosing.
func serveOn(t *testing.T, addr string, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s: %v", addr, err)
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: h}}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL
}

// lmsConfiguration is a valid OpenID configuration of an LMS at base,
// with its registration endpoint at register.
func lmsConfiguration(base, register string) map[string]any {
	return map[string]any{
		"issuer": base, "authorization_endpoint": base + "/auth", "registration_endpoint": register,
		"jwks_uri": base + "/jwks", "token_endpoint": base + "/token",
		"scopes_supported": []string{"openid", lti.AGSScopeScore}, "id_token_signing_alg_values_supported": []string{"RS256"},
		lti.ClaimPlatformConfiguration: map[string]any{"product_family_code": "moodle", "version": "4.4",
			"messages_supported": []any{map[string]any{"type": lti.MessageResourceLink}}},
	}
}

func allowing(t *testing.T, list string) func(*config.Config) {
	a, err := egress.ParseAllowlist(list)
	if err != nil {
		t.Fatal(err)
	}
	return func(c *config.Config) { c.AllowPrivateNetworks, c.Registration = a, config.RegistrationOpen }
}

// mustNotLeak checks a refused registration: Roundtable's words, nothing
// from the internal service on the page or in the console, and a failure
// the console lists under the page's reference.
func mustNotLeak(t *testing.T, env *apptest.Env, reg registration, reason lti.Reason, inMessage string) {
	t.Helper()
	mustFail(t, env, reg, http.StatusBadGateway, inMessage)
	if html, _ := reg.Doc.Html(); strings.Contains(html, internalSecret) {
		t.Fatal("the internal service's answer is on the page")
	}
	var f tenant.RegistrationFailure
	if err := env.DB.Where("reference = ?", text(reg.Doc, "[data-testid=error-ref]")).Take(&f).Error; err != nil {
		t.Fatalf("no failure recorded under the page's reference: %v", err)
	}
	if f.Reason != string(reason) || strings.Contains(f.AnswerBody+f.AnswerSaid+f.Detail, internalSecret) {
		t.Errorf("recorded %+v", f)
	}
}

// Whoever opens /lti/register chooses the addresses Roundtable fetches
// and posts to. None of them reaches a service on the server's private
// side: not by address, not by a name that resolves to loopback, not by a
// redirect, not as the registration endpoint.
func TestRegistrationCannotReachPrivateAddresses(t *testing.T) {
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			// The operator allowed one address, where an LMS runs; the
			// rest of loopback is the private side.
			env := apptest.StartWith(t, kind, allowing(t, "127.0.0.2"))
			secret, hits := internalService(t, "127.0.0.1:0")
			port := secret[strings.LastIndex(secret, ":")+1:]
			open := func(configURL string) registration {
				return openRegistration(t, env, url.Values{"openid_configuration": {configURL}, "registration_token": {"tok"}})
			}

			mustNotLeak(t, env, open(secret+"/.well-known/openid-configuration"), lti.ReasonRegistrationForbidden, "private or local networks")
			mustNotLeak(t, env, open("http://localhost:"+port+"/latest/meta-data/"), lti.ReasonRegistrationForbidden, "private or local networks")

			// An allowed LMS that redirects its configuration, or its
			// registration, to the private side.
			var lms string
			mux := http.NewServeMux()
			mux.Handle("GET /redirected", http.RedirectHandler(secret+"/admin", http.StatusFound))
			mux.HandleFunc("GET /elsewhere", func(w http.ResponseWriter, r *http.Request) {
				json.NewEncoder(w).Encode(lmsConfiguration(lms, secret+"/register"))
			})
			mux.HandleFunc("GET /posts-redirected", func(w http.ResponseWriter, r *http.Request) {
				json.NewEncoder(w).Encode(lmsConfiguration(lms, lms+"/register"))
			})
			mux.Handle("POST /register", http.RedirectHandler(secret+"/register", http.StatusTemporaryRedirect))
			lms = serveOn(t, "127.0.0.2:0", mux)

			mustNotLeak(t, env, open(lms+"/redirected"), lti.ReasonRegistrationForbidden, "private or local networks")
			mustNotLeak(t, env, open(lms+"/elsewhere"), lti.ReasonRegistrationElsewhere, "another site")
			mustNotLeak(t, env, open(lms+"/posts-redirected"), lti.ReasonRegistrationRefused, "redirect that Roundtable does not follow")

			if n := hits.Load(); n != 0 {
				t.Fatalf("the internal service was reached %d times", n)
			}
			c := newAdmin(t, env)
			c.get("/admin/registrations")
			if n := c.page.Find("[data-testid=registration-failure]").Length(); n != 5 {
				t.Errorf("the console lists %d failed registrations, want 5", n)
			}

			// A key set URL typed in the console is no way in either.
			c.get("/admin/platforms/new")
			c.post("/admin/platforms/new", url.Values{"name": {"Inside"}, "issuer": {"https://lms.example.edu"}, "client_id": {"c"},
				"auth_url": {"https://lms.example.edu/auth"}, "jwks_url": {secret + "/jwks"}, "deployments": {"1"}})
			if msg := text(c.page, "#f-jwks_url-error"); !strings.Contains(msg, "loopback address") || strings.Contains(msg, internalSecret) {
				t.Errorf("key set check: %q", msg)
			}
			if n := hits.Load(); n != 0 {
				t.Fatalf("the console's key set check reached the internal service %d times", n)
			}
		})
	}
}

// A registered platform whose key set or token URL leads to the private
// side gets nothing from it: the launch and the roster fail, the service
// sees no request and no bearer token.
func TestPlatformURLsCannotReachPrivateAddresses(t *testing.T) {
	eachDBWith(t, allowing(t, "127.0.0.1"), func(t *testing.T, env *apptest.Env) {
		ctx := context.Background()
		secret, hits := internalService(t, "127.0.0.2:0")
		setURL := func(column, u string) {
			if err := env.DB.Exec("UPDATE platforms SET "+column+" = ? WHERE id = ?", u, env.Registered.ID).Error; err != nil {
				t.Fatal(err)
			}
		}

		setURL("token_url", secret+"/token")
		if _, res := env.Launch(t, apptest.Learner, nil); res.StatusCode != http.StatusOK {
			t.Fatalf("launch: %d", res.StatusCode)
		}
		var linkID string
		if err := env.DB.Raw("SELECT id FROM resource_links WHERE org_id = ? AND resource_link_id = ?", env.Registered.ID, apptest.LinkID).Scan(&linkID).Error; err != nil {
			t.Fatal(err)
		}
		if _, err := env.App.Roster.SyncLink(ctx, env.Registered.ID, linkID); err == nil {
			t.Fatal("the roster was read with a token from the private side")
		} else if _, ok := egress.Refused(err); !ok {
			t.Errorf("roster error %v, want a refused address", err)
		}

		setURL("jwks_url", secret+"/jwks")
		_, res := env.Launch(t, apptest.Learner2, nil)
		if res.StatusCode == http.StatusOK || strings.Contains(res.Body, internalSecret) {
			t.Fatalf("launch with keys from the private side: %d\n%.400s", res.StatusCode, res.Body)
		}
		if n := hits.Load(); n != 0 {
			t.Fatalf("the internal service was reached %d times", n)
		}
	})
}

func TestRegisterFloodAnswered429(t *testing.T) {
	env := apptest.Start(t, storetest.Kinds[0])
	var limited *http.Response
	for i := 0; i < 20 && limited == nil; i++ {
		resp, err := http.Get(env.App.URL("/lti/register"))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusBadRequest:
		case http.StatusTooManyRequests:
			limited = resp
			d := doc(t, string(body))
			if v, _ := d.Find("[data-testid=register]").Attr("data-outcome"); v != "limited" ||
				!strings.Contains(text(d, "[data-testid=register-message]"), "Wait a few seconds") {
				t.Errorf("429 page: %q", text(d, "main"))
			}
		default:
			t.Fatalf("request %d: %d", i, resp.StatusCode)
		}
	}
	if limited == nil {
		t.Fatal("20 registration attempts in a row from one address were all answered")
	}
	if s, err := strconv.Atoi(limited.Header.Get("Retry-After")); err != nil || s <= 0 {
		t.Errorf("Retry-After %q", limited.Header.Get("Retry-After"))
	}
	// Other pages are not limited with it.
	if resp, err := http.Get(env.App.URL("/.well-known/jwks.json")); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("the keyset after the flood: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
}

func TestRegistrationsPerHourCapped(t *testing.T) {
	eachDBWith(t, func(c *config.Config) { c.Registration, c.RegistrationsPerHour = config.RegistrationOpen, 1 }, func(t *testing.T, env *apptest.Env) {
		if reg := registerWithPlatform(t, env); reg.Outcome != "registered" {
			t.Fatalf("first registration: %d %q", reg.Status, reg.Message)
		}
		tools := len(env.Platform.Tools())
		reg := registerWithPlatform(t, env)
		if reg.Status != http.StatusTooManyRequests || reg.Outcome != "limited" || !strings.Contains(reg.Message, "Try again in about") {
			t.Fatalf("second registration in the hour: %d %q %q", reg.Status, reg.Outcome, reg.Message)
		}
		if s, err := strconv.Atoi(reg.Header.Get("Retry-After")); err != nil || s < 60 || s > 3600 {
			t.Errorf("Retry-After %q", reg.Header.Get("Retry-After"))
		}
		if n := env.Count(t, "platforms"); n != 2 {
			t.Errorf("%d platforms, want the seeded one and the first registration", n)
		}
		if len(env.Platform.Tools()) != tools {
			t.Error("the LMS was asked to register Roundtable beyond the cap")
		}
	})
}

// What an LMS really grants shows in its token answers, and the console
// tells it apart from what the LMS announced at registration.
func TestGrantedScopesLearnedFromTokens(t *testing.T) {
	eachDBOpen(t, func(t *testing.T, env *apptest.Env) {
		ctx := context.Background()
		if reg := registerWithPlatform(t, env); reg.Outcome != "registered" || text(reg.Doc, "dt:nth-of-type(4)") != "Services requested" {
			t.Fatalf("registration: %q %q", reg.Outcome, text(reg.Doc, "dt:nth-of-type(4)"))
		}
		p := dynamicPlatform(t, env)
		if p.GrantedScopes != "" {
			t.Fatalf("granted %q before any token", p.GrantedScopes)
		}
		res := launchLink(t, env, p.ClientID, apptest.Instructor)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("launch: %d", res.StatusCode)
		}
		var linkID string
		if err := env.DB.Raw("SELECT id FROM resource_links WHERE org_id = ?", p.ID).Scan(&linkID).Error; err != nil || linkID == "" {
			t.Fatalf("link %q %v", linkID, err)
		}
		if _, err := env.App.Roster.SyncLink(ctx, p.ID, linkID); err != nil {
			t.Fatal(err)
		}
		if p = dynamicPlatform(t, env); p.GrantedScopes != lti.NRPSScopeMembershipReadOnly || p.ScopesGrantedAt == nil {
			t.Fatalf("granted %q at %v", p.GrantedScopes, p.ScopesGrantedAt)
		}
		c := newAdmin(t, env)
		c.get("/admin/platforms/" + p.ID)
		if got := text(c.page, "[data-testid=granted-scopes]"); !strings.HasPrefix(got, lti.NRPSScopeMembershipReadOnly) {
			t.Errorf("console granted scopes %q", got)
		}
		if got := text(c.page, "[data-testid=announced-scopes]"); !strings.Contains(got, lti.AGSScopeScore) || strings.Contains(got, "openid") {
			t.Errorf("console announced scopes %q", got)
		}
	})
}
