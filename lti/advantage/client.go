package advantage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/roundtable-lms/roundtable/internal/egress"
	"github.com/roundtable-lms/roundtable/lti"
)

// Client calls a platform's AGS and NRPS endpoints with tokens from Tokens.
// It holds no state of its own beyond deduplicating concurrent line item
// creation; the zero value needs HTTP (or uses a default client) and Tokens.
type Client struct {
	HTTP   *http.Client
	Tokens *TokenSource

	lineItems singleflight.Group
}

const (
	// maxBody bounds one service answer (a page of members or line items).
	maxBody = 8 << 20
	// maxPages bounds how many Link rel="next" pages one call follows.
	maxPages = 200
)

// defaultHTTP serves a Client without HTTP: a guarded client that reaches
// only public addresses, as service URLs come from the platform.
var defaultHTTP = egress.NewClient(egress.Config{Timeout: 30 * time.Second})

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return defaultHTTP
}

// call is one service request.
type call struct {
	op          string
	method      string
	url         string
	scopes      []string
	accept      string
	contentType string
	body        []byte
}

// response is a successful answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends the request with a bearer token; when the platform answers 401 it
// fetches a fresh token and tries once more.
func (c *Client) do(ctx context.Context, reg lti.Registration, r call) (*response, error) {
	if c.Tokens == nil {
		return nil, &Error{Op: r.op, Err: errors.New("client has no token source")}
	}
	for attempt := 0; ; attempt++ {
		token, err := c.Tokens.Token(ctx, reg, r.scopes)
		if err != nil {
			return nil, err
		}
		resp, err := c.send(ctx, r, token)
		var e *Error
		if attempt == 0 && errors.As(err, &e) && e.Status == http.StatusUnauthorized {
			c.Tokens.invalidateToken(reg, r.scopes, token)
			continue
		}
		return resp, err
	}
}

func (c *Client) send(ctx context.Context, r call, token string) (*response, error) {
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, r.url, body)
	if err != nil {
		return nil, &Error{Op: r.op, Err: err}
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("User-Agent", lti.UserAgent)
	if r.accept != "" {
		req.Header.Set("Accept", r.accept)
	}
	if r.contentType != "" {
		req.Header.Set("Content-Type", r.contentType)
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return nil, &Error{Op: r.op, Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, &Error{Op: r.op, Status: resp.StatusCode, Err: err}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, &Error{Op: r.op, Status: resp.StatusCode, Body: truncate(data),
			RetryAfter: ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())}
	}
	if len(data) > maxBody {
		return nil, &Error{Op: r.op, Status: resp.StatusCode, Err: fmt.Errorf("answer larger than %d bytes", maxBody)}
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: data}, nil
}

// withQuery adds parameters to a service URL, keeping the ones it has
// (Moodle's line item URLs carry their own query string).
func withQuery(raw string, params url.Values) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	if !u.IsAbs() {
		return "", fmt.Errorf("service URL %q is not absolute", raw)
	}
	q := u.Query()
	for k, vs := range params {
		for _, v := range vs {
			if v != "" {
				q.Set(k, v)
			}
		}
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// nextPage resolves the rel="next" link of an answer. It stays on the
// origin of the first page: the bearer token must not follow a link to
// another host.
func nextPage(base *url.URL, header http.Header) (*url.URL, error) {
	next := ParseLinkNext(header.Values("Link"))
	if next == "" {
		return nil, nil
	}
	u, err := base.Parse(next)
	if err != nil {
		return nil, fmt.Errorf("next page link %q: %w", next, err)
	}
	if u.Scheme != base.Scheme || u.Host != base.Host {
		return nil, fmt.Errorf("next page link %q leaves %s://%s", next, base.Scheme, base.Host)
	}
	return u, nil
}

// ParseLinkNext returns the target of the first link with relation "next"
// in RFC 8288 Link header values, or "". It copes with several header lines,
// several links per line, commas and semicolons inside <...>, unquoted or
// quoted rel values and rel lists ("next last").
func ParseLinkNext(values []string) string {
	for _, v := range values {
		for len(v) > 0 {
			start := strings.IndexByte(v, '<')
			if start < 0 {
				break
			}
			end := strings.IndexByte(v[start+1:], '>')
			if end < 0 {
				break
			}
			target := v[start+1 : start+1+end]
			v = v[start+1+end+1:]
			// The parameters run to the next link, which starts with '<'
			// outside quotes.
			params, rest := splitParams(v)
			v = rest
			if hasRel(params, "next") && !strings.Contains(target, "<") {
				return strings.TrimSpace(target)
			}
		}
	}
	return ""
}

// splitParams cuts the parameters of one link from what follows it.
func splitParams(s string) (params, rest string) {
	inQuote := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && inQuote:
			i++
		case c == '"':
			inQuote = !inQuote
		case c == '<' && !inQuote:
			return s[:i], s[i:]
		}
	}
	return s, ""
}

func hasRel(params, rel string) bool {
	parts := splitOutsideQuotes(params, ';')
	// Parameters follow a ';': what comes before the first one is not one.
	for _, p := range parts[1:] {
		name, value, ok := strings.Cut(p, "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(name), "rel") {
			continue
		}
		// The comma before the next link stays attached to the last value.
		value = strings.TrimRight(strings.TrimSpace(value), ", ")
		value = strings.TrimSuffix(strings.TrimPrefix(value, `"`), `"`)
		for _, r := range strings.Fields(value) {
			if strings.EqualFold(r, rel) {
				return true
			}
		}
	}
	return false
}

func splitOutsideQuotes(s string, sep byte) []string {
	var out []string
	inQuote, from := false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && inQuote:
			i++
		case c == '"':
			inQuote = !inQuote
		case c == sep && !inQuote:
			out = append(out, s[from:i])
			from = i + 1
		}
	}
	if from <= len(s) {
		out = append(out, s[from:])
	}
	return out
}
