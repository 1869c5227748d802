package metrics

import (
	"strings"
	"testing"
)

func TestChecks(t *testing.T) {
	tests := []struct {
		name string
		ok   func(string) bool
		good []string
		bad  []string
	}{
		{"code", codeOK,
			[]string{"limit_exceeded", "a", strings.Repeat("a", 40)},
			[]string{"", "_x", "Upper", "x-y", "x1", strings.Repeat("a", 41)}},
		{"name", nameOK,
			[]string{"TokensIssued", "A1", strings.Repeat("A", 64)},
			[]string{"", "1A", "a_b", "a b", strings.Repeat("A", 65)}},
	}
	for _, tt := range tests {
		for _, s := range tt.good {
			if !tt.ok(s) {
				t.Errorf("%s %q refused", tt.name, s)
			}
		}
		for _, s := range tt.bad {
			if tt.ok(s) {
				t.Errorf("%s %q accepted", tt.name, s)
			}
		}
	}
}
