package kit

import (
	"net"
	"net/http/httptest"
	"testing"
)

// c.RealIP() is the connection's address unless the connection comes from
// a trusted proxy; then it is the nearest address in X-Forwarded-For that
// is not a trusted proxy, so what a client writes there itself is ignored.
func TestClientAddressTrustsOnlyTheListedProxies(t *testing.T) {
	cidr := func(s string) *net.IPNet {
		_, n, err := net.ParseCIDR(s)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	proxies := []*net.IPNet{cidr("10.1.0.0/16"), cidr("2001:db8::/32")}
	for _, tc := range []struct {
		name, remote, xff string
		proxies           []*net.IPNet
		want              string
	}{
		{"no setting: a spoofed header is ignored", "198.51.100.7:5000", "203.0.113.9", nil, "198.51.100.7"},
		{"no setting, from a private address", "10.1.2.3:5000", "203.0.113.9", nil, "10.1.2.3"},
		{"from a trusted proxy", "10.1.2.3:5000", "203.0.113.9", proxies, "203.0.113.9"},
		{"a client's own entry before the proxy's is ignored", "10.1.2.3:5000", "192.0.2.66, 203.0.113.9", proxies, "203.0.113.9"},
		{"a chain of trusted proxies", "10.1.2.3:5000", "203.0.113.9, 10.1.9.9", proxies, "203.0.113.9"},
		{"a private address that is not listed is not trusted", "192.168.1.5:5000", "203.0.113.9", proxies, "192.168.1.5"},
		{"loopback is not trusted unless listed", "127.0.0.1:5000", "203.0.113.9", proxies, "127.0.0.1"},
		{"IPv6 proxy", "[2001:db8::1]:5000", "2001:db8:ffff::1, 2a00:1450::5", proxies, "2a00:1450::5"},
		{"no header from a trusted proxy", "10.1.2.3:5000", "", proxies, "10.1.2.3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/lti/login", nil)
			r.RemoteAddr = tc.remote
			if tc.xff != "" {
				r.Header.Set("X-Forwarded-For", tc.xff)
			}
			if got := ClientAddress(tc.proxies)(r); got != tc.want {
				t.Errorf("client %q, want %q", got, tc.want)
			}
		})
	}
}
