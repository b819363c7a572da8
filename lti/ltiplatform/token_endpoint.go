package ltiplatform

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// The token endpoint: OAuth 2 client credentials with an RFC 7523 JWT
// client assertion, as the LTI Advantage Security Framework requires.

const (
	grantClientCredentials = "client_credentials"
	assertionTypeJWTBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	// maxAssertionLifetime refuses assertions valid for longer: a captured
	// one must not be usable for long.
	maxAssertionLifetime = time.Hour
	// clockLeeway tolerates clocks a little apart.
	clockLeeway  = time.Minute
	maxTokenForm = 64 << 10
)

type accessToken struct {
	clientID string
	scopes   []string
	expires  time.Time
}

// TokenAudience is the audience client assertions must name: the configured
// one, else the token URL.
func (p *Platform) TokenAudience() string {
	if p.cfg.TokenAudience != "" {
		return p.cfg.TokenAudience
	}
	return p.TokenURL()
}

// oauthError answers as RFC 6749 section 5.2 says.
func oauthError(w http.ResponseWriter, status int, code, desc string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	if status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Bearer error="`+code+`"`)
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

// tokenRefusal is a refused token request.
type tokenRefusal struct {
	status     int
	code, desc string
	clientID   string
}

func (e *tokenRefusal) Error() string { return e.code + ": " + e.desc }

// invalidClient refuses the client's authentication. Every fault of the
// client assertion is invalid_client (401), as RFC 7523 section 3.2 says
// for a JWT used to authenticate the client; invalid_grant is for JWTs
// used as the grant itself, which LTI does not use.
func invalidClient(clientID, format string, args ...any) *tokenRefusal {
	return &tokenRefusal{status: http.StatusUnauthorized, code: "invalid_client", desc: fmt.Sprintf(format, args...), clientID: clientID}
}

func (p *Platform) handleToken(w http.ResponseWriter, r *http.Request) {
	start := p.now()
	sw := &statusWriter{ResponseWriter: w}
	clientID := ""
	defer func() {
		p.svc.record(ServiceRequest{Time: start, ClientID: clientID, Method: r.Method, Path: r.URL.RequestURI(),
			Status: sw.status, Duration: p.now().Sub(start)})
	}()
	tok, granted, err := p.issueToken(r.Context(), sw, r)
	if err != nil {
		clientID = err.clientID
		p.log.InfoContext(r.Context(), "token refused", slog.String("client_id", err.clientID), slog.String("error", err.code), slog.String("detail", err.desc))
		oauthError(sw, err.status, err.code, err.desc)
		return
	}
	clientID = granted.clientID
	sw.Header().Set("Content-Type", "application/json")
	sw.Header().Set("Cache-Control", "no-store")
	sw.Header().Set("Pragma", "no-cache")
	sw.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(sw).Encode(map[string]any{
		"access_token": tok,
		"token_type":   "Bearer",
		"expires_in":   int(accessTokenTTL / time.Second),
		"scope":        strings.Join(granted.scopes, " "),
	})
}

func (p *Platform) issueToken(ctx context.Context, w http.ResponseWriter, r *http.Request) (string, accessToken, *tokenRefusal) {
	bad := func(code, desc string) *tokenRefusal {
		return &tokenRefusal{status: http.StatusBadRequest, code: code, desc: desc}
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxTokenForm)
	if !mediaTypeIs(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return "", accessToken{}, bad("invalid_request", "the request must be an application/x-www-form-urlencoded form")
	}
	if err := r.ParseForm(); err != nil {
		return "", accessToken{}, bad("invalid_request", "the form cannot be read: "+err.Error())
	}
	f := r.PostForm
	for _, name := range []string{"grant_type", "client_assertion_type", "client_assertion", "scope"} {
		if len(f[name]) > 1 {
			return "", accessToken{}, bad("invalid_request", name+" is repeated")
		}
	}
	switch gt := f.Get("grant_type"); {
	case gt == "":
		return "", accessToken{}, bad("invalid_request", "grant_type is required")
	case gt != grantClientCredentials:
		return "", accessToken{}, bad("unsupported_grant_type", "only client_credentials is supported, not "+gt)
	}
	if f.Get("client_assertion_type") != assertionTypeJWTBearer {
		return "", accessToken{}, invalidClient("", "client_assertion_type must be %s", assertionTypeJWTBearer)
	}
	assertion := f.Get("client_assertion")
	if assertion == "" {
		return "", accessToken{}, invalidClient("", "client_assertion is required")
	}
	tool, rf := p.verifyAssertion(ctx, assertion)
	if rf != nil {
		return "", accessToken{}, rf
	}
	allowed := toolScopes(tool)
	var scopes []string
	if raw := strings.Fields(f.Get("scope")); len(raw) > 0 {
		for _, s := range raw {
			if !slices.Contains(allowed, s) {
				return "", accessToken{}, &tokenRefusal{status: http.StatusBadRequest, code: "invalid_scope",
					desc: "scope " + s + " is not granted to this tool", clientID: tool.ClientID}
			}
			if !slices.Contains(scopes, s) {
				scopes = append(scopes, s)
			}
		}
	} else {
		scopes = allowed
	}
	tok := accessToken{clientID: tool.ClientID, scopes: scopes, expires: p.now().Add(accessTokenTTL)}
	value := rand.Text() + rand.Text()
	s := p.svc
	s.mu.Lock()
	now := p.now()
	for k, t := range s.tokens {
		if now.After(t.expires) {
			delete(s.tokens, k)
		}
	}
	s.tokens[value] = tok
	s.mu.Unlock()
	return value, tok, nil
}

// verifyAssertion checks the client assertion and returns the tool it
// authenticates.
func (p *Platform) verifyAssertion(ctx context.Context, assertion string) (Tool, *tokenRefusal) {
	msg, err := jws.Parse([]byte(assertion))
	if err != nil {
		return Tool{}, invalidClient("", "client_assertion is not a signed JWT")
	}
	sigs := msg.Signatures()
	if len(sigs) != 1 {
		return Tool{}, invalidClient("", "client_assertion must carry exactly one signature")
	}
	hdr := sigs[0].ProtectedHeaders()
	if hdr.Algorithm() != jwa.RS256 {
		return Tool{}, invalidClient("", "client_assertion must be signed with RS256, not %s", hdr.Algorithm())
	}
	kid := hdr.KeyID()
	if kid == "" {
		return Tool{}, invalidClient("", "client_assertion has no kid")
	}
	var claims struct {
		Iss string          `json:"iss"`
		Sub string          `json:"sub"`
		Aud json.RawMessage `json:"aud"`
		Exp *json.Number    `json:"exp"`
		Iat *json.Number    `json:"iat"`
		Jti string          `json:"jti"`
	}
	dec := json.NewDecoder(strings.NewReader(string(msg.Payload())))
	dec.UseNumber()
	if err := dec.Decode(&claims); err != nil {
		return Tool{}, invalidClient("", "client_assertion claims are not a JSON object")
	}
	tool, err := p.Tool(claims.Iss)
	if err != nil || claims.Iss == "" {
		return Tool{}, invalidClient("", "iss %q is not the client id of a registered tool", claims.Iss)
	}
	if claims.Sub != claims.Iss {
		return Tool{}, invalidClient(tool.ClientID, "sub must equal iss, the client id")
	}
	if tool.JWKSURL == "" {
		return Tool{}, invalidClient(tool.ClientID, "the tool has no registered JWKS URL")
	}
	key, err := p.svc.keys.Key(ctx, tool.JWKSURL, kid)
	if err != nil {
		return Tool{}, invalidClient(tool.ClientID, "no key %q in the tool's JWKS: %v", kid, err)
	}
	if _, err := jws.Verify([]byte(assertion), jws.WithKey(jwa.RS256, key)); err != nil {
		return Tool{}, invalidClient(tool.ClientID, "the client_assertion signature does not verify with key %q", kid)
	}
	if !audienceHas(claims.Aud, p.TokenAudience()) {
		return Tool{}, invalidClient(tool.ClientID, "aud must contain %s", p.TokenAudience())
	}
	now := p.now()
	exp, okExp := unixTime(claims.Exp)
	iat, okIat := unixTime(claims.Iat)
	switch {
	case !okExp:
		return Tool{}, invalidClient(tool.ClientID, "exp is required")
	case !now.Before(exp.Add(clockLeeway)):
		return Tool{}, invalidClient(tool.ClientID, "the client_assertion expired at %s", exp.UTC().Format(time.RFC3339))
	case exp.Sub(now) > maxAssertionLifetime:
		return Tool{}, invalidClient(tool.ClientID, "exp is more than %s ahead", maxAssertionLifetime)
	case !okIat:
		return Tool{}, invalidClient(tool.ClientID, "iat is required")
	case iat.After(now.Add(clockLeeway)):
		return Tool{}, invalidClient(tool.ClientID, "iat is in the future")
	case claims.Jti == "":
		return Tool{}, invalidClient(tool.ClientID, "jti is required")
	}
	s := p.svc
	s.mu.Lock()
	defer s.mu.Unlock()
	for j, until := range s.jtis {
		if now.After(until) {
			delete(s.jtis, j)
		}
	}
	key2 := tool.ClientID + "\x00" + claims.Jti
	if _, seen := s.jtis[key2]; seen {
		return Tool{}, invalidClient(tool.ClientID, "jti %q was already used", claims.Jti)
	}
	// Remember the jti for as long as the assertion could be accepted.
	s.jtis[key2] = exp.Add(clockLeeway)
	return tool, nil
}

func audienceHas(raw json.RawMessage, want string) bool {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return one == want
	}
	var many []string
	if json.Unmarshal(raw, &many) == nil {
		return slices.Contains(many, want)
	}
	return false
}

func unixTime(n *json.Number) (time.Time, bool) {
	if n == nil {
		return time.Time{}, false
	}
	f, err := n.Float64()
	if err != nil || f <= 0 || f > 1e11 {
		return time.Time{}, false
	}
	return time.Unix(int64(f), 0), true
}

// lookupToken finds the access token of a service request.
func (p *Platform) lookupToken(r *http.Request) (accessToken, bool) {
	auth := r.Header.Get("Authorization")
	scheme, value, ok := strings.Cut(auth, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(value) == "" {
		return accessToken{}, false
	}
	p.svc.mu.Lock()
	defer p.svc.mu.Unlock()
	t, ok := p.svc.tokens[strings.TrimSpace(value)]
	if !ok || !p.now().Before(t.expires) {
		return accessToken{}, false
	}
	return t, true
}

// RevokeTokens makes every access token issued so far invalid.
func (p *Platform) RevokeTokens() {
	p.svc.mu.Lock()
	clear(p.svc.tokens)
	p.svc.mu.Unlock()
}
