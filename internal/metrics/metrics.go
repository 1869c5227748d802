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
	"io"
	"slices"
	"sort"
	"strconv"
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
	// FunctionName and FunctionVersion are the dimensions of ServerErrors:
	// the function (which names its stack, so two stacks in one account
	// and namespace stay apart) and the version that answered (a small
	// number, or $LATEST).
	FunctionName    = "FunctionName"
	FunctionVersion = "FunctionVersion"
)

// Error codes counted under their own metric as well as under Refused.
const (
	codeLimitExceeded  = "limit_exceeded"
	codeBotCheckFailed = "bot_check_failed"
)

// counts are the count metrics every record carries, in order.
var counts = [...]string{TokensIssued, Refused, UpstreamErrors, LimitExceeded, BotCheckFailed, LimitsUnavailable}

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
	function  string
	version   string
	now       func() time.Time
	mu        sync.Mutex
}

// NewWriter returns a Writer to w (os.Stdout in the function) in namespace.
func NewWriter(w io.Writer, namespace string) *Writer {
	return &Writer{w: w, namespace: namespace, now: time.Now}
}

// WithVersion makes each record count ServerErrors for function and
// version (Lambda's AWS_LAMBDA_FUNCTION_NAME and AWS_LAMBDA_FUNCTION_VERSION:
// a number, or $LATEST). Without it, or with any other values, there is no
// ServerErrors metric.
func (w *Writer) WithVersion(function, version string) *Writer {
	if (version == "$LATEST" || versionOK(version)) && functionOK(function) {
		w.function, w.version = function, version
	}
	return w
}

// functionOK reports whether f is a Lambda function name: 1-64 letters,
// digits, hyphens and underscores.
func functionOK(f string) bool {
	return charsOK(f, 1, 64, func(c byte, _ int) bool { return isAlnum(c) || c == '-' || c == '_' })
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

// encode is m's record, one JSON line. It is written by hand, without
// maps or reflection: it runs on every request, and at a small memory
// size's CPU share every microsecond of CPU shows in the latency (in
// process, 6-7 µs and 37 allocations with encoding/json, about 1 µs and 1
// allocation this way). Every name and value written unquoted or without
// escaping is one this package checked: a fixed metric name, a name
// nameOK accepts, a code codeOK accepts or "other", and the namespace,
// whose characters config allows need no escaping.
func (w *Writer) encode(m httpapi.Measure) []byte {
	code := ""
	if m.Code != "" {
		code = m.Code
		if !codeOK(code) {
			code = "other"
		}
	}
	var fixed [len(counts)]int
	add := func(name string, n int) bool {
		i := slices.Index(counts[:], name)
		if i >= 0 {
			fixed[i] += n
		}
		return i >= 0
	}
	if m.Token {
		add(TokensIssued, 1)
	}
	if code != "" {
		add(Refused, 1)
		switch code {
		case codeLimitExceeded:
			add(LimitExceeded, 1)
		case codeBotCheckFailed:
			add(BotCheckFailed, 1)
		}
	}
	if m.UpstreamError {
		add(UpstreamErrors, 1)
	}
	var extra []string
	for name, n := range m.Counts {
		if nameOK(name) && name != Reason && name != UpstreamLatency && !add(name, n) {
			extra = append(extra, name)
		}
	}
	sort.Strings(extra)

	b := make([]byte, 0, 768)
	b = append(b, `{"_aws":{"Timestamp":`...)
	b = strconv.AppendInt(b, w.now().UnixMilli(), 10)
	b = append(b, `,"CloudWatchMetrics":[{"Namespace":"`...)
	b = append(b, w.namespace...)
	b = append(b, `","Dimensions":[[]],"Metrics":[`...)
	for i, name := range counts {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendDef(b, name, "Count")
	}
	for _, name := range extra {
		b = appendDef(append(b, ','), name, "Count")
	}
	if m.Upstream {
		b = appendDef(append(b, ','), UpstreamLatency, "Milliseconds")
	}
	b = append(b, "]}"...)
	if code != "" {
		b = append(b, `,{"Namespace":"`...)
		b = append(b, w.namespace...)
		b = append(b, `","Dimensions":[["`+Reason+`"]],"Metrics":[`...)
		b = appendDef(b, Refused, "Count")
		b = append(b, "]}"...)
	}
	if w.version != "" {
		b = append(b, `,{"Namespace":"`...)
		b = append(b, w.namespace...)
		b = append(b, `","Dimensions":[["`+FunctionName+`","`+FunctionVersion+`"]],"Metrics":[`...)
		b = appendDef(b, ServerErrors, "Count")
		b = append(b, "]}"...)
	}
	b = append(b, "]}"...)
	for i, name := range counts {
		b = appendInt(b, name, fixed[i])
	}
	for _, name := range extra {
		b = appendInt(b, name, m.Counts[name])
	}
	if m.Upstream {
		b = append(b, `,"`+UpstreamLatency+`":`...)
		b = strconv.AppendFloat(b, float64(m.UpstreamLatency.Microseconds())/1000, 'f', -1, 64)
	}
	if code != "" {
		b = append(b, `,"`+Reason+`":"`...)
		b = append(b, code...)
		b = append(b, '"')
	}
	if w.version != "" {
		// WithVersion let through only a function name's characters, and
		// $LATEST or digits: nothing to escape.
		b = append(b, `,"`+FunctionName+`":"`...)
		b = append(b, w.function...)
		b = append(b, `","`+FunctionVersion+`":"`...)
		b = append(b, w.version...)
		b = append(b, '"')
		serverErrors := 0
		if m.Status >= 500 {
			serverErrors = 1
		}
		b = appendInt(b, ServerErrors, serverErrors)
	}
	return append(b, "}\n"...)
}

// appendDef appends {"Name":name,"Unit":unit}.
func appendDef(b []byte, name, unit string) []byte {
	b = append(b, `{"Name":"`...)
	b = append(b, name...)
	b = append(b, `","Unit":"`...)
	b = append(b, unit...)
	return append(b, `"}`...)
}

// appendInt appends ,"name":n.
func appendInt(b []byte, name string, n int) []byte {
	b = append(b, `,"`...)
	b = append(b, name...)
	b = append(b, `":`...)
	return strconv.AppendInt(b, int64(n), 10)
}
