// Package limits is the guard that caps how many tokens one visitor gets per
// window and how many the endpoint issues per UTC day, counted in a
// DynamoDB table shared by every container of the function.
package limits

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/trulience-token/trulience-token/internal/config"
	"github.com/trulience-token/trulience-token/internal/httpapi"
	"github.com/trulience-token/trulience-token/internal/idhash"
)

// Settings are the limits' configuration, read by package config.
type Settings = config.Limits

// Rate is N tokens per Window (config.Rate).
type Rate = config.Rate

// DefaultTimeout bounds one request's limit check when LIMITS_TIMEOUT is unset.
const DefaultTimeout = config.DefaultLimitsTimeout

// Problems the guard answers with.
var (
	// ProblemUnavailable answers when the counts cannot be read in time
	// and LIMITS_FAIL_MODE is closed.
	ProblemUnavailable = &httpapi.Problem{Status: http.StatusServiceUnavailable, Code: "limits_unavailable", Message: "The token service cannot check its limits right now. Try again shortly."}
)

// exceeded is the 429 limit_exceeded answer, to be retried after wait.
func exceeded(wait time.Duration) *httpapi.Problem {
	return &httpapi.Problem{Status: http.StatusTooManyRequests, Code: "limit_exceeded", Message: "Too many tokens were requested. Try again later.", RetryAfter: wait}
}

// UnavailableMetric is the count noted in the request's metrics, once,
// when the counts could not be read in time, whether the request was then
// served uncounted (fail open) or refused (fail closed): an alarm on it
// sees the limits switch off in either mode.
const UnavailableMetric = "LimitsUnavailable"

// Guard is the httpapi.Guard that takes one token from the visitor's
// window and one from the day's, in the Store, before Trulience is called.
type Guard struct {
	settings Settings
	store    Store
	now      func() time.Time

	secret   idhash.Secret
	mu       sync.Mutex
	key      []byte
	keyInput string // the secret's value key was derived from
}

// New returns the guard for s, counting in store.
func New(s Settings, store Store) *Guard {
	return &Guard{settings: s, store: store, secret: idhash.Secret{Fixed: s.HashKey}, key: hashKey(s.HashKey, s.Table), keyInput: s.HashKey, now: time.Now}
}

// KeyFrom keys the visitor hash with what read returns (the function passes
// its API key reader), unless LIMITS_HASH_KEY is set: the API key is the
// best-kept secret the function holds, and nothing stored beside the table
// (its name, the stack's tags) can rebuild the hashes from it. Rotating the
// key starts the visitors' windows afresh, once.
func (g *Guard) KeyFrom(read func(context.Context) (string, error)) *Guard {
	g.secret.Read = read
	return g
}

// refreshKey derives the hash key from the secret's current value.
func (g *Guard) refreshKey(ctx context.Context) error {
	material, err := g.secret.Get(ctx)
	if err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if material != g.keyInput {
		g.key, g.keyInput = hashKey(material, g.settings.Table), material
	}
	return nil
}

// WithClock makes g read the time from now (tests).
func (g *Guard) WithClock(now func() time.Time) *Guard {
	g.now = now
	return g
}

// hashKey is the HMAC key visitor identities are hashed with: derived from
// the per-deployment value and the table's name, so the hashes of one
// deployment say nothing about another's.
func hashKey(perDeployment, table string) []byte {
	return idhash.Key(perDeployment, "trulience-token limits\x00"+table)
}

// VisitorHash is how the visitor appears in the table: the keyed hash of
// the signed-in user's sub when the request carries verified JWT claims,
// else of the source address (an IPv6 address's /64: see addressKey).
// Neither is stored raw.
func (g *Guard) VisitorHash(v httpapi.Visitor) string {
	id := "ip:" + addressKey(v.SourceIP)
	if sub := v.Subject(); sub != "" {
		id = "sub:" + sub
	}
	g.mu.Lock()
	key := g.key
	g.mu.Unlock()
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// VisitorKey is the visitor's counter for the window holding t, and the
// window's end.
func (g *Guard) VisitorKey(v httpapi.Visitor, t time.Time) (string, time.Time) {
	start, end := windowOf(t, g.settings.Client.Window)
	return "v#" + strconv.FormatInt(int64(g.settings.Client.Window/time.Second), 10) + "#" + strconv.FormatInt(start.Unix(), 10) + "#" + g.VisitorHash(v), end
}

// DayKey is the endpoint's counter for the UTC day holding t, and the day's end.
func DayKey(t time.Time) (string, time.Time) {
	start, end := dayOf(t)
	return "d#" + start.Format(time.DateOnly), end
}

// take is the result of one counter's Take.
type take struct {
	on    bool // the limit is set
	key   string
	end   time.Time
	taken bool
	err   error
}

// Check takes one from each counter that is on, both at once (one round
// trip), within LIMITS_TIMEOUT.
func (g *Guard) Check(request context.Context, v httpapi.Visitor) httpapi.Verdict {
	now := g.now()
	ctx, cancel := context.WithTimeout(request, g.settings.Timeout)
	defer cancel()

	var visitor, day take
	var wg sync.WaitGroup
	if g.settings.Client.N > 0 {
		visitor.on = true
		if visitor.err = g.refreshKey(ctx); visitor.err == nil {
			visitor.key, visitor.end = g.VisitorKey(v, now)
			wg.Go(func() { visitor.taken, visitor.err = g.store.Take(ctx, visitor.key, g.settings.Client.N, visitor.end) })
		}
	}
	if g.settings.Daily > 0 {
		day.on = true
		day.key, day.end = DayKey(now)
		wg.Go(func() { day.taken, day.err = g.store.Take(ctx, day.key, g.settings.Daily, day.end) })
	}
	wg.Wait()

	// A counter that answered "full" refuses the request even when the
	// other could not answer.
	visitorFull := visitor.on && visitor.err == nil && !visitor.taken
	dayFull := day.on && day.err == nil && !day.taken
	// Whatever the outcome, a refusal by any guard (a bot check that says
	// no, this guard's own limits) gives back everything this check took:
	// a request refused before Trulience is called counts for nothing, so
	// bots that never pass the bot check cannot use up a visitor's window
	// or the day.
	vd := httpapi.Verdict{Undo: g.giveBack(request, visitor, day)}
	switch {
	case visitorFull && dayFull:
		vd.Refuse = exceeded(later(visitor.end, day.end).Sub(now))
		vd.Log = []slog.Attr{slog.String("limits", "exceeded"), slog.String("limit", "client,daily")}
	case visitorFull:
		vd.Refuse = exceeded(visitor.end.Sub(now))
		vd.Log = []slog.Attr{slog.String("limits", "exceeded"), slog.String("limit", "client")}
	case dayFull:
		vd.Refuse = exceeded(day.end.Sub(now))
		vd.Log = []slog.Attr{slog.String("limits", "exceeded"), slog.String("limit", "daily")}
	case visitor.err != nil || day.err != nil:
		vd.Log = []slog.Attr{slog.String("limits", "unavailable"), slog.String("limits_error", errText(ctx, firstErr(visitor.err, day.err)))}
		httpapi.NoteOnce(ctx, UnavailableMetric)
		if !g.settings.FailOpen {
			vd.Refuse = ProblemUnavailable
			break
		}
		vd.Release = g.giveBack(request, day)
	default:
		vd.Log = []slog.Attr{slog.String("limits", "ok")}
		// A request Trulience refuses gives back its daily count, which
		// counts tokens issued, but not the visitor's: the visitor's window
		// also bounds how often one visitor can make Trulience refuse.
		vd.Release = g.giveBack(request, day)
	}
	return vd
}

// giveBack returns the Release that gives back what takes took, within
// LIMITS_TIMEOUT and never past the request's own deadline: a request that
// ran out of time keeps its counts rather than outlive the invocation.
func (g *Guard) giveBack(request context.Context, takes ...take) func() {
	var keys []string
	for _, t := range takes {
		if t.taken {
			keys = append(keys, t.key)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(request), g.settings.Timeout)
		defer cancel()
		if dl, ok := request.Deadline(); ok {
			var stop context.CancelFunc
			ctx, stop = context.WithDeadline(ctx, dl)
			defer stop()
		}
		var wg sync.WaitGroup
		for _, k := range keys {
			wg.Go(func() { _ = g.store.Give(ctx, k) })
		}
		wg.Wait()
	}
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// errText says why the table could not be used, for the log: a timeout
// as such, else the SDK's error (names the operation and AWS's error
// code; never a visitor's identity, which never leaves the function raw).
func errText(ctx context.Context, err error) string {
	if ctx.Err() != nil {
		return "no answer within LIMITS_TIMEOUT"
	}
	return err.Error()
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// windowOf is the window of length d holding t: its start and end.
func windowOf(t time.Time, d time.Duration) (start, end time.Time) {
	start = t.UTC().Truncate(d)
	return start, start.Add(d)
}

// dayOf is the UTC day holding t.
func dayOf(t time.Time) (start, end time.Time) {
	t = t.UTC()
	start = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	return start, start.AddDate(0, 0, 1)
}
