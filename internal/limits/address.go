package limits

import "net/netip"

// addressKey is what a source address counts as: an IPv4 address as
// itself, also when it arrives IPv4-mapped (::ffff:192.0.2.1); an IPv6
// address as its /64, the block a single host or home network is given,
// so one host cannot get a new window from each of its 2^64 addresses.
// A value that is no address counts as it came.
func addressKey(s string) string {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return s
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, err := a.WithZone("").Prefix(64)
	if err != nil {
		return s
	}
	return p.String()
}
