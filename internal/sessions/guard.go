package sessions

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/trulience-token/trulience-token/internal/config"
	"github.com/trulience-token/trulience-token/internal/httpapi"
	"github.com/trulience-token/trulience-token/internal/limits"
)

// FullRetry is the Retry-After of sessions_full: sessions end at any time.
const FullRetry = 30 * time.Second

// Problems the guard answers with.
var (
	// ProblemFull answers while MAX_LIVE_SESSIONS sessions are live.
	ProblemFull = &httpapi.Problem{Status: http.StatusTooManyRequests, Code: "sessions_full", Message: "The avatars have as many live sessions as they may have. Try again shortly.", RetryAfter: FullRetry}
)

// budgetSpent is the 429 session_budget_spent answer, to be retried at
// the next UTC midnight.
func budgetSpent(wait time.Duration) *httpapi.Problem {
	return &httpapi.Problem{Status: http.StatusTooManyRequests, Code: "session_budget_spent", Message: "Today's avatar session minutes are used up. Try again after midnight UTC.", RetryAfter: wait}
}

// Guard is the httpapi.Guard that refuses new tokens while the session
// caps are reached: MAX_LIVE_SESSIONS live sessions, or
// DAILY_SESSION_MINUTES minutes today. It takes nothing, so it has
// nothing to give back.
type Guard struct {
	ledger   *Ledger
	caps     config.Sessions
	timeout  time.Duration
	failOpen bool
	now      func() time.Time
}

// NewGuard returns the guard of caps, read from ledger within the limits'
// timeout and following their fail mode.
func NewGuard(ledger *Ledger, caps config.Sessions, l config.Limits) *Guard {
	return &Guard{ledger: ledger, caps: caps, timeout: l.Timeout, failOpen: l.FailOpen, now: time.Now}
}

// WithClock makes g read the time from now (tests).
func (g *Guard) WithClock(now func() time.Time) *Guard {
	g.now = now
	return g
}

// Check reads the ledger (the live markers and, with a daily cap,
// today's total: Ledger.Usage) and refuses when a cap is reached.
func (g *Guard) Check(request context.Context, _ httpapi.Visitor) httpapi.Verdict {
	now := g.now()
	ctx, cancel := context.WithTimeout(request, g.timeout)
	defer cancel()
	withDay := g.caps.DailyMinutes > 0
	// One round trip, beside the other guards'. A glance that would refuse
	// on the daily budget is read again until it settles (Usage): a session
	// ending during the glance could have been counted twice.
	u, err := g.ledger.Glance(ctx, now, withDay)
	if err == nil && withDay && u.Seconds >= g.caps.DailyMinutes*60 {
		u, err = g.ledger.Usage(ctx, now, true)
	}
	if err != nil {
		why := err.Error()
		if ctx.Err() != nil {
			why = "no answer within LIMITS_TIMEOUT"
		}
		httpapi.NoteOnce(request, limits.UnavailableMetric)
		vd := httpapi.Verdict{Log: []slog.Attr{slog.String("sessions", "unavailable"), slog.String("sessions_error", why)}}
		if !g.failOpen {
			vd.Refuse = limits.ProblemUnavailable
		}
		return vd
	}
	vd := httpapi.Verdict{Log: []slog.Attr{slog.Int64("live_sessions", u.Live)}}
	if g.caps.DailyMinutes > 0 {
		vd.Log = append(vd.Log, slog.Int64("session_seconds_today", u.Seconds))
	}
	switch {
	case g.caps.MaxLive > 0 && u.Live >= g.caps.MaxLive:
		vd.Refuse = ProblemFull
		vd.Log = append(vd.Log, slog.String("sessions", "full"))
	case g.caps.DailyMinutes > 0 && u.Seconds >= g.caps.DailyMinutes*60:
		midnight := now.UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
		vd.Refuse = budgetSpent(midnight.Sub(now))
		vd.Log = append(vd.Log, slog.String("sessions", "budget_spent"), slog.String("session_budget_resets", strconv.FormatInt(midnight.Unix(), 10)))
	default:
		vd.Log = append(vd.Log, slog.String("sessions", "ok"))
	}
	return vd
}
