package lti

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/roundtable-lms/roundtable/internal/egress"
)

// UserAgent is sent on every request to a platform; some Moodle sites
// refuse a JWKS fetch without one.
const UserAgent = "Roundtable-LTI/1.0 (+https://www.imsglobal.org/spec/lti/v1p3)"

// KeyCache holds platforms' public keys by JWKS URL. A key id it has not seen
// triggers one refetch, at most once per RefetchInterval per URL, so a forged
// kid cannot make the tool hammer the platform.
type KeyCache struct {
	Client          *http.Client
	TTL             time.Duration
	RefetchInterval time.Duration
	Now             func() time.Time

	mu      sync.Mutex
	entries map[string]*keyEntry
}

type keyEntry struct {
	mu        sync.Mutex
	set       jwk.Set
	fetchedAt time.Time
}

// NewKeyCache returns a cache with production defaults. client fetches the
// key sets; pass the guarded client (internal/egress) that allows what the
// operator allows. When nil, a guarded client that reaches only public
// addresses.
func NewKeyCache(client *http.Client) *KeyCache {
	if client == nil {
		client = egress.NewClient(egress.Config{Timeout: 10 * time.Second})
	}
	return &KeyCache{Client: client, TTL: time.Hour, RefetchInterval: time.Minute, Now: time.Now}
}

// maxJWKSBytes bounds a platform's key set document.
const maxJWKSBytes = 1 << 20

// Key returns the platform key with the given kid from the JWKS at url.
func (c *KeyCache) Key(ctx context.Context, url, kid string) (jwk.Key, error) {
	e := c.entry(url)
	e.mu.Lock()
	defer e.mu.Unlock()
	now := c.Now()
	if e.set == nil || now.Sub(e.fetchedAt) > c.TTL {
		if err := c.fetch(ctx, url, e, now); err != nil {
			if k, ok := e.set.LookupKeyID(kid); ok {
				return k, nil // the platform is failing: serve its last keys
			}
			return nil, err
		}
	}
	if k, ok := e.set.LookupKeyID(kid); ok {
		return k, nil
	}
	if now.Sub(e.fetchedAt) < c.RefetchInterval {
		return nil, reject(ReasonUnknownKID, msgTokenInvalid, "kid %q not in %s (refetched %s ago)", kid, url, now.Sub(e.fetchedAt).Round(time.Second)).WithGiven("kid", kid)
	}
	if err := c.fetch(ctx, url, e, now); err != nil {
		return nil, err
	}
	if k, ok := e.set.LookupKeyID(kid); ok {
		return k, nil
	}
	return nil, reject(ReasonUnknownKID, msgTokenInvalid, "kid %q not in %s", kid, url).WithGiven("kid", kid)
}

// Forget drops the cached keys of url (a registration changed).
func (c *KeyCache) Forget(url string) {
	c.mu.Lock()
	delete(c.entries, url)
	c.mu.Unlock()
}

func (c *KeyCache) entry(url string) *keyEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[string]*keyEntry{}
	}
	e, ok := c.entries[url]
	if !ok {
		e = &keyEntry{}
		c.entries[url] = e
	}
	return e
}

func (c *KeyCache) fetch(ctx context.Context, url string, e *keyEntry, now time.Time) error {
	set, err := FetchKeySet(ctx, c.Client, url)
	if err != nil {
		// Keep serving the old set; note the attempt so a failing platform
		// is not asked again on every launch.
		e.fetchedAt = now
		if e.set == nil {
			e.set = jwk.NewSet()
		}
		return reject(ReasonKeysUnavailable, msgTokenInvalid, "%v", err)
	}
	e.set, e.fetchedAt = set, now
	return nil
}

// FetchKeySet downloads and parses a JWKS document.
func FetchKeySet(ctx context.Context, client *http.Client, url string) (jwk.Set, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("JWKS URL %q: %w", url, err)
	}
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch JWKS %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch JWKS %s: HTTP %d", url, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read JWKS %s: %w", url, err)
	}
	if len(body) > maxJWKSBytes {
		return nil, fmt.Errorf("JWKS %s larger than %d bytes", url, maxJWKSBytes)
	}
	set, err := jwk.Parse(body)
	if err != nil {
		return nil, fmt.Errorf("parse JWKS %s: %w", url, err)
	}
	if set.Len() == 0 {
		return nil, fmt.Errorf("JWKS %s has no keys", url)
	}
	return set, nil
}
