package httpapi

import (
	"context"
	"log/slog"
	"sync"
)

// Visitor is who asks for a token, as the checks made before Trulience is
// called see them.
type Visitor struct {
	// SourceIP is the caller's address from the event (HTTP API and
	// function URL requestContext.http.sourceIp, REST API
	// requestContext.identity.sourceIp); "" when the event has none.
	SourceIP string
	// Claims are the verified JWT claims an HTTP API JWT authorizer passed
	// (requestContext.authorizer.jwt.claims); nil without one.
	Claims map[string]string
	// Origin is the request's Origin header ("" without one).
	Origin string
	// AvatarID is the avatar the token would be for.
	AvatarID string
	// TurnstileToken is the body's turnstile_token ("" when absent).
	TurnstileToken string
}

// Subject is the signed-in user's sub claim, "" when there is none.
func (v Visitor) Subject() string { return v.Claims["sub"] }

// A Guard decides, after the request's own checks and before Trulience is
// called, whether the visitor gets a token: the bot check and the limits
// are guards. The guards of one request run at the same time, so the
// request waits for the slowest, not for their sum.
type Guard interface {
	Check(ctx context.Context, v Visitor) Verdict
}

// Verdict is a guard's answer.
type Verdict struct {
	// Refuse, when set, refuses the request with this answer.
	Refuse *Problem
	// Log holds fields for the request's log line (never a secret).
	Log []slog.Attr
	// Undo, when set, is called when a guard (this one or another) refuses
	// the request: it gives back everything the guard took (its counts),
	// so a request refused before Trulience is called counts for nothing.
	Undo func()
	// Release, when set, is called when Trulience issues no token after
	// all: it gives back what counts tokens issued (the daily count).
	Release func()
}

// checkGuards runs every guard at once and returns their verdicts in the
// guards' order.
func checkGuards(ctx context.Context, guards []Guard, v Visitor) []Verdict {
	out := make([]Verdict, len(guards))
	if len(guards) == 1 {
		out[0] = guards[0].Check(ctx, v)
		return out
	}
	var wg sync.WaitGroup
	for i, g := range guards {
		wg.Go(func() { out[i] = g.Check(ctx, v) })
	}
	wg.Wait()
	return out
}

// refusal is the first refusal among verdicts, nil when all let it through.
func refusal(verdicts []Verdict) *Problem {
	for _, vd := range verdicts {
		if vd.Refuse != nil {
			return vd.Refuse
		}
	}
	return nil
}

// undo gives back everything the verdicts took, all at once.
func undo(verdicts []Verdict) { run(verdicts, func(vd Verdict) func() { return vd.Undo }) }

// release gives back what the verdicts took for a token, all at once.
func release(verdicts []Verdict) { run(verdicts, func(vd Verdict) func() { return vd.Release }) }

// run calls the function pick finds in each verdict, at the same time,
// and waits for them: each is a write to the guard's store, and the
// request should wait for the slowest, not for their sum.
func run(verdicts []Verdict, pick func(Verdict) func()) {
	var wg sync.WaitGroup
	for _, vd := range verdicts {
		if f := pick(vd); f != nil {
			wg.Go(f)
		}
	}
	wg.Wait()
}
