// Package advantage is the tool's client for the LTI Advantage services:
// OAuth 2 client-credentials tokens with a JWT client assertion (LTI
// Advantage Security Framework), Assignment and Grade Services 2.0 and
// Names and Role Provisioning Services 2.0. It speaks the protocol only;
// what to send and when is the caller's business.
package advantage

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jwt"
	"golang.org/x/sync/singleflight"

	"github.com/roundtable-lms/roundtable/internal/egress"
	"github.com/roundtable-lms/roundtable/lti"
)

// Client assertion and grant values of the LTI Advantage Security Framework.
const (
	GrantClientCredentials = "client_credentials"
	AssertionTypeJWTBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
)

const (
	// assertionTTL is the client assertion's lifetime: long enough for clock
	// skew, short enough that a leaked one is soon useless.
	assertionTTL = 5 * time.Minute
	// refreshBefore drops a cached token this long before it expires, so a
	// call never sets out with a token about to lapse.
	refreshBefore = 60 * time.Second
	// defaultTokenTTL applies when a platform omits expires_in.
	defaultTokenTTL = 15 * time.Minute
	// tokenTimeout bounds one token request, whoever waits for it.
	tokenTimeout = 30 * time.Second
	maxTokenBody = 64 << 10
)

// TokenSource obtains and caches access tokens per registration and scope
// set. Concurrent callers asking for the same token share one request.
type TokenSource struct {
	http   *http.Client
	signer Signer
	// Now is the clock; defaults to time.Now.
	Now func() time.Time

	group singleflight.Group
	mu    sync.Mutex
	cache map[string]cachedToken

	// Granted, when set, hears which scopes the platform granted each
	// time it issues a token: its answer's scope, or those asked for when
	// it names none (RFC 6749, 5.1).
	Granted func(ctx context.Context, reg lti.Registration, scopes []string)
}

type cachedToken struct {
	token   string
	expires time.Time // already shortened by refreshBefore
}

// Signer returns the private key that signs the registration's client
// assertions, with its kid set. Each registration must have keys of its
// own, published only at the JWKS URL its platform holds: an assertion
// signed for one platform must not verify at another.
type Signer func(ctx context.Context, reg lti.Registration) (jwk.Key, error)

// NewTokenSource returns a token source that sends requests with httpClient
// (when nil, a guarded client that reaches only public addresses: token URLs
// come from the platform) and signs client assertions with the key signer
// returns for the registration.
func NewTokenSource(httpClient *http.Client, signer Signer) *TokenSource {
	if httpClient == nil {
		httpClient = egress.NewClient(egress.Config{Timeout: tokenTimeout})
	}
	return &TokenSource{http: httpClient, signer: signer, Now: time.Now, cache: map[string]cachedToken{}}
}

// Token returns an access token for the registration with the given scopes,
// from the cache while it is fresh.
func (s *TokenSource) Token(ctx context.Context, reg lti.Registration, scopes []string) (string, error) {
	scopes = normalizeScopes(scopes)
	key := cacheKey(reg, scopes)
	if tok, ok := s.cached(key); ok {
		return tok, nil
	}
	// The fetch outlives any one caller's cancellation: others may be
	// waiting for it.
	ch := s.group.DoChan(key, func() (any, error) {
		if tok, ok := s.cached(key); ok {
			return tok, nil
		}
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), tokenTimeout)
		defer cancel()
		tok, ttl, err := s.fetch(fctx, reg, scopes)
		if err != nil {
			return "", err
		}
		s.mu.Lock()
		s.cache[key] = cachedToken{token: tok, expires: s.Now().Add(ttl - refreshBefore)}
		s.mu.Unlock()
		return tok, nil
	})
	select {
	case <-ctx.Done():
		return "", &Error{Op: "token", Err: ctx.Err()}
	case r := <-ch:
		if r.Err != nil {
			return "", r.Err
		}
		return r.Val.(string), nil
	}
}

// Invalidate drops the cached token of the registration and scopes (the
// platform refused it before its time).
func (s *TokenSource) Invalidate(reg lti.Registration, scopes []string) {
	key := cacheKey(reg, normalizeScopes(scopes))
	s.mu.Lock()
	delete(s.cache, key)
	s.mu.Unlock()
}

// invalidateToken drops the cached token only when it is still the one that
// was refused, so a caller late with its 401 does not throw away the fresh
// token another caller just fetched.
func (s *TokenSource) invalidateToken(reg lti.Registration, scopes []string, token string) {
	key := cacheKey(reg, normalizeScopes(scopes))
	s.mu.Lock()
	if c, ok := s.cache[key]; ok && c.token == token {
		delete(s.cache, key)
	}
	s.mu.Unlock()
}

func (s *TokenSource) cached(key string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.cache[key]
	if !ok || !s.Now().Before(c.expires) {
		return "", false
	}
	return c.token, true
}

func normalizeScopes(scopes []string) []string {
	out := make([]string, 0, len(scopes))
	for _, sc := range scopes {
		if sc = strings.TrimSpace(sc); sc != "" {
			out = append(out, sc)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func cacheKey(reg lti.Registration, scopes []string) string {
	id := reg.ID
	if id == "" {
		id = reg.Issuer + "\x00" + reg.ClientID + "\x00" + reg.TokenURL
	}
	return id + "\x00" + strings.Join(scopes, " ")
}

type tokenResponse struct {
	AccessToken string          `json:"access_token"`
	TokenType   string          `json:"token_type"`
	ExpiresIn   json.RawMessage `json:"expires_in"`
	Scope       string          `json:"scope"`
}

// fetch asks the platform's token endpoint for a token.
func (s *TokenSource) fetch(ctx context.Context, reg lti.Registration, scopes []string) (string, time.Duration, error) {
	const op = "token"
	if reg.TokenURL == "" {
		return "", 0, &Error{Op: op, Err: errors.New("the registration has no token URL")}
	}
	assertion, err := s.assertion(ctx, reg)
	if err != nil {
		return "", 0, &Error{Op: op, Err: err}
	}
	form := url.Values{
		"grant_type":            {GrantClientCredentials},
		"client_assertion_type": {AssertionTypeJWTBearer},
		"client_assertion":      {assertion},
		"scope":                 {strings.Join(scopes, " ")},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, reg.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", 0, &Error{Op: op, Err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", lti.UserAgent)
	resp, err := s.http.Do(req)
	if err != nil {
		return "", 0, &Error{Op: op, Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenBody))
	if err != nil {
		return "", 0, &Error{Op: op, Status: resp.StatusCode, Err: err}
	}
	if resp.StatusCode != http.StatusOK {
		return "", 0, &Error{Op: op, Status: resp.StatusCode, Body: truncate(body),
			RetryAfter: ParseRetryAfter(resp.Header.Get("Retry-After"), s.Now())}
	}
	var tr tokenResponse
	if err := json.Unmarshal(body, &tr); err != nil || tr.AccessToken == "" {
		return "", 0, &Error{Op: op, Status: resp.StatusCode, Body: truncate(body), Err: errors.New("no access_token in the answer")}
	}
	if !strings.EqualFold(tr.TokenType, "bearer") {
		return "", 0, &Error{Op: op, Status: resp.StatusCode, Err: fmt.Errorf("token type %q, want Bearer", tr.TokenType)}
	}
	if s.Granted != nil {
		granted := strings.Fields(tr.Scope)
		if len(granted) == 0 {
			granted = scopes
		}
		s.Granted(ctx, reg, granted)
	}
	return tr.AccessToken, expiresIn(tr.ExpiresIn), nil
}

// expiresIn reads expires_in, which some platforms send as a string.
func expiresIn(raw json.RawMessage) time.Duration {
	s := strings.Trim(strings.TrimSpace(string(raw)), `"`)
	var n float64
	if _, err := fmt.Sscan(s, &n); err != nil || n <= 0 {
		return defaultTokenTTL
	}
	if n > 24*3600 {
		n = 24 * 3600
	}
	d := time.Duration(n) * time.Second
	if d <= refreshBefore {
		// A very short-lived token is still worth using once.
		return refreshBefore + d/2
	}
	return d
}

// AssertionAudience is the aud of a client assertion for reg: the token URL
// it is posted to, then the registration's extra token audience when it
// has one. An assertion is never addressed to another endpoint alone: a
// platform that declares someone else's token URL as its audience must
// not obtain an assertion that endpoint accepts.
func AssertionAudience(reg lti.Registration) []string {
	aud := []string{reg.TokenURL}
	if extra := strings.TrimSpace(reg.TokenAudience); extra != "" && extra != reg.TokenURL {
		aud = append(aud, extra)
	}
	return aud
}

// assertion signs the RFC 7523 client assertion with the registration's
// own key.
func (s *TokenSource) assertion(ctx context.Context, reg lti.Registration) (string, error) {
	if s.signer == nil {
		return "", errors.New("no signing key source")
	}
	key, err := s.signer(ctx, reg)
	if err != nil {
		return "", fmt.Errorf("signing key: %w", err)
	}
	if key == nil || key.KeyID() == "" {
		return "", errors.New("signing key has no kid")
	}
	now := s.Now()
	tok, err := jwt.NewBuilder().
		Issuer(reg.ClientID).
		Subject(reg.ClientID).
		Audience(AssertionAudience(reg)).
		IssuedAt(now).
		Expiration(now.Add(assertionTTL)).
		JwtID(rand.Text()).
		Build()
	if err != nil {
		return "", err
	}
	signed, err := jwt.Sign(tok, jwt.WithKey(jwa.RS256, key))
	if err != nil {
		return "", fmt.Errorf("sign client assertion: %w", err)
	}
	return string(signed), nil
}
