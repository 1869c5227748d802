// Package metrics writes one CloudWatch embedded metric format (EMF) record
// per request to standard output, where Lambda's log capture hands it to
// CloudWatch Logs, which turns it into metrics. No AWS-maintained Go EMF
// library exists, so the record is written by hand; it follows the
// specification: an "_aws" object with the Timestamp in milliseconds and
// CloudWatchMetrics directives, and every metric and dimension the
// directives name as a member of the record's root object.
package metrics

import (
	"context"
	"encoding/json"
	"io"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/trulience-token/trulience-token/internal/config"
	"github.com/trulience-token/trulience-token/internal/httpapi"
)

// DefaultNamespace is the CloudWatch namespace when METRICS_NAMESPACE is unset.
const DefaultNamespace = config.DefaultMetricsNamespace

// Metric names. Every record carries all the counts (0 or more), so sums
// and alarms see every request; UpstreamLatency only when Trulience was
// called.
const (
	TokensIssued      = "TokensIssued"
	Refused           = "Refused"
	UpstreamLatency   = "UpstreamLatency"
	UpstreamErrors    = "UpstreamErrors"
	LimitExceeded     = "LimitExceeded"
	BotCheckFailed    = "BotCheckFailed"
	LimitsUnavailable = "LimitsUnavailable"
	// ServerErrors is 1 when the answer was a 5xx, counted per
	// FunctionVersion: a gradual release rolls back when the version being
	// released answers them.
	ServerErrors = "ServerErrors"
	// Reason is the dimension of Refused: the error code of a refusal.
	Reason = "Reason"
	// FunctionVersion is the dimension of ServerErrors: the Lambda version
	// that answered (a small number, or $LATEST).
	FunctionVersion = "FunctionVersion"
)

// Error codes counted under their own metric as well as under Refused.
const (
	codeLimitExceeded  = "limit_exceeded"
	codeBotCheckFailed = "bot_check_failed"
)

// counts are the count metrics every record carries, in order.
var counts = []string{TokensIssued, Refused, UpstreamErrors, LimitExceeded, BotCheckFailed, LimitsUnavailable}

// The character checks below are loops, not regular expressions: a
// compiled {1,255} repetition costs most of a millisecond of every cold
// start's package initialization.

// codeOK reports whether s looks like an error code: a lower-case letter,
// then up to 39 lower-case letters and underscores. Anything else (which
// the function never sends) is reported as "other", so the Reason
// dimension stays a small fixed set.
func codeOK(s string) bool {
	return charsOK(s, 1, 40, func(c byte, i int) bool {
		return c >= 'a' && c <= 'z' || i > 0 && c == '_'
	})
}

// nameOK reports whether s looks like a noted metric name: a letter, then
// up to 63 letters and digits.
func nameOK(s string) bool {
	return charsOK(s, 1, 64, func(c byte, i int) bool {
		return isAlnum(c) && (i > 0 || c > '9')
	})
}

func charsOK(s string, minLen, maxLen int, ok func(c byte, i int) bool) bool {
	if len(s) < minLen || len(s) > maxLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !ok(s[i], i) {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// Writer writes each request's record as one line to W. It is an
// httpapi.Meter.
type Writer struct {
	w         io.Writer
	namespace string
	version   string
	now       func() time.Time
	mu        sync.Mutex
}

// NewWriter returns a Writer to w (os.Stdout in the function) in namespace.
func NewWriter(w io.Writer, namespace string) *Writer {
	return &Writer{w: w, namespace: namespace, now: time.Now}
}

// WithVersion makes each record count ServerErrors for version (Lambda's
// AWS_LAMBDA_FUNCTION_VERSION: a number, or $LATEST). Without it, or with
// any other value, there is no ServerErrors metric.
func (w *Writer) WithVersion(version string) *Writer {
	if version == "$LATEST" || versionOK(version) {
		w.version = version
	}
	return w
}

// versionOK reports whether v is a published version's number (1-10 digits).
func versionOK(v string) bool {
	return charsOK(v, 1, 10, func(c byte, _ int) bool { return c >= '0' && c <= '9' })
}

type metricDef struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

type directive struct {
	Namespace  string      `json:"Namespace"`
	Dimensions [][]string  `json:"Dimensions"`
	Metrics    []metricDef `json:"Metrics"`
}

// Record writes m's record.
func (w *Writer) Record(_ context.Context, m httpapi.Measure) {
	line := w.encode(m)
	w.mu.Lock()
	defer w.mu.Unlock()
	_, _ = w.w.Write(line)
}

// encode is m's record, one JSON line.
func (w *Writer) encode(m httpapi.Measure) []byte {
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
	names := append([]string(nil), counts...)
	extra := []string{}
	for name, n := range m.Counts {
		if !nameOK(name) || name == Reason {
			continue
		}
		if _, known := values[name]; !known && !slices.Contains(counts, name) {
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
		root[FunctionVersion] = w.version
		root[ServerErrors] = 0
		if m.Status >= 500 {
			root[ServerErrors] = 1
		}
		directives = append(directives, directive{
			Namespace:  w.namespace,
			Dimensions: [][]string{{FunctionVersion}},
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
