package hardening

import (
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/trulience-token/trulience-token/dev/devstack"
	"github.com/trulience-token/trulience-token/dev/standin/trulience"
)

// lambdaTimeout is AWS_LAMBDA_FUNCTION_TIMEOUT in the deadline tests.
const lambdaTimeout = 3 * time.Second

// TestDeadlines: with a 3s Lambda timeout and UPSTREAM_TIMEOUT far longer,
// every slow path answers before the deadline (the function's own answer,
// never the emulator's "Task timed out"), and the next request is served.
func TestDeadlines(t *testing.T) {
	t.Parallel()
	f := newFixture(t, opts{gate: true, timeout: lambdaTimeout, env: map[string]string{"UPSTREAM_TIMEOUT": "30s"}})
	f.wantToken(t, f.post(`{}`))
	ra2 := http.Header{"Retry-After": {"2"}}
	cases := []struct {
		name         string
		faults       []trulience.Fault
		conn         func(net.Conn)
		status       int
		code         string
		calls        int
		minT         time.Duration
		retryAfterOK string
	}{
		{name: "hangs", faults: []trulience.Fault{{Hang: true}}, status: 504, code: "upstream_timeout", calls: 1, minT: 2 * time.Second},
		{name: "trickles-body", faults: []trulience.Fault{{Status: 200, Body: []byte(`{"jwt":"a.b.c","expires_in":120,"avatar_id":"` + avatar + `"}`), Trickle: 200 * time.Millisecond}}, status: 504, code: "upstream_timeout", calls: 1, minT: 2 * time.Second},
		{name: "accepts-never-answers", conn: blackHole, status: 504, code: "upstream_timeout", calls: -1, minT: 2 * time.Second},
		{name: "trickles-headers", conn: trickleHeaders, status: 504, code: "upstream_timeout", calls: -1, minT: 2 * time.Second},
		{name: "delayed-past-deadline", faults: []trulience.Fault{{Delay: 10 * time.Second}}, status: 504, code: "upstream_timeout", calls: 1, minT: 2 * time.Second},
		// A retry that cannot fit before the deadline is not attempted.
		{name: "429-retry-after-too-long", faults: []trulience.Fault{{Status: 429, Header: ra2, Body: trulience.ErrRateLimited.Body()}}, status: 429, code: "rate_limited", calls: 1, retryAfterOK: "2"},
		{name: "503-retry-after-too-long", faults: []trulience.Fault{{Status: 503, Header: ra2, Body: []byte("busy")}}, status: 502, code: "upstream_error", calls: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f.sin.Reset()
			f.sin.Enqueue(tc.faults...)
			if tc.conn != nil {
				f.gate.Handle(tc.conn)
			}
			a := f.post(`{}`)
			if tc.conn != nil {
				f.gate.Handle(nil)
			}
			want(t, a, tc.status, tc.code)
			if a.elapsed < tc.minT || a.elapsed >= lambdaTimeout {
				t.Errorf("answered after %v, want from %v to before the %v deadline", a.elapsed.Round(time.Millisecond), tc.minT, lambdaTimeout)
			}
			if tc.calls >= 0 && f.sin.Calls() != tc.calls {
				t.Errorf("%d Trulience calls, want %d", f.sin.Calls(), tc.calls)
			}
			if got := a.Headers["Retry-After"]; got != tc.retryAfterOK {
				t.Errorf("Retry-After %q, want %q", got, tc.retryAfterOK)
			}
			f.sin.Reset()
			f.wantToken(t, f.post(`{}`))
			t.Logf("%d %s after %v", a.Status, a.code(), a.elapsed.Round(time.Millisecond))
		})
	}
	if n := len(f.emu.InitDurations()); n != 1 {
		t.Errorf("%d inits: an invocation timed out and the runtime was restarted", n)
	}
}

// TestDeadlineSlowSecretsManager: Secrets Manager hangs, at cold start and on
// a refresh, under a short Lambda timeout; the function answers before the
// deadline either way.
func TestDeadlineSlowSecretsManager(t *testing.T) {
	t.Parallel()
	slow := &devstack.Fault{Delay: time.Minute}
	t.Run("cold-start", func(t *testing.T) {
		t.Parallel()
		// This RIE counts init in the first invocation's timeout; init waits
		// at most 1s for the key, so even a short timeout leaves the first
		// request time to try again and answer 503 itself.
		const timeout = lambdaTimeout
		f := newFixture(t, opts{smFault: slow, timeout: timeout})
		a := f.post(`{}`)
		want(t, a, 503, "secret_unavailable")
		if a.elapsed >= timeout {
			t.Errorf("answered after %v, deadline %v", a.elapsed, timeout)
		}
		f.sm.SetFault("GetSecretValue", nil)
		f.wantToken(t, f.post(`{}`))
		t.Logf("503 after %v; inits %v", a.elapsed.Round(time.Millisecond), f.emu.InitDurations())
	})
	t.Run("refresh", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, opts{timeout: lambdaTimeout, env: map[string]string{"SECRET_TTL": "200ms"}})
		f.wantToken(t, f.post(`{}`))
		f.sm.SetFault("GetSecretValue", slow)
		time.Sleep(250 * time.Millisecond)
		a := f.post(`{}`)
		if a.fnErr != nil {
			t.Fatalf("invocation failed: %v", a)
		}
		// The refresh gives up after 1s and the stale key serves.
		if a.Status != 200 {
			t.Errorf("got %d %s, want 200 from the stale key", a.Status, a.Body)
		}
		if a.elapsed >= lambdaTimeout {
			t.Errorf("answered after %v, deadline %v", a.elapsed, lambdaTimeout)
		}
		f.sm.SetFault("GetSecretValue", nil)
		time.Sleep(250 * time.Millisecond)
		f.wantToken(t, f.post(`{}`))
		t.Logf("%d %s after %v", a.Status, a.code(), a.elapsed.Round(time.Millisecond))
	})
}
