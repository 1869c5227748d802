package metrics

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/trulience-token/trulience-token/internal/httpapi"
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

// TestServerErrorsPerVersion: with a version, every record counts 5xx
// answers under the FunctionVersion dimension, 0 for the others; without
// one (or with a value that is no version) there is no such metric.
func TestServerErrorsPerVersion(t *testing.T) {
	at := time.UnixMilli(1_700_000_000_000)
	for _, tt := range []struct {
		version string
		status  int
		want    any // ServerErrors in the record; nil: absent
	}{
		{"7", 503, 1.0},
		{"7", 500, 1.0},
		{"7", 200, 0.0},
		{"7", 429, 0.0},
		{"$LATEST", 502, 1.0},
		{"", 503, nil},
		{"7;x", 503, nil},
	} {
		w := NewWriter(nil, DefaultNamespace).WithVersion("stack-TokenFunction-AbC123", tt.version)
		w.now = func() time.Time { return at }
		var rec map[string]any
		if err := json.Unmarshal(w.encode(httpapi.Measure{Status: tt.status}), &rec); err != nil {
			t.Fatal(err)
		}
		if got := rec[ServerErrors]; got != tt.want {
			t.Errorf("version %q, status %d: ServerErrors = %v, want %v", tt.version, tt.status, got, tt.want)
		}
		directives := rec["_aws"].(map[string]any)["CloudWatchMetrics"].([]any)
		found := false
		for _, d := range directives {
			dims, _ := json.Marshal(d.(map[string]any)["Dimensions"])
			if string(dims) == `[["FunctionName","FunctionVersion"]]` {
				found = true
				if rec[FunctionVersion] != tt.version || rec[FunctionName] != "stack-TokenFunction-AbC123" {
					t.Errorf("FunctionName, FunctionVersion = %v, %v; want stack-TokenFunction-AbC123, %q", rec[FunctionName], rec[FunctionVersion], tt.version)
				}
			}
		}
		if found != (tt.want != nil) {
			t.Errorf("version %q: FunctionVersion directive present %v", tt.version, found)
		}
	}
}
