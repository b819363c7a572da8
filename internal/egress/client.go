package egress

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Defaults of a client.
const (
	DefaultTimeout      = 15 * time.Second
	DefaultMaxRedirects = 3
	// DefaultMaxBody bounds one answer: a page of a large course roster
	// fits with room to spare.
	DefaultMaxBody   = 8 << 20
	DefaultUserAgent = "Roundtable (+https://github.com/roundtable-lms/roundtable)"

	dialTimeout = 5 * time.Second
)

// Config says where a client may connect and how much it may wait for and
// read.
type Config struct {
	// Allow lists the non-public hosts and networks the operator allows.
	Allow Allowlist
	// Timeout bounds a whole exchange, redirects and body included.
	Timeout time.Duration
	// MaxRedirects is how many redirects one request follows.
	MaxRedirects int
	// MaxBody bounds an answer's body; reading past it fails with
	// ErrBodyTooLarge.
	MaxBody int64
	// UserAgent is sent when a request sets none (some Moodle sites refuse
	// a key set request without one).
	UserAgent string
}

// RefusedError is a connection the client would not make: the address is
// not public and the operator did not allow it.
type RefusedError struct {
	Addr netip.Addr
	// Why names the kind of address: loopback, private, link-local...
	Why string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("egress: refused to connect to %s, a %s address (allow it with ROUNDTABLE_ALLOW_PRIVATE_NETWORKS)", e.Addr, e.Why)
}

var (
	// ErrRedirectRefused is a redirect the client does not follow.
	ErrRedirectRefused = errors.New("egress: redirect not followed")
	// ErrBodyTooLarge is an answer longer than the client reads.
	ErrBodyTooLarge = errors.New("egress: answer too large")
)

// Refused reports whether err is, or wraps, a refused connection.
func Refused(err error) (*RefusedError, bool) {
	var re *RefusedError
	ok := errors.As(err, &re)
	return re, ok
}

// NewClient returns a client for URLs an LMS supplied. It connects only to
// public addresses and those cfg.Allow lists, checked on the address
// actually dialled (after DNS resolution, on every redirect and every new
// connection, so DNS rebinding gains nothing); it never uses a proxy from
// the environment; it follows a few redirects, and only to the same site
// for anything but GET and HEAD; and it bounds time and body sizes.
func NewClient(cfg Config) *http.Client {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxRedirects <= 0 {
		cfg.MaxRedirects = DefaultMaxRedirects
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = DefaultUserAgent
	}
	allow := cfg.Allow
	checked := &net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second,
		ControlContext: func(_ context.Context, network, address string, _ syscall.RawConn) error {
			return check(allow, network, address)
		}}
	trusted := &net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}

	t := http.DefaultTransport.(*http.Transport).Clone()
	// A proxy would be dialled instead of the LMS, and the check would
	// judge the proxy's address.
	t.Proxy = nil
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if host, _, err := net.SplitHostPort(addr); err == nil && allow.AllowsHost(host) {
			return trusted.DialContext(ctx, network, addr)
		}
		return checked.DialContext(ctx, network, addr)
	}
	t.TLSHandshakeTimeout = 10 * time.Second
	t.ResponseHeaderTimeout = cfg.Timeout
	t.MaxResponseHeaderBytes = 64 << 10
	return &http.Client{
		Transport:     &bounded{next: t, maxBody: cfg.MaxBody, userAgent: cfg.UserAgent},
		Timeout:       cfg.Timeout,
		CheckRedirect: redirectPolicy(cfg.MaxRedirects),
	}
}

// check judges the address the dialer is about to connect to.
func check(allow Allowlist, network, address string) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &RefusedError{Why: "unparsable"}
	}
	if network != "tcp4" && network != "tcp6" && network != "tcp" {
		return &RefusedError{Addr: ap.Addr(), Why: network}
	}
	if allow.AllowsAddr(ap.Addr()) {
		return nil
	}
	if why, refused := Forbidden(ap.Addr()); refused {
		return &RefusedError{Addr: ap.Addr().WithZone(""), Why: why}
	}
	return nil
}

func redirectPolicy(max int) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		first, prev := via[0], via[len(via)-1]
		switch {
		case len(via) > max:
			return fmt.Errorf("%w: more than %d redirects", ErrRedirectRefused, max)
		case req.URL.Scheme != "http" && req.URL.Scheme != "https":
			return fmt.Errorf("%w: to a %s: URL", ErrRedirectRefused, req.URL.Scheme)
		case prev.URL.Scheme == "https" && req.URL.Scheme == "http":
			return fmt.Errorf("%w: from https to plain http", ErrRedirectRefused)
		case first.Method != http.MethodGet && first.Method != http.MethodHead && !SameOrigin(first.URL, req.URL):
			return fmt.Errorf("%w: a %s is not sent on to another site (%s)", ErrRedirectRefused, first.Method, req.URL.Host)
		}
		return nil
	}
}

// SameOrigin reports whether two URLs share scheme, host and port (the
// scheme's default port when none is written).
func SameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) && port(a) == port(b)
}

func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return "443"
	case "http":
		return "80"
	}
	return ""
}

// bounded sets the User-Agent and caps every answer's body.
type bounded struct {
	next      http.RoundTripper
	maxBody   int64
	userAgent string
}

func (b *bounded) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Header.Get("User-Agent") == "" {
		req = req.Clone(req.Context())
		req.Header.Set("User-Agent", b.userAgent)
	}
	resp, err := b.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = &cappedBody{rc: resp.Body, left: b.maxBody}
	return resp, nil
}

type cappedBody struct {
	rc   io.ReadCloser
	left int64
}

func (c *cappedBody) Read(p []byte) (int, error) {
	if c.left <= 0 {
		var one [1]byte
		if n, err := c.rc.Read(one[:]); n > 0 {
			return 0, ErrBodyTooLarge
		} else if err != nil {
			return 0, err
		}
		return 0, nil
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.rc.Read(p)
	c.left -= int64(n)
	return n, err
}

func (c *cappedBody) Close() error { return c.rc.Close() }
