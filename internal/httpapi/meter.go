package httpapi

import (
	"context"
	"sync"
	"time"
)

// Measure is what one request's metrics record reports: the answer and
// what the request cost upstream. It never holds a value from the request
// (address, user, origin, avatar), only its outcome.
type Measure struct {
	// Status is the answer's HTTP status.
	Status int
	// Code is the error code of an error answer, "" otherwise.
	Code string
	// Token reports that a token was issued.
	Token bool
	// Upstream reports that Trulience was called; UpstreamLatency is how
	// long getting its answer took (its one retry included), UpstreamError
	// that it issued no token.
	Upstream        bool
	UpstreamLatency time.Duration
	UpstreamError   bool
	// Counts are the counts guards noted for this request (Note), by
	// metric name.
	Counts map[string]int
}

// A Meter records one Measure per request (package metrics writes them as
// CloudWatch embedded metric records).
type Meter interface {
	Record(ctx context.Context, m Measure)
}

// WithMeter makes h record every request's Measure with m.
func (h *Handler) WithMeter(m Meter) *Handler {
	h.meter = m
	return h
}

type notesKey struct{}

// notes collects the counts noted during one request; guards run at the
// same time, hence the lock.
type notes struct {
	mu     sync.Mutex
	counts map[string]int
}

// Note adds one to the metric name (a fixed name such as
// "LimitsUnavailable", never a value from the request) in the request's
// metrics record. Without a meter it does nothing.
func Note(ctx context.Context, name string) {
	note(ctx, func(counts map[string]int) { counts[name]++ })
}

// NoteOnce sets the metric name to 1 in the request's metrics record
// unless it is noted already: for a fact about the request, such as
// "LimitsUnavailable", that several guards may each find.
func NoteOnce(ctx context.Context, name string) {
	note(ctx, func(counts map[string]int) { counts[name] = max(counts[name], 1) })
}

// note applies change to the request's counts, under their lock.
func note(ctx context.Context, change func(map[string]int)) {
	n, ok := ctx.Value(notesKey{}).(*notes)
	if !ok {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.counts == nil {
		n.counts = map[string]int{}
	}
	change(n.counts)
}

// withNotes gives ctx a place for Note when h has a meter.
func (h *Handler) withNotes(ctx context.Context) (context.Context, *notes) {
	if h.meter == nil {
		return ctx, nil
	}
	n := &notes{}
	return context.WithValue(ctx, notesKey{}, n), n
}

// measure records the request's Measure.
func (h *Handler) measure(ctx context.Context, n *notes, resp *response, out outcome, code string) {
	if h.meter == nil {
		return
	}
	m := Measure{
		Status:          resp.StatusCode,
		Code:            code,
		Token:           resp.StatusCode == 200 && out.err == nil,
		Upstream:        out.upstream,
		UpstreamLatency: out.upstreamLatency,
		UpstreamError:   out.upstream && out.err != nil,
	}
	n.mu.Lock()
	m.Counts = n.counts
	n.mu.Unlock()
	h.meter.Record(ctx, m)
}
