package egress

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Allowlist names the hosts and networks an operator lets Roundtable reach
// although they are not public: an LMS on the campus network, or the demo
// LMS on loopback. The zero value allows nothing but public addresses.
type Allowlist struct {
	prefixes []netip.Prefix
	// hosts are lower-case DNS names: a URL naming one may reach whatever
	// address it resolves to.
	hosts []string
}

// Loopback allows 127.0.0.0/8 and ::1, for the demo and the tests, whose
// LMS runs on the same machine.
var Loopback = Allowlist{prefixes: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}}

// maxAllowEntries bounds the list; an operator lists a few networks.
const maxAllowEntries = 256

// ParseAllowlist reads a list of CIDR networks (10.20.0.0/16, fd00::/8),
// single addresses (192.168.1.10) and host names (lms.campus.internal),
// separated by commas or spaces.
func ParseAllowlist(s string) (Allowlist, error) {
	var a Allowlist
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r' })
	if len(fields) > maxAllowEntries {
		return Allowlist{}, fmt.Errorf("more than %d entries", maxAllowEntries)
	}
	for _, f := range fields {
		switch {
		case strings.Contains(f, "/"):
			p, err := netip.ParsePrefix(f)
			if err != nil {
				return Allowlist{}, fmt.Errorf("%q is not a network in CIDR form (for example 10.20.0.0/16)", f)
			}
			if p.Addr().Zone() != "" {
				return Allowlist{}, fmt.Errorf("%q: a network cannot name an interface zone", f)
			}
			if p.Addr().Is4In6() && p.Bits() >= 96 {
				// ::ffff:10.0.0.0/104 is 10.0.0.0/8 written in IPv6.
				p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
			}
			a.prefixes = append(a.prefixes, p.Masked())
		case isAddr(strings.TrimSuffix(f, ".")):
			ip, err := netip.ParseAddr(f)
			if err != nil || ip.Zone() != "" {
				return Allowlist{}, fmt.Errorf("%q is not an IP address", f)
			}
			a.prefixes = append(a.prefixes, netip.PrefixFrom(ip.Unmap(), ip.Unmap().BitLen()))
		default:
			h := strings.ToLower(strings.TrimSuffix(f, "."))
			if !validHostName(h) {
				return Allowlist{}, fmt.Errorf("%q is not a network, an IP address or a host name", f)
			}
			a.hosts = append(a.hosts, h)
		}
	}
	slices.SortFunc(a.prefixes, func(x, y netip.Prefix) int { return strings.Compare(x.String(), y.String()) })
	a.prefixes = slices.Compact(a.prefixes)
	slices.Sort(a.hosts)
	a.hosts = slices.Compact(a.hosts)
	return a, nil
}

// isAddr tells an IP address from a host name: IPv6 has colons, and a
// dotted name whose last label is all digits is meant as IPv4.
func isAddr(s string) bool {
	if strings.Contains(s, ":") {
		return true
	}
	last := s[strings.LastIndex(s, ".")+1:]
	return last != "" && strings.Trim(last, "0123456789") == ""
}

// validHostName accepts DNS names of letters, digits, hyphens and dots
// (and underscores, which some internal zones use).
func validHostName(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}

// Union is the list that allows what either list allows.
func (a Allowlist) Union(b Allowlist) Allowlist {
	out := Allowlist{prefixes: slices.Concat(a.prefixes, b.prefixes), hosts: slices.Concat(a.hosts, b.hosts)}
	slices.SortFunc(out.prefixes, func(x, y netip.Prefix) int { return strings.Compare(x.String(), y.String()) })
	out.prefixes = slices.Compact(out.prefixes)
	slices.Sort(out.hosts)
	out.hosts = slices.Compact(out.hosts)
	return out
}

// IsZero reports whether the list allows nothing.
func (a Allowlist) IsZero() bool { return len(a.prefixes) == 0 && len(a.hosts) == 0 }

// AllowsHost reports whether the operator allowed this host name, whatever
// it resolves to.
func (a Allowlist) AllowsHost(host string) bool {
	return slices.Contains(a.hosts, strings.ToLower(strings.TrimSuffix(host, ".")))
}

// AllowsAddr reports whether ip lies in an allowed network.
func (a Allowlist) AllowsAddr(ip netip.Addr) bool {
	ip = ip.WithZone("").Unmap()
	for _, p := range a.prefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// String lists the entries as ParseAllowlist reads them.
func (a Allowlist) String() string {
	parts := make([]string, 0, len(a.prefixes)+len(a.hosts))
	for _, p := range a.prefixes {
		parts = append(parts, p.String())
	}
	return strings.Join(append(parts, a.hosts...), ",")
}
