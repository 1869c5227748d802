package config

import (
	"strings"
	"testing"
)

func TestParseNamespace(t *testing.T) {
	for v, want := range map[string]string{"": DefaultMetricsNamespace, " My/App ": "My/App", "a.b_c-d#e:f": "a.b_c-d#e:f", strings.Repeat("a", 255): strings.Repeat("a", 255)} {
		if got, err := parseNamespace(v); err != nil || got != want {
			t.Errorf("%q: %q, %v", v, got, err)
		}
	}
	for _, v := range []string{"AWS/Lambda", "bad\nname", "tab\there", "é", "a*b", strings.Repeat("x", 256)} {
		if _, err := parseNamespace(v); err == nil {
			t.Errorf("%q accepted", v)
		}
	}
}
