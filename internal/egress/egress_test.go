package egress

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
)

func TestForbiddenAddresses(t *testing.T) {
	for _, s := range []string{
		"127.0.0.1", "127.255.0.9", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.0.10",
		"169.254.169.254", "169.254.0.1", "100.64.0.1", "100.127.255.254", "0.0.0.0", "0.1.2.3",
		"224.0.0.1", "239.255.255.250", "255.255.255.255", "240.0.0.1", "192.0.2.5", "198.18.0.1",
		"::", "::1", "fc00::1", "fd12:3456::1", "fe80::1", "fe80::1%eth0", "ff02::1", "fec0::1",
		// IPv4 inside IPv6.
		"::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "::ffff:0:127.0.0.1",
		"64:ff9b::a9fe:a9fe", "64:ff9b::7f00:1", "::127.0.0.1", "2002:7f00:1::1", "2002:c0a8:0101::1",
		"64:ff9b:1::1", "2001:0:4136:e378:8000:63bf:3fff:fdd2",
	} {
		ip := netip.MustParseAddr(s)
		if why, bad := Forbidden(ip); !bad {
			t.Errorf("%s is allowed", s)
		} else if why == "" {
			t.Errorf("%s: no reason", s)
		}
	}
	for _, s := range []string{"8.8.8.8", "1.1.1.1", "100.63.255.255", "100.128.0.1", "172.32.0.1", "192.169.0.1",
		"2606:4700:4700::1111", "2a00:1450:4001:81c::200e", "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:0808:0808::1"} {
		if why, bad := Forbidden(netip.MustParseAddr(s)); bad {
			t.Errorf("%s refused as %s", s, why)
		}
	}
}

func TestParseAllowlist(t *testing.T) {
	a, err := ParseAllowlist(" 10.20.0.0/16, 192.168.1.10 lms.Campus.internal.,fd00::/8\n::ffff:172.16.0.0/108,10.20.1.0/16")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"10.20.4.5", "192.168.1.10", "fd00::7", "::ffff:10.20.0.1", "172.16.3.3"} {
		if !a.AllowsAddr(netip.MustParseAddr(s)) {
			t.Errorf("%s not allowed", s)
		}
	}
	for _, s := range []string{"10.21.0.1", "192.168.1.11", "127.0.0.1", "fe80::1"} {
		if a.AllowsAddr(netip.MustParseAddr(s)) {
			t.Errorf("%s allowed", s)
		}
	}
	if !a.AllowsHost("LMS.campus.internal") || a.AllowsHost("campus.internal") || a.AllowsHost("evil.lms.campus.internal") {
		t.Error("host names")
	}
	if got := a.String(); got != "10.20.0.0/16,172.16.0.0/12,192.168.1.10/32,fd00::/8,lms.campus.internal" {
		t.Errorf("String() = %q", got)
	}
	if again, err := ParseAllowlist(a.String()); err != nil || again.String() != a.String() {
		t.Errorf("round trip: %q %v", again.String(), err)
	}
	for _, bad := range []string{"10.0.0.0/33", "300.1.1.1", "10.1", "lms..example", "-lms.example", "lms.example/", "fe80::1%eth0", "http://lms.example", "a b c/x"} {
		if _, err := ParseAllowlist(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if z, err := ParseAllowlist(" , "); err != nil || !z.IsZero() {
		t.Errorf("blank list: %v %v", z, err)
	}
}

func FuzzParseAllowlist(f *testing.F) {
	for _, s := range []string{"", "127.0.0.0/8,::1", "lms.example.edu 10.0.0.0/8", "::ffff:10.0.0.0/104", "1.2.3.4", "x/y", "a..b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAllowlist(s)
		if err != nil {
			return
		}
		// What it reads, it writes back in a form it reads the same way.
		b, err := ParseAllowlist(a.String())
		if err != nil {
			t.Fatalf("%q parsed, but its String %q does not: %v", s, a.String(), err)
		}
		if b.String() != a.String() {
			t.Fatalf("%q: %q then %q", s, a.String(), b.String())
		}
		// An empty list never lets a forbidden address through.
		if a.IsZero() && a.AllowsAddr(netip.MustParseAddr("127.0.0.1")) {
			t.Fatal("empty list allows loopback")
		}
	})
}

// internal is a stand-in for a service on the machine's private side.
func internal(t *testing.T) (url string, hits *atomic.Int32) {
	t.Helper()
	hits = &atomic.Int32{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.WriteString(w, "internal secret")
	}))
	t.Cleanup(srv.Close)
	return srv.URL, hits
}

// serveOn serves h on a given loopback address.
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

func get(c *http.Client, u string) (string, error) {
	resp, err := c.Get(u)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func TestLoopbackRefusedUnlessAllowed(t *testing.T) {
	u, hits := internal(t)
	port := u[strings.LastIndex(u, ":"):]
	for _, target := range []string{u, "http://localhost" + port, "http://[::ffff:127.0.0.1]" + port} {
		body, err := get(NewClient(Config{}), target)
		re, ok := Refused(err)
		if !ok {
			t.Fatalf("%s: %q %v, want refused", target, body, err)
		}
		if re.Why != "loopback" || strings.Contains(err.Error(), "secret") {
			t.Errorf("%s: %v", target, err)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the internal service was reached %d times", n)
	}
	if body, err := get(NewClient(Config{Allow: Loopback}), u); err != nil || body != "internal secret" {
		t.Fatalf("with loopback allowed: %q %v", body, err)
	}
	byName, _ := ParseAllowlist("localhost")
	if body, err := get(NewClient(Config{Allow: byName}), "http://localhost"+port); err != nil || body != "internal secret" {
		t.Fatalf("with localhost allowed by name: %q %v", body, err)
	}
	if _, err := get(NewClient(Config{Allow: byName}), u); err == nil {
		t.Fatal("allowing the name localhost allowed 127.0.0.1 by address")
	}
}

func TestRedirectToLoopbackRefused(t *testing.T) {
	secret, hits := internal(t)
	// The LMS is on 127.0.0.2, which the operator allowed; it redirects to
	// a service on 127.0.0.1, which stays forbidden.
	lms := serveOn(t, "127.0.0.2:0", http.RedirectHandler(secret+"/admin", http.StatusFound))
	allow, _ := ParseAllowlist("127.0.0.2")
	c := NewClient(Config{Allow: allow})
	if body, err := get(c, lms); err == nil {
		t.Fatalf("followed the redirect: %q", body)
	} else if _, ok := Refused(err); !ok {
		t.Fatalf("error %v, want refused", err)
	}
	if hits.Load() != 0 {
		t.Fatal("the internal service was reached")
	}
}

func TestRedirectPolicy(t *testing.T) {
	var posted atomic.Int32
	other := serveOn(t, "127.0.0.3:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		posted.Add(1)
		io.WriteString(w, "other site")
	}))
	mux := http.NewServeMux()
	mux.Handle("/away", http.RedirectHandler(other+"/register", http.StatusTemporaryRedirect))
	mux.Handle("/here", http.RedirectHandler("/final", http.StatusTemporaryRedirect))
	mux.HandleFunc("/final", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "final "+r.Method) })
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) })
	lms := serveOn(t, "127.0.0.2:0", mux)
	allow, _ := ParseAllowlist("127.0.0.2,127.0.0.3")
	c := NewClient(Config{Allow: allow})

	resp, err := c.Post(lms+"/away", "application/json", strings.NewReader("{}"))
	if err == nil {
		resp.Body.Close()
		t.Fatal("a POST followed a redirect to another site")
	}
	if !errors.Is(err, ErrRedirectRefused) || posted.Load() != 0 {
		t.Fatalf("%v, %d posts elsewhere", err, posted.Load())
	}
	resp, err = c.Post(lms+"/here", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatalf("same-site redirect of a POST: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "final POST" {
		t.Errorf("same-site redirect: %q", b)
	}
	if body, err := get(c, lms+"/away"); err != nil || body != "other site" {
		t.Errorf("a GET may go to another site: %q %v", body, err)
	}
	if _, err := get(c, lms+"/loop"); !errors.Is(err, ErrRedirectRefused) {
		t.Errorf("redirect loop: %v", err)
	}
}

func TestAnswersAreBoundedAndCarryAUserAgent(t *testing.T) {
	var ua atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ua.Store(r.Header.Get("User-Agent"))
		io.WriteString(w, strings.Repeat("x", 2000))
	}))
	t.Cleanup(srv.Close)
	c := NewClient(Config{Allow: Loopback, MaxBody: 1000})
	if _, err := get(c, srv.URL); !errors.Is(err, ErrBodyTooLarge) {
		t.Fatalf("2000 bytes read with a 1000-byte bound: %v", err)
	}
	if ua.Load() != DefaultUserAgent {
		t.Errorf("User-Agent %q", ua.Load())
	}
	c = NewClient(Config{Allow: Loopback, MaxBody: 2000})
	if body, err := get(c, srv.URL); err != nil || len(body) != 2000 {
		t.Fatalf("exactly the bound: %d %v", len(body), err)
	}
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL, nil)
	req.Header.Set("User-Agent", "Mine/1")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if ua.Load() != "Mine/1" {
		t.Errorf("the caller's User-Agent was replaced: %q", ua.Load())
	}
}

func TestEnvironmentProxyIgnored(t *testing.T) {
	var proxied atomic.Int32
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { proxied.Add(1) }))
	t.Cleanup(proxy.Close)
	t.Setenv("HTTP_PROXY", proxy.URL)
	t.Setenv("http_proxy", proxy.URL)
	u, hits := internal(t)
	if _, err := get(NewClient(Config{}), u); err == nil {
		t.Fatal("reached loopback")
	}
	if proxied.Load() != 0 || hits.Load() != 0 {
		t.Fatalf("proxy %d, internal %d", proxied.Load(), hits.Load())
	}
}
