package web_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/roundtable-lms/roundtable/internal/apptest"
	"github.com/roundtable-lms/roundtable/internal/config"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
	"github.com/roundtable-lms/roundtable/internal/tenant"
	"github.com/roundtable-lms/roundtable/lti"
)

// eachDBWith is eachDB with the tool's configuration edited first.
func eachDBWith(t *testing.T, edit func(*config.Config), fn func(t *testing.T, env *apptest.Env)) {
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			fn(t, apptest.StartWith(t, kind, edit))
		})
	}
}

// loginURL is a login initiation for the seeded platform, as anyone can
// send it; extra parameters replace the usual ones.
func loginURL(env *apptest.Env, extra url.Values) string {
	v := url.Values{"iss": {env.Platform.Issuer()}, "login_hint": {"someone"}, "target_link_uri": {env.App.URL("/lti/launch")},
		"client_id": {apptest.ClientID}, "lti_deployment_id": {apptest.DeploymentID}}
	for k, vs := range extra {
		v[k] = vs
	}
	return env.App.URL("/lti/login?" + v.Encode())
}

// flood sends n login initiations, each claiming to be forwarded for
// another address, and returns how many were answered with each status.
// It stops at n requests or ten seconds.
func flood(t *testing.T, env *apptest.Env, n int) map[int]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got := map[int]int{}
	for i := range n {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, loginURL(env, nil), nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i%250+1))
		req.Header.Set("Accept", "text/html")
		res, err := rawClient.Do(req)
		if err != nil {
			t.Fatalf("login %d: %v", i, err)
		}
		if res.StatusCode == http.StatusTooManyRequests || res.StatusCode == http.StatusServiceUnavailable {
			if ra := res.Header.Get("Retry-After"); ra == "" {
				t.Errorf("%d without Retry-After", res.StatusCode)
			}
			d := doc(t, readAll(t, res))
			if h := text(d, "h1"); h == "" {
				t.Errorf("%d page has no heading", res.StatusCode)
			}
		} else {
			res.Body.Close()
		}
		got[res.StatusCode]++
	}
	return got
}

func readAll(t *testing.T, res *http.Response) string {
	t.Helper()
	defer res.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := res.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}

// One client starting logins as fast as it can gets its minute's budget,
// then 429 pages: what it stored is bounded by the budget. Naming other
// addresses in X-Forwarded-For changes nothing when no proxy is trusted.
func TestLoginFloodFromOneAddressIsLimited(t *testing.T) {
	eachDBWith(t, func(c *config.Config) { c.LoginRate = 20 }, func(t *testing.T, env *apptest.Env) {
		before := rowCounts(t, env)
		got := flood(t, env, 60)
		if got[http.StatusFound] != 20 || got[http.StatusTooManyRequests] != 40 {
			t.Fatalf("answers %v, want 20 redirects to the LMS and then 429", got)
		}
		sameRows(t, before, rowCounts(t, env))
		// Another address (here, the LMS's own test browser on the same
		// loopback) is limited with it: a real launch waits too.
		_, res := env.Launch(t, apptest.Learner, nil)
		if res.StatusCode != http.StatusTooManyRequests || !strings.Contains(res.Body, "Too many sign-ins") {
			t.Errorf("launch during the flood: %d\n%.300s", res.StatusCode, res.Body)
		}
	})
}

// Behind a trusted proxy each client counts alone, so a flood spread over
// many addresses is answered in full: and writes nothing, as a login's
// state travels with the login (sealed) instead of waiting in the
// database. The people it comes between still sign in.
func TestLoginFloodWritesNothing(t *testing.T) {
	eachDBWith(t, func(c *config.Config) {
		c.LoginRate = 2
		c.TrustedProxies = []*net.IPNet{{IP: net.IPv4(127, 0, 0, 1), Mask: net.CIDRMask(32, 32)}}
	}, func(t *testing.T, env *apptest.Env) {
		before := rowCounts(t, env)
		got := flood(t, env, 500)
		if got[http.StatusFound] != 500 {
			t.Fatalf("answers %v, want 500 redirects to the LMS", got)
		}
		sameRows(t, before, rowCounts(t, env))
		if _, res := env.Launch(t, apptest.Learner, nil); res.StatusCode != http.StatusOK {
			t.Errorf("launch after the flood: %d\n%.300s", res.StatusCode, res.Body)
		}
	})
}

// rowCounts counts the rows of every table.
func rowCounts(t *testing.T, env *apptest.Env) map[string]int64 {
	t.Helper()
	tables, err := env.DB.Migrator().GetTables()
	if err != nil || len(tables) < 10 {
		t.Fatalf("tables %v: %v", tables, err)
	}
	counts := map[string]int64{}
	for _, table := range tables {
		if strings.HasPrefix(table, "river_") {
			continue // the job queue's own bookkeeping
		}
		counts[table] = env.Count(t, table)
	}
	return counts
}

func sameRows(t *testing.T, before, after map[string]int64) {
	t.Helper()
	for table, n := range after {
		if n != before[table] {
			t.Errorf("%s: %d rows, %d before the logins", table, n, before[table])
		}
	}
}

// A refused login records its typed reason on the platform, with the
// request's own values escaped, cut short and labelled as the request's;
// a second refusal within the minute writes nothing, and one a minute
// later does.
func TestRefusedLoginRecordsATypedReasonOnceAMinute(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		ctx := context.Background()
		clock := &fakeClock{}
		clock.set(time.Now())
		env.App.Registry.Now = clock.now
		hostile := "Keys compromised!\n<script>alert(1)</script> Re-register at https://evil.example/\u202Enow "
		hostile += strings.Repeat("x", 500-utf8.RuneCountInString(hostile))
		res := send(t, rawClient, http.MethodGet, loginURL(env, url.Values{"lti_deployment_id": {hostile}}), nil)
		if res.StatusCode != http.StatusForbidden {
			t.Fatalf("login with an unknown deployment: %d", res.StatusCode)
		}
		p, err := env.App.Registry.Get(ctx, env.Registered.ID)
		if err != nil {
			t.Fatal(err)
		}
		if p.LastErrorReason != string(lti.ReasonUnknownDeployment) || strings.ContainsAny(p.LastError, "\n\u202E") ||
			!strings.HasPrefix(p.LastError, `deployment_id = "Keys compromised!\n<script>`) || !strings.HasSuffix(p.LastError, "(500 characters in all)") {
			t.Fatalf("recorded %q: %q", p.LastErrorReason, p.LastError)
		}
		first := *p.LastErrorAt

		c := newAdmin(t, env)
		c.get("/admin/platforms/" + env.Registered.ID)
		cell := c.page.Find("[data-testid=last-error]")
		if cell.Find("script").Length() != 0 {
			t.Fatal("the request's markup reached the console")
		}
		said := strings.TrimSpace(cell.Find("[data-testid=request-said]").Text())
		if !strings.HasPrefix(strings.Join(strings.Fields(cell.Text()), " "), "Reason: unknown deployment. The request said: deployment_id = ") ||
			!strings.HasPrefix(said, `The request said: deployment_id = "Keys compromised!\n<script>alert(1)</script> Re-register at https://evil.example/\u202enow xxx`) {
			t.Errorf("console shows %q", cell.Text())
		}
		if n := len([]rune(said)); n > 250 {
			t.Errorf("console shows %d characters of the request", n)
		}

		// Within the minute: logged, not written.
		clock.add(30 * time.Second)
		send(t, rawClient, http.MethodGet, loginURL(env, url.Values{"lti_deployment_id": {"second"}}), nil)
		if p, _ := env.App.Registry.Get(ctx, env.Registered.ID); !p.LastErrorAt.Equal(first) || strings.Contains(p.LastError, "second") {
			t.Errorf("a second refusal within the minute was written: %q at %v", p.LastError, p.LastErrorAt)
		}
		// A minute after the first: written.
		clock.add(31 * time.Second)
		send(t, rawClient, http.MethodGet, loginURL(env, url.Values{"lti_deployment_id": {"third"}}), nil)
		if p, _ := env.App.Registry.Get(ctx, env.Registered.ID); p.LastError != `deployment_id = "third"` || !p.LastErrorAt.After(first) {
			t.Errorf("a refusal a minute later: %q at %v", p.LastError, p.LastErrorAt)
		}
	})
}

// Refusals at login initiation show as the platform's last error whenever
// the platform is known: by issuer and client id, or by an issuer that has
// one registration.
func TestRefusedLoginInitiationIsThePlatformsLastError(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		ctx := context.Background()
		clock := &fakeClock{}
		clock.set(time.Now())
		env.App.Registry.Now = clock.now
		lastReason := func() string {
			t.Helper()
			p, err := env.App.Registry.Get(ctx, env.Registered.ID)
			if err != nil {
				t.Fatal(err)
			}
			return p.LastErrorReason
		}

		// A disabled platform, launched from the LMS.
		if err := env.App.Registry.SetStatus(ctx, env.Registered.ID, tenant.StatusDisabled); err != nil {
			t.Fatal(err)
		}
		if _, res := env.Launch(t, apptest.Learner, nil); res.StatusCode != http.StatusForbidden {
			t.Fatalf("launch of a disabled platform: %d", res.StatusCode)
		}
		if r := lastReason(); r != string(lti.ReasonPlatformDisabled) {
			t.Errorf("after a disabled platform's launch: %q", r)
		}
		c := newAdmin(t, env)
		c.get("/admin/platforms")
		if got := strings.Join(strings.Fields(c.page.Find("tr[data-platform='"+env.Registered.ID+"'] [data-testid=last-error]").Text()), " "); got != "Reason: platform disabled. (just now)" {
			t.Errorf("console list: %q", got)
		}
		if err := env.App.Registry.SetStatus(ctx, env.Registered.ID, tenant.StatusActive); err != nil {
			t.Fatal(err)
		}

		// A login without login_hint, naming issuer and client id.
		clock.add(time.Minute)
		send(t, rawClient, http.MethodGet, loginURL(env, url.Values{"login_hint": {""}}), nil)
		if r := lastReason(); r != string(lti.ReasonMalformedRequest) {
			t.Errorf("after a login without login_hint: %q", r)
		}
		// A login naming the issuer alone (its only registration) and a
		// target outside this tool.
		clock.add(time.Minute)
		send(t, rawClient, http.MethodGet, loginURL(env, url.Values{"client_id": {""}, "target_link_uri": {"https://elsewhere.example/x"}}), nil)
		if p, _ := env.App.Registry.Get(ctx, env.Registered.ID); p.LastErrorReason != string(lti.ReasonBadTargetLinkURI) ||
			p.LastError != `target_link_uri = "https://elsewhere.example/x"` {
			t.Errorf("after a foreign target: %q %q", p.LastErrorReason, p.LastError)
		}
		// An unknown issuer names no platform.
		clock.add(time.Minute)
		send(t, rawClient, http.MethodGet, loginURL(env, url.Values{"iss": {"https://unknown.example"}}), nil)
		if r := lastReason(); r != string(lti.ReasonBadTargetLinkURI) {
			t.Errorf("an unknown issuer's refusal was noted on another platform: %q", r)
		}
	})
}
