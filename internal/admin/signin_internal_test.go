package admin

import (
	"net/netip"
	"testing"
)

// The client address comes from the request: whatever it is, it maps to
// one subject without panicking, and addresses of one IPv6 /64 (or one
// IPv4 address, however written) share it.
func FuzzAddressSubject(f *testing.F) {
	for _, s := range []string{"192.0.2.1", "::ffff:192.0.2.1", "2001:db8::1", "fe80::1%eth0", "", "not an address", "2001:db8:0:0:ffff::"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, addr string) {
		sub := addressSubject(addr, DefaultAddressBackoff)
		if len(sub.hash) != 64 || sub.by != "address" {
			t.Fatalf("%q: subject %+v", addr, sub)
		}
		ip, err := netip.ParseAddr(addr)
		if err != nil {
			return
		}
		ip = ip.WithZone("").Unmap()
		if ip.Is6() {
			b := ip.As16()
			b[15] ^= 0xff
			b[8] ^= 0x01
			if other := addressSubject(netip.AddrFrom16(b).String(), DefaultAddressBackoff); other.hash != sub.hash {
				t.Errorf("%s and %s, in one /64, count apart", addr, netip.AddrFrom16(b))
			}
			b[7] ^= 0x01
			if other := addressSubject(netip.AddrFrom16(b).String(), DefaultAddressBackoff); other.hash == sub.hash {
				t.Errorf("%s and %s, in two /64s, count together", addr, netip.AddrFrom16(b))
			}
		} else if other := addressSubject(ip.String(), DefaultAddressBackoff); other.hash != sub.hash {
			t.Errorf("%q and %s count apart", addr, ip)
		}
	})
}
