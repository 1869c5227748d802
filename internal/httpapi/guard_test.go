package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// fakeGuard answers with its verdict and records what it saw. With meet
// set, it waits (up to 5 s) until every guard sharing meet has started,
// which only happens when they run at the same time.
type fakeGuard struct {
	meet     *meeting
	alone    atomic.Bool // it gave up waiting for the others
	refuse   *Problem
	attr     slog.Attr
	seen     []Visitor
	released atomic.Int32
	undone   atomic.Int32
}

func (g *fakeGuard) Check(ctx context.Context, v Visitor) Verdict {
	g.seen = append(g.seen, v)
	if g.meet != nil && !g.meet.arrive() {
		g.alone.Store(true)
	}
	return Verdict{Refuse: g.refuse, Log: []slog.Attr{g.attr}, Release: func() { g.released.Add(1) }, Undo: func() { g.undone.Add(1) }}
}

// meeting is a rendezvous of n guards.
type meeting struct {
	n       int32
	arrived atomic.Int32
	all     chan struct{}
}

func newMeeting(n int32) *meeting { return &meeting{n: n, all: make(chan struct{})} }

// arrive reports whether all n arrived within 5 s.
func (m *meeting) arrive() bool {
	if m.arrived.Add(1) == m.n {
		close(m.all)
	}
	select {
	case <-m.all:
		return true
	case <-time.After(5 * time.Second):
		return false
	}
}

func TestGuards(t *testing.T) {
	refuseA := &Problem{Status: 403, Code: "guard_a", Message: "a"}
	refuseB := &Problem{Status: 429, Code: "guard_b", Message: "b"}
	tests := []struct {
		name           string
		a, b           *Problem
		mintErr        error
		status         int
		code           string
		wantReleased   int32 // Trulience refused: what counts tokens is given back
		wantUndone     int32 // a guard refused: everything is given back
		wantMintCalled bool
	}{
		{"both pass", nil, nil, nil, 200, "", 0, 0, true},
		{"first refuses", refuseA, nil, nil, 403, "guard_a", 0, 1, false},
		{"second refuses", nil, refuseB, nil, 429, "guard_b", 0, 1, false},
		{"both refuse: the first in order answers", refuseA, refuseB, nil, 403, "guard_a", 0, 1, false},
		{"Trulience refuses: counts are given back", nil, nil, errors.New("boom"), 500, "internal_error", 1, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			meet := newMeeting(2)
			a := &fakeGuard{meet: meet, refuse: tt.a, attr: slog.String("guard_a", "seen")}
			b := &fakeGuard{meet: meet, refuse: tt.b, attr: slog.String("guard_b", "seen")}
			m := &fakeMinter{err: tt.mintErr}
			h, logs := newTestHandler(t, nil, m)
			h.guards = []Guard{a, b}
			ans := invoke(t, h, v2("POST", site, `{}`))
			if a.alone.Load() || b.alone.Load() {
				t.Error("the guards did not run at the same time")
			}
			if ans.StatusCode != tt.status || ans.errCode != tt.code {
				t.Fatalf("got %d %q, want %d %q", ans.StatusCode, ans.errCode, tt.status, tt.code)
			}
			if (len(m.calls) == 1) != tt.wantMintCalled {
				t.Errorf("Trulience called %d times", len(m.calls))
			}
			if a.released.Load() != tt.wantReleased || b.released.Load() != tt.wantReleased {
				t.Errorf("released %d and %d, want %d each", a.released.Load(), b.released.Load(), tt.wantReleased)
			}
			if a.undone.Load() != tt.wantUndone || b.undone.Load() != tt.wantUndone {
				t.Errorf("undone %d and %d, want %d each", a.undone.Load(), b.undone.Load(), tt.wantUndone)
			}
			if !strings.Contains(logs.String(), `"guard_a":"seen"`) || !strings.Contains(logs.String(), `"guard_b":"seen"`) {
				t.Errorf("the request line lacks the guards' fields: %s", logs.String())
			}
		})
	}
}

// TestGuardsSkippedByCheapChecks: a request refused by its own checks never
// reaches a guard.
func TestGuardsSkippedByCheapChecks(t *testing.T) {
	g := &fakeGuard{}
	h, _ := newTestHandler(t, nil, &fakeMinter{})
	h.guards = []Guard{g}
	for _, ev := range [][]byte{
		v2("POST", "https://evil.example", `{}`),
		v2("GET", site, ``),
		v2("POST", site, `{"avatar_id":"9"}`),
		v2("POST", site, `{`),
	} {
		if a := invoke(t, h, ev); a.StatusCode < 400 {
			t.Fatalf("expected a refusal, got %d", a.StatusCode)
		}
	}
	if len(g.seen) != 0 {
		t.Errorf("the guard saw %d refused requests", len(g.seen))
	}
}

// TestVisitor: the guard sees the source IP and the verified claims of
// every event shape.
func TestVisitor(t *testing.T) {
	g := &fakeGuard{}
	h, _ := newTestHandler(t, nil, &fakeMinter{})
	h.guards = []Guard{g}

	e := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "POST /token", RawPath: "/token",
		Headers: map[string]string{"origin": site},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			DomainName: httpAPIDomain,
			HTTP:       events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", Path: "/token", SourceIP: "203.0.113.7"},
			Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
				JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: map[string]string{"sub": "user-1", "avatars": "[1 2]"}},
			},
		},
	}
	b, _ := json.Marshal(e)
	invoke(t, h, b)
	rest := events.APIGatewayProxyRequest{HTTPMethod: "POST", Path: "/token", Headers: map[string]string{"Origin": site},
		RequestContext: events.APIGatewayProxyRequestContext{Identity: events.APIGatewayRequestIdentity{SourceIP: "198.51.100.2"}}}
	b, _ = json.Marshal(rest)
	invoke(t, h, b)
	invoke(t, h, []byte(`{"version":"2.0","requestContext":{"http":{"method":"POST","sourceIp":"192.0.2.1"},"authorizer":{"jwt":{"claims":{"sub":"u","n":5}}}},"headers":{"origin":"`+site+`"}}`))

	if len(g.seen) != 3 {
		t.Fatalf("guard saw %d requests", len(g.seen))
	}
	if v := g.seen[0]; v.SourceIP != "203.0.113.7" || v.Subject() != "user-1" || v.Claims["avatars"] != "[1 2]" || v.Origin != site || v.AvatarID != avatarA {
		t.Errorf("HTTP API visitor %+v", v)
	}
	if v := g.seen[1]; v.SourceIP != "198.51.100.2" || v.Claims != nil || v.Subject() != "" {
		t.Errorf("REST visitor %+v", v)
	}
	if v := g.seen[2]; v.SourceIP != "192.0.2.1" || v.Claims["n"] != "5" {
		t.Errorf("hand-made event visitor %+v", v)
	}
}
