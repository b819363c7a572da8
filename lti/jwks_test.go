package lti

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is a settable clock for KeyCache.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// jwksServer is a platform JWKS endpoint that counts its requests and whose
// answer the test can change.
type jwksServer struct {
	*httptest.Server
	requests atomic.Int64

	mu        sync.Mutex
	status    int
	body      []byte
	userAgent string
	accept    string
}

func newJWKSServer(t *testing.T, body []byte) *jwksServer {
	s := &jwksServer{status: http.StatusOK, body: body}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		s.mu.Lock()
		status, body := s.status, s.body
		s.userAgent, s.accept = r.UserAgent(), r.Header.Get("Accept")
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) serve(status int, body []byte) {
	s.mu.Lock()
	s.status, s.body = status, body
	s.mu.Unlock()
}

func newTestKeyCache(s *jwksServer) (*KeyCache, *fakeClock) {
	clock := &fakeClock{t: testNow}
	c := NewKeyCache(s.Client())
	c.Now = clock.Now
	c.TTL = time.Hour
	c.RefetchInterval = time.Minute
	return c, clock
}

// platformJWKS publishes the platform key as kid.
func platformJWKS(t *testing.T, kids ...string) []byte {
	key, _ := testRSAKeys()
	var keys []publishedKey
	for _, kid := range kids {
		keys = append(keys, publishedKey{pub: &key.PublicKey, kid: kid})
	}
	return jwksJSON(t, keys...)
}

func keyErrorReason(t *testing.T, err error) Reason {
	t.Helper()
	if err == nil {
		return ""
	}
	e, ok := err.(*Error)
	if !ok {
		t.Fatalf("error %T %v, want *lti.Error", err, err)
	}
	if e.Message == "" {
		t.Errorf("error %v has no message for the person", e)
	}
	return e.Reason
}

func TestKeyCacheServesCachedKeysWithinTTL(t *testing.T) {
	s := newJWKSServer(t, platformJWKS(t, "k1"))
	c, clock := newTestKeyCache(s)
	ctx := context.Background()
	for range 3 {
		k, err := c.Key(ctx, s.URL, "k1")
		if err != nil {
			t.Fatal(err)
		}
		if kid := k.KeyID(); kid != "k1" {
			t.Fatalf("key %q, want k1", kid)
		}
	}
	clock.Advance(time.Hour)
	if _, err := c.Key(ctx, s.URL, "k1"); err != nil {
		t.Fatal(err)
	}
	if n := s.requests.Load(); n != 1 {
		t.Fatalf("%d JWKS requests within the TTL, want 1", n)
	}
	clock.Advance(time.Second)
	if _, err := c.Key(ctx, s.URL, "k1"); err != nil {
		t.Fatal(err)
	}
	if n := s.requests.Load(); n != 2 {
		t.Fatalf("%d JWKS requests after the TTL, want 2", n)
	}
}

// TestKeyCacheUnknownKIDRefetchesAtMostOncePerInterval: a forged kid cannot
// make the tool hammer the platform's JWKS endpoint.
func TestKeyCacheUnknownKIDRefetchesAtMostOncePerInterval(t *testing.T) {
	s := newJWKSServer(t, platformJWKS(t, "k1"))
	c, clock := newTestKeyCache(s)
	ctx := context.Background()
	if _, err := c.Key(ctx, s.URL, "k1"); err != nil {
		t.Fatal(err)
	}
	wantUnknown := func(wantRequests int64) {
		t.Helper()
		for range 5 {
			if r := keyErrorReason(t, func() error { _, err := c.Key(ctx, s.URL, "forged"); return err }()); r != ReasonUnknownKID {
				t.Fatalf("reason %q, want %s", r, ReasonUnknownKID)
			}
		}
		if n := s.requests.Load(); n != wantRequests {
			t.Fatalf("%d JWKS requests, want %d", n, wantRequests)
		}
	}
	wantUnknown(1) // just fetched: no refetch
	clock.Advance(59 * time.Second)
	wantUnknown(1)
	clock.Advance(time.Second)
	wantUnknown(2) // one refetch, then rate limited
	clock.Advance(30 * time.Second)
	wantUnknown(2)
	clock.Advance(30 * time.Second)
	wantUnknown(3)
	// The known key is still served without a request.
	if _, err := c.Key(ctx, s.URL, "k1"); err != nil {
		t.Fatal(err)
	}
	if n := s.requests.Load(); n != 3 {
		t.Fatalf("%d JWKS requests, want 3", n)
	}
}

// TestKeyCacheConcurrentUnknownKIDRefetchesOnce: many launches with a new
// kid at once cause one request.
func TestKeyCacheConcurrentUnknownKIDRefetchesOnce(t *testing.T) {
	s := newJWKSServer(t, platformJWKS(t, "k1"))
	c, clock := newTestKeyCache(s)
	ctx := context.Background()
	if _, err := c.Key(ctx, s.URL, "k1"); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := c.Key(ctx, s.URL, "forged"); err == nil {
				t.Error("forged kid found")
			}
		})
	}
	wg.Wait()
	if n := s.requests.Load(); n != 2 {
		t.Fatalf("%d JWKS requests, want 2", n)
	}
}

// TestKeyCachePicksUpRotatedKeys: Brightspace rotates its keys about hourly.
func TestKeyCachePicksUpRotatedKeys(t *testing.T) {
	s := newJWKSServer(t, platformJWKS(t, "2024-01"))
	c, clock := newTestKeyCache(s)
	ctx := context.Background()
	if _, err := c.Key(ctx, s.URL, "2024-01"); err != nil {
		t.Fatal(err)
	}
	s.serve(http.StatusOK, platformJWKS(t, "2024-02"))
	clock.Advance(10 * time.Second)
	if r := keyErrorReason(t, func() error { _, err := c.Key(ctx, s.URL, "2024-02"); return err }()); r != ReasonUnknownKID {
		t.Fatalf("new kid within the refetch interval: reason %q, want %s", r, ReasonUnknownKID)
	}
	clock.Advance(time.Minute)
	k, err := c.Key(ctx, s.URL, "2024-02")
	if err != nil {
		t.Fatalf("rotated key not picked up: %v", err)
	}
	if k.KeyID() != "2024-02" {
		t.Fatalf("key %q", k.KeyID())
	}
	// The retired key is gone with the old set.
	if r := keyErrorReason(t, func() error { _, err := c.Key(ctx, s.URL, "2024-01"); return err }()); r != ReasonUnknownKID {
		t.Fatalf("retired kid: reason %q, want %s", r, ReasonUnknownKID)
	}
	if n := s.requests.Load(); n != 2 {
		t.Fatalf("%d JWKS requests, want 2", n)
	}
}

func TestKeyCacheKeepsURLsApart(t *testing.T) {
	a := newJWKSServer(t, platformJWKS(t, "a"))
	b := newJWKSServer(t, platformJWKS(t, "b"))
	c, _ := newTestKeyCache(a)
	ctx := context.Background()
	if _, err := c.Key(ctx, a.URL, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Key(ctx, b.URL, "b"); err != nil {
		t.Fatal(err)
	}
	if r := keyErrorReason(t, func() error { _, err := c.Key(ctx, b.URL, "a"); return err }()); r != ReasonUnknownKID {
		t.Fatalf("kid of platform a found at platform b: reason %q", r)
	}
}

func TestKeyCacheForget(t *testing.T) {
	s := newJWKSServer(t, platformJWKS(t, "k1"))
	c, _ := newTestKeyCache(s)
	ctx := context.Background()
	if _, err := c.Key(ctx, s.URL, "k1"); err != nil {
		t.Fatal(err)
	}
	c.Forget(s.URL)
	s.serve(http.StatusOK, platformJWKS(t, "k2"))
	if _, err := c.Key(ctx, s.URL, "k2"); err != nil {
		t.Fatalf("after Forget the new set is not fetched: %v", err)
	}
	if n := s.requests.Load(); n != 2 {
		t.Fatalf("%d JWKS requests, want 2", n)
	}
}

func TestKeyCacheSendsUserAgent(t *testing.T) {
	s := newJWKSServer(t, platformJWKS(t, "k1"))
	c, _ := newTestKeyCache(s)
	if _, err := c.Key(context.Background(), s.URL, "k1"); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.userAgent != UserAgent || !strings.HasPrefix(s.userAgent, "Roundtable") {
		t.Errorf("User-Agent %q, want %q", s.userAgent, UserAgent)
	}
	if s.accept != "application/json" {
		t.Errorf("Accept %q", s.accept)
	}
}

// paddedJWKS is a valid key set document of exactly size bytes.
func paddedJWKS(t *testing.T, size int) []byte {
	body := platformJWKS(t, "k1")
	if len(body) > size {
		t.Fatalf("JWKS of %d bytes does not fit in %d", len(body), size)
	}
	return append(body, bytes.Repeat([]byte(" "), size-len(body))...)
}

func TestKeyCacheUnavailableKeys(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   func(t *testing.T) []byte
	}{
		{"ServerError", http.StatusInternalServerError, func(*testing.T) []byte { return []byte(`{"error":"down"}`) }},
		{"Forbidden", http.StatusForbidden, func(t *testing.T) []byte { return platformJWKS(t, "k1") }},
		{"InvalidJSON", http.StatusOK, func(*testing.T) []byte { return []byte(`{"keys":[`) }},
		{"HTMLPage", http.StatusOK, func(*testing.T) []byte { return []byte(`<html>Log in</html>`) }},
		{"EmptyKeySet", http.StatusOK, func(*testing.T) []byte { return []byte(`{"keys":[]}`) }},
		{"EmptyBody", http.StatusOK, func(*testing.T) []byte { return nil }},
		{"BodyOverOneMiB", http.StatusOK, func(t *testing.T) []byte { return paddedJWKS(t, maxJWKSBytes+1) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newJWKSServer(t, tc.body(t))
			s.serve(tc.status, tc.body(t))
			c, _ := newTestKeyCache(s)
			k, err := c.Key(context.Background(), s.URL, "k1")
			if r := keyErrorReason(t, err); r != ReasonKeysUnavailable {
				t.Fatalf("reason %q (%v), want %s", r, err, ReasonKeysUnavailable)
			}
			if k != nil {
				t.Fatal("a key came with the error")
			}
		})
	}
}

func TestKeyCacheAcceptsOneMiBKeySet(t *testing.T) {
	s := newJWKSServer(t, paddedJWKS(t, maxJWKSBytes))
	c, _ := newTestKeyCache(s)
	if _, err := c.Key(context.Background(), s.URL, "k1"); err != nil {
		t.Fatalf("JWKS of exactly %d bytes: %v", maxJWKSBytes, err)
	}
}

func TestKeyCacheUnreachablePlatform(t *testing.T) {
	s := newJWKSServer(t, nil)
	c, _ := newTestKeyCache(s)
	url := s.URL
	s.Close()
	_, err := c.Key(context.Background(), url, "k1")
	if r := keyErrorReason(t, err); r != ReasonKeysUnavailable {
		t.Fatalf("reason %q, want %s", r, ReasonKeysUnavailable)
	}
	_, err = c.Key(context.Background(), "http://[::1", "k1")
	if r := keyErrorReason(t, err); r != ReasonKeysUnavailable {
		t.Fatalf("bad URL: reason %q, want %s", r, ReasonKeysUnavailable)
	}
}

// TestKeyCacheDoesNotHammerAFailingPlatform: after a failed fetch the next
// launches wait for the refetch interval, then the platform is asked again.
func TestKeyCacheDoesNotHammerAFailingPlatform(t *testing.T) {
	s := newJWKSServer(t, nil)
	s.serve(http.StatusInternalServerError, nil)
	c, clock := newTestKeyCache(s)
	ctx := context.Background()
	for range 5 {
		if _, err := c.Key(ctx, s.URL, "k1"); err == nil {
			t.Fatal("key found at a failing platform")
		}
	}
	if n := s.requests.Load(); n != 1 {
		t.Fatalf("%d JWKS requests to a failing platform, want 1", n)
	}
	s.serve(http.StatusOK, platformJWKS(t, "k1"))
	clock.Advance(time.Minute)
	if _, err := c.Key(ctx, s.URL, "k1"); err != nil {
		t.Fatalf("platform recovered, key still unavailable: %v", err)
	}
	if n := s.requests.Load(); n != 2 {
		t.Fatalf("%d JWKS requests, want 2", n)
	}
}

// TestKeyCacheServesOldKeysWhenRefreshFails: when the TTL ran out and the
// platform's JWKS endpoint fails, launches signed with a cached key still
// verify, as the cache promises.
func TestKeyCacheServesOldKeysWhenRefreshFails(t *testing.T) {
	s := newJWKSServer(t, platformJWKS(t, "k1"))
	c, clock := newTestKeyCache(s)
	ctx := context.Background()
	if _, err := c.Key(ctx, s.URL, "k1"); err != nil {
		t.Fatal(err)
	}
	s.serve(http.StatusServiceUnavailable, nil)
	clock.Advance(c.TTL + time.Second)
	for i := range 3 {
		if _, err := c.Key(ctx, s.URL, "k1"); err != nil {
			t.Fatalf("launch %d after a failed refresh: %v", i+1, err)
		}
	}
	if n := s.requests.Load(); n != 2 {
		t.Fatalf("%d JWKS requests, want 2", n)
	}
}

// TestValidateWithUnavailableKeys: Validate passes the key cache's error on.
func TestValidateWithUnavailableKeys(t *testing.T) {
	p := newTestPlatform(t)
	s := newJWKSServer(t, nil)
	s.serve(http.StatusInternalServerError, nil)
	reg := p.reg
	reg.JWKSURL = s.URL
	l, err := p.v.Validate(context.Background(), p.sign(t, resourceLinkClaims()), reg, testNonce)
	wantError(t, l, err, ReasonKeysUnavailable)
}
