package rie

import (
	"bytes"
	"encoding/json"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Report is one REPORT line of the RIE.
type Report struct {
	RequestID      string
	Duration       time.Duration
	BilledDuration time.Duration
	// InitDuration is what the REPORT line says; this RIE does not measure
	// it (see InitDurations for the real figure).
	InitDuration  time.Duration
	MemorySizeMB  int
	MaxMemoryUsed int // MB; this RIE echoes the memory size
}

// logSink keeps everything written to it, parses REPORT and INIT REPORT
// lines, and forwards whole lines to an optional writer.
type logSink struct {
	mu      sync.Mutex
	all     bytes.Buffer
	partial []byte
	fwd     io.Writer
	reps    []Report
	initDur []time.Duration
	report  chan struct{} // closed and replaced at each REPORT line
}

func newLogSink(fwd io.Writer) *logSink { return &logSink{fwd: fwd, report: make(chan struct{})} }

// waitReport waits until more than n REPORT lines were seen, or for d.
func (l *logSink) waitReport(n int, d time.Duration) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		l.mu.Lock()
		got, ch := len(l.reps), l.report
		l.mu.Unlock()
		if got > n {
			return
		}
		select {
		case <-ch:
		case <-timer.C:
			return
		}
	}
}

func (l *logSink) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all.Write(p)
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		l.line(l.partial[:i+1])
		l.partial = l.partial[i+1:]
	}
	return len(p), nil
}

// flush hands on a last line without a newline.
func (l *logSink) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.partial) > 0 {
		l.line(append(l.partial, '\n'))
		l.partial = nil
	}
}

var initReport = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)

func (l *logSink) line(b []byte) {
	if l.fwd != nil {
		_, _ = l.fwd.Write(b)
	}
	s := strings.TrimRight(string(b), "\r\n")
	if m := initReport.FindStringSubmatch(s); m != nil {
		l.initDur = append(l.initDur, ms(m[1]))
	}
	if r, ok := parseReport(s); ok {
		l.reps = append(l.reps, r)
		close(l.report)
		l.report = make(chan struct{})
	}
}

// parseReport reads "REPORT RequestId: id\tDuration: 1.23 ms\t…".
func parseReport(s string) (Report, bool) {
	rest, ok := strings.CutPrefix(s, "REPORT RequestId: ")
	if !ok {
		return Report{}, false
	}
	fields := strings.Split(rest, "\t")
	r := Report{RequestID: fields[0]}
	for _, f := range fields[1:] {
		k, v, ok := strings.Cut(f, ": ")
		if !ok {
			continue
		}
		num, _, _ := strings.Cut(v, " ")
		switch k {
		case "Duration":
			r.Duration = ms(num)
		case "Billed Duration":
			r.BilledDuration = ms(num)
		case "Init Duration":
			r.InitDuration = ms(num)
		case "Memory Size":
			r.MemorySizeMB, _ = strconv.Atoi(num)
		case "Max Memory Used":
			r.MaxMemoryUsed, _ = strconv.Atoi(num)
		}
	}
	return r, true
}

func ms(s string) time.Duration {
	f, _ := strconv.ParseFloat(s, 64)
	return time.Duration(f * float64(time.Millisecond))
}

func (l *logSink) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.all.String()
}

func (l *logSink) reports() []Report {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Report(nil), l.reps...)
}

func (l *logSink) inits() []time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]time.Duration(nil), l.initDur...)
}

// asFunctionError recognises the RIE's answers for an invocation error: the
// runtime's {"errorType","errorMessage"[,"stackTrace"]} object, or the
// timeout text.
func asFunctionError(body []byte) *FunctionError {
	if t := string(body); strings.HasPrefix(t, "Task timed out after ") {
		return &FunctionError{Type: "Sandbox.Timedout", Message: t}
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return nil
	}
	_, hasType := m["errorType"]
	_, hasMsg := m["errorMessage"]
	if !hasType && !hasMsg {
		return nil
	}
	for k := range m {
		switch k {
		case "errorType", "errorMessage", "stackTrace", "requestId":
		default:
			return nil
		}
	}
	var fe FunctionError
	_ = json.Unmarshal(body, &fe)
	return &fe
}
