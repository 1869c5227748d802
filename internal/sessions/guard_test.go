package sessions

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/trulience-token/trulience-token/internal/config"
	"github.com/trulience-token/trulience-token/internal/httpapi"
)

var limitsOpen = config.Limits{Timeout: 200 * time.Millisecond, FailOpen: true}

func code(vd httpapi.Verdict) string {
	if vd.Refuse == nil {
		return ""
	}
	return vd.Refuse.Code
}

// The live cap refuses exactly when MAX_LIVE_SESSIONS sessions are live,
// and lets tokens through again once one ends.
func TestGuardLiveCap(t *testing.T) {
	db := newFakeDB()
	l := newLedger(db)
	now := t0
	g := NewGuard(l, config.Sessions{MaxLive: 3, Table: "sessions"}, limitsOpen).WithClock(func() time.Time { return now })
	for i := range 3 {
		if vd := g.Check(context.Background(), httpapi.Visitor{}); vd.Refuse != nil {
			t.Fatalf("%d live: refused %s", i, code(vd))
		}
		must(t)(l.Connect(context.Background(), ev("s"+strconv.Itoa(i), now)))
	}
	vd := g.Check(context.Background(), httpapi.Visitor{})
	if code(vd) != "sessions_full" || vd.Refuse.Status != 429 || vd.Refuse.RetryAfter != 30*time.Second {
		t.Fatalf("3 live: %+v, want 429 sessions_full, Retry-After 30s", vd.Refuse)
	}
	if vd.Undo != nil || vd.Release != nil {
		t.Error("the guard takes nothing, so gives nothing back")
	}
	must(t)(l.Disconnect(context.Background(), ev("s1", now.Add(time.Minute))))
	if vd := g.Check(context.Background(), httpapi.Visitor{}); vd.Refuse != nil {
		t.Errorf("after a disconnect: refused %s", code(vd))
	}
	// A session past its max_end no longer counts, swept or not.
	must(t)(l.Connect(context.Background(), ev("s9", now)))
	now = now.Add(61 * time.Minute)
	if vd := g.Check(context.Background(), httpapi.Visitor{}); vd.Refuse != nil {
		t.Errorf("after max_end: refused %s", code(vd))
	}
	if db.calls["GetItem"] != 1 { // the disconnect's; the live cap alone reads no day
		t.Errorf("%d GetItem calls, want 1", db.calls["GetItem"])
	}
}

// The daily cap refuses exactly when today's minutes reach
// DAILY_SESSION_MINUTES, until the next UTC midnight.
func TestGuardDailyCap(t *testing.T) {
	db := newFakeDB()
	l := newLedger(db)
	now := t0
	g := NewGuard(l, config.Sessions{DailyMinutes: 10, Table: "sessions"}, limitsOpen).WithClock(func() time.Time { return now })
	must(t)(l.Connect(context.Background(), ev("a", t0)))
	must(t)(l.Disconnect(context.Background(), ev("a", t0.Add(6*time.Minute))))
	must(t)(l.Connect(context.Background(), ev("b", t0.Add(6*time.Minute))))
	now = t0.Add(10*time.Minute - time.Second) // 6 min ended + 3:59 live
	if vd := g.Check(context.Background(), httpapi.Visitor{}); vd.Refuse != nil {
		t.Fatalf("9:59 used: refused %s", code(vd))
	}
	now = t0.Add(10 * time.Minute) // 6 + 4 live
	vd := g.Check(context.Background(), httpapi.Visitor{})
	midnight := time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC)
	if code(vd) != "session_budget_spent" || vd.Refuse.Status != 429 || vd.Refuse.RetryAfter != midnight.Sub(now) {
		t.Fatalf("10:00 used: %+v, want 429 session_budget_spent until %v", vd.Refuse, midnight)
	}
	must(t)(l.Disconnect(context.Background(), ev("b", now)))
	if vd := g.Check(context.Background(), httpapi.Visitor{}); code(vd) != "session_budget_spent" {
		t.Errorf("ended sessions still count today: %s", code(vd))
	}
	now = midnight.Add(time.Second)
	if vd := g.Check(context.Background(), httpapi.Visitor{}); vd.Refuse != nil {
		t.Errorf("the next day: refused %s", code(vd))
	}
}

func TestGuardBothCaps(t *testing.T) {
	db := newFakeDB()
	l := newLedger(db)
	g := NewGuard(l, config.Sessions{MaxLive: 1, DailyMinutes: 1, Table: "sessions"}, limitsOpen).WithClock(func() time.Time { return t0.Add(2 * time.Minute) })
	must(t)(l.Connect(context.Background(), ev("a", t0)))
	if vd := g.Check(context.Background(), httpapi.Visitor{}); code(vd) != "sessions_full" {
		t.Errorf("both reached: %s, want sessions_full (the shorter wait)", code(vd))
	}
}

func TestGuardUnavailable(t *testing.T) {
	for _, open := range []bool{true, false} {
		db := newFakeDB()
		db.fail = errors.New("ProvisionedThroughputExceededException")
		lim := config.Limits{Timeout: 100 * time.Millisecond, FailOpen: open}
		g := NewGuard(newLedger(db), config.Sessions{MaxLive: 1, DailyMinutes: 1, Table: "sessions"}, lim)
		vd := g.Check(context.Background(), httpapi.Visitor{})
		switch {
		case open && vd.Refuse != nil:
			t.Errorf("fail open: refused %s", code(vd))
		case !open && (code(vd) != "limits_unavailable" || vd.Refuse.Status != 503):
			t.Errorf("fail closed: %+v, want 503 limits_unavailable", vd.Refuse)
		}
		if db.calls["Query"] != 1 || db.calls["GetItem"] != 1 {
			t.Errorf("calls %v, want one Query and one GetItem", db.calls)
		}
	}
}

func TestGuardTimeout(t *testing.T) {
	db := newFakeDB()
	l := newLedger(db)
	l.client = blocking{db}
	g := NewGuard(l, config.Sessions{MaxLive: 1, Table: "sessions"}, config.Limits{Timeout: 50 * time.Millisecond})
	start := time.Now()
	vd := g.Check(context.Background(), httpapi.Visitor{})
	if code(vd) != "limits_unavailable" || time.Since(start) > time.Second {
		t.Errorf("%s after %v, want limits_unavailable after LIMITS_TIMEOUT", code(vd), time.Since(start))
	}
	found := false
	for _, a := range vd.Log {
		found = found || a.Value.String() == "no answer within LIMITS_TIMEOUT"
	}
	if !found {
		t.Errorf("log %v does not say it timed out", vd.Log)
	}
}
