package metrics

import (
	"encoding/json"
	"reflect"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/trulience-token/trulience-token/internal/httpapi"
)

// encodeJSON is encode as it was written with encoding/json: the reference.
func (w *Writer) encodeJSON(m httpapi.Measure) []byte {
	root := map[string]any{}
	values := map[string]int{}
	if m.Token {
		values[TokensIssued] = 1
	}
	code := ""
	if m.Code != "" {
		code = m.Code
		if !codeOK(code) {
			code = "other"
		}
		values[Refused] = 1
		switch code {
		case codeLimitExceeded:
			values[LimitExceeded] = 1
		case codeBotCheckFailed:
			values[BotCheckFailed] = 1
		}
	}
	if m.UpstreamError {
		values[UpstreamErrors] = 1
	}
	names := append([]string(nil), counts[:]...)
	extra := []string{}
	for name, n := range m.Counts {
		if !nameOK(name) || name == Reason {
			continue
		}
		if _, known := values[name]; !known && !slices.Contains(counts[:], name) {
			extra = append(extra, name)
		}
		values[name] += n
	}
	sort.Strings(extra)
	names = append(names, extra...)

	plain := directive{Namespace: w.namespace, Dimensions: [][]string{{}}}
	for _, name := range names {
		root[name] = values[name]
		plain.Metrics = append(plain.Metrics, metricDef{Name: name, Unit: "Count"})
	}
	if m.Upstream {
		root[UpstreamLatency] = float64(m.UpstreamLatency.Microseconds()) / 1000
		plain.Metrics = append(plain.Metrics, metricDef{Name: UpstreamLatency, Unit: "Milliseconds"})
	}
	directives := []directive{plain}
	if code != "" {
		root[Reason] = code
		directives = append(directives, directive{
			Namespace:  w.namespace,
			Dimensions: [][]string{{Reason}},
			Metrics:    []metricDef{{Name: Refused, Unit: "Count"}},
		})
	}
	if w.version != "" {
		root[FunctionName] = w.function
		root[FunctionVersion] = w.version
		root[ServerErrors] = 0
		if m.Status >= 500 {
			root[ServerErrors] = 1
		}
		directives = append(directives, directive{
			Namespace:  w.namespace,
			Dimensions: [][]string{{FunctionName, FunctionVersion}},
			Metrics:    []metricDef{{Name: ServerErrors, Unit: "Count"}},
		})
	}
	root["_aws"] = map[string]any{
		"Timestamp":         w.now().UnixMilli(),
		"CloudWatchMetrics": directives,
	}
	b, _ := json.Marshal(root)
	return append(b, '\n')
}

// TestEncodeAsEncodingJSON: the hand-written record holds the same JSON as
// encoding/json made of it, for every kind of request.
func TestEncodeAsEncodingJSON(t *testing.T) {
	plain := NewWriter(nil, "Shop/Avatar tokens")
	versioned := NewWriter(nil, "Shop/Avatar tokens").WithVersion("stack-TokenFunction-AbC123", "12")
	for _, w := range []*Writer{plain, versioned} {
		w.now = func() time.Time { return time.UnixMilli(1764655200123) }
	}
	for _, m := range []httpapi.Measure{
		{Status: 200, Token: true, Upstream: true, UpstreamLatency: 41234 * time.Microsecond},
		{Status: 200, Token: true, Upstream: true, UpstreamLatency: 40 * time.Millisecond},
		{Status: 429, Code: "limit_exceeded", Counts: map[string]int{"LimitsUnavailable": 1}},
		{Status: 403, Code: "bot_check_failed"},
		{Status: 502, Code: "upstream_error", Upstream: true, UpstreamError: true, UpstreamLatency: 3 * time.Second},
		{Status: 400, Code: "Not-A-Code"},
		{Status: 200, Token: true, Counts: map[string]int{"ZetaChecks": 2, "AlphaChecks": 1, "bad name": 1, "Reason": 1}},
	} {
		for _, w := range []*Writer{plain, versioned} {
			var got, want any
			if err := json.Unmarshal(w.encode(m), &got); err != nil {
				t.Fatalf("%+v: %s is not JSON: %v", m, w.encode(m), err)
			}
			_ = json.Unmarshal(w.encodeJSON(m), &want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%+v:\n got %s\nwant %s", m, w.encode(m), w.encodeJSON(m))
			}
		}
	}
}

func BenchmarkEncode(b *testing.B) {
	w := NewWriter(nil, DefaultNamespace)
	m := httpapi.Measure{Status: 200, Token: true, Upstream: true, UpstreamLatency: 41 * time.Millisecond}
	b.Run("by hand", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			w.encode(m)
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			w.encodeJSON(m)
		}
	})
}
