package lti

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// maxWebURL bounds a URL Roundtable keeps from an LMS or an administrator.
const maxWebURL = 2048

// CheckWebURL checks a URL that an LMS sent or an administrator typed,
// before Roundtable saves it or builds anything from it: https (http only on
// a loopback host, a local LMS), a host made of DNS labels or an IP literal,
// a numeric port in range, no user info, and only characters a URL may
// hold. Every URL of a registration and every service URL of a launch goes
// through it, so that a host such as "lms.example;sandbox" never reaches a
// header or a request. It returns the URL parsed.
func CheckWebURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, errors.New("is required")
	}
	if len(raw) > maxWebURL {
		return nil, fmt.Errorf("is longer than %d characters", maxWebURL)
	}
	if i := invalidURLChar(raw); i >= 0 {
		return nil, fmt.Errorf("%q has a character a URL cannot hold at position %d", raw, i+1)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return nil, fmt.Errorf("%q is not an absolute URL", raw)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%q must not carry a user name or password", raw)
	}
	if _, authority, _ := strings.Cut(raw, "//"); strings.ContainsRune(authority[:authorityEnd(authority)], '%') {
		return nil, fmt.Errorf("%q has an escaped host", raw)
	}
	if err := checkHostPort(u.Host); err != nil {
		return nil, fmt.Errorf("%q %v", raw, err)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !loopbackHost(u.Hostname()) {
			return nil, fmt.Errorf("%q must use https", raw)
		}
	default:
		return nil, fmt.Errorf("%q must use https", raw)
	}
	return u, nil
}

// WebOrigin is the origin (scheme://host[:port]) of a URL that CheckWebURL
// accepts, in one spelling: the host in lower case, the scheme's default
// port left out.
func WebOrigin(raw string) (string, error) {
	u, err := CheckWebURL(raw)
	if err != nil {
		return "", err
	}
	return serializeOrigin(u.Scheme, u.Hostname(), u.Port()), nil
}

// CheckFrameOrigin checks an origin before it goes into a
// Content-Security-Policy source list (frame-ancestors): the form
// WebOrigin returns, where the host may also begin with one wildcard label
// ("https://*.instructure.com"). It returns the origin in WebOrigin's
// spelling. A stored value that fails is never pasted into a header.
func CheckFrameOrigin(o string) (string, error) {
	scheme, rest, ok := strings.Cut(o, "://")
	if !ok || (scheme != "https" && scheme != "http") {
		return "", fmt.Errorf("origin %q is not scheme://host", o)
	}
	wildcard := strings.HasPrefix(rest, "*.")
	if wildcard {
		rest = rest[2:]
	}
	if rest == "" || strings.ContainsAny(rest, "/?#@") {
		return "", fmt.Errorf("origin %q is not scheme://host", o)
	}
	origin, err := WebOrigin(scheme + "://" + rest)
	if err != nil {
		return "", err
	}
	if wildcard {
		if strings.HasPrefix(rest, "[") || net.ParseIP(strings.TrimSuffix(strings.SplitN(rest, ":", 2)[0], ".")) != nil {
			return "", fmt.Errorf("origin %q puts a wildcard on an IP address", o)
		}
		origin = scheme + "://*." + strings.TrimPrefix(origin, scheme+"://")
	}
	return origin, nil
}

// authorityEnd is where the authority ends in what follows "scheme://".
func authorityEnd(s string) int {
	if i := strings.IndexAny(s, "/?#"); i >= 0 {
		return i
	}
	return len(s)
}

func serializeOrigin(scheme, host, port string) string {
	host = strings.ToLower(host)
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" && !(scheme == "https" && port == "443") && !(scheme == "http" && port == "80") {
		host += ":" + port
	}
	return scheme + "://" + host
}

// invalidURLChar returns the index of the first byte that RFC 3986 does not
// allow in a URL (a percent sign must start an escape), or -1.
func invalidURLChar(s string) int {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("-._~:/?#[]@!$&'()*+,;=", c) >= 0:
		case c == '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return i
			}
		default:
			return i
		}
	}
	return -1
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// checkHostPort checks the host[:port] of a URL: DNS labels or an IP
// literal (IPv6 in brackets), and a port from 1 to 65535.
func checkHostPort(hostport string) error {
	host, port := hostport, ""
	if strings.HasPrefix(hostport, "[") {
		end := strings.IndexByte(hostport, ']')
		if end < 0 {
			return errors.New("has a malformed IPv6 address")
		}
		host, port = hostport[1:end], hostport[end+1:]
		if ip := net.ParseIP(host); ip == nil || ip.To4() != nil || strings.Contains(host, "%") {
			return errors.New("has a malformed IPv6 address")
		}
		if port != "" && port[0] != ':' {
			return errors.New("has a malformed port")
		}
		port = strings.TrimPrefix(port, ":")
	} else if i := strings.LastIndexByte(hostport, ':'); i >= 0 {
		host, port = hostport[:i], hostport[i+1:]
		if !validHostName(host) {
			return errors.New("has a host that is not a domain name or IP address")
		}
	} else if !validHostName(host) {
		return errors.New("has a host that is not a domain name or IP address")
	}
	if port != "" || strings.HasSuffix(hostport, ":") {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || strings.TrimLeft(port, "0123456789") != "" {
			return errors.New("has a port that is not a number from 1 to 65535")
		}
	}
	return nil
}

// validHostName accepts an IPv4 address or a name of DNS labels: letters,
// digits and inner hyphens, 1 to 63 characters each, 253 in all, whose last
// label is not all digits (that would be a malformed IPv4 address).
func validHostName(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	if ip := net.ParseIP(h); ip != nil {
		return ip.To4() != nil
	}
	labels := strings.Split(h, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return strings.Trim(labels[len(labels)-1], "0123456789") != ""
}

// loopbackHost reports whether host names this machine: localhost, a
// *.localhost name or a loopback address.
func loopbackHost(host string) bool {
	h := strings.ToLower(host)
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
