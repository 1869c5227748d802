package limits

import (
	"testing"
	"time"

	"github.com/trulience-token/trulience-token/internal/httpapi"
)

func TestAddressKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1":                  "192.0.2.1",
		"::ffff:192.0.2.1":           "192.0.2.1",
		"::ffff:c000:201":            "192.0.2.1",
		"2001:db8:1:2::1":            "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff:ffff:0:9": "2001:db8:1:2::/64",
		"2001:DB8:1:2::1":            "2001:db8:1:2::/64",
		"fe80::1%eth0":               "fe80::/64",
		"::1":                        "::/64",
		"":                           "",
		"not an address":             "not an address",
	} {
		if got := addressKey(in); got != want {
			t.Errorf("addressKey(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestIPv6VisitorIsItsPrefix: every address of one /64 shares one window;
// another /64 has its own; an IPv4-mapped address shares its IPv4 window.
func TestIPv6VisitorIsItsPrefix(t *testing.T) {
	g := guardAt(Settings{Client: Rate{N: 2, Window: 10 * time.Minute}, HashKey: "k"}, newMem(), t0)
	take := func(ip string) bool {
		return g.Check(t.Context(), httpapi.Visitor{SourceIP: ip}).Refuse == nil
	}
	for _, step := range []struct {
		ip   string
		want bool
	}{
		{"2001:db8:1:2::1", true},
		{"2001:db8:1:2::dead:beef", true},
		{"2001:db8:1:2:ffff:ffff:ffff:ffff", false},
		{"2001:db8:1:3::1", true},
		{"::ffff:198.51.100.7", true},
		{"198.51.100.7", true},
		{"::ffff:198.51.100.7", false},
		{"198.51.100.8", true},
	} {
		if got := take(step.ip); got != step.want {
			t.Errorf("%s: served %v, want %v", step.ip, got, step.want)
		}
	}
}
