package hardening

import (
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/trulience-token/trulience-token/dev/standin/trulience"
)

// upstreamFault is one way Trulience (or what stands between) can fail.
type upstreamFault struct {
	name string
	// faults are queued in the stand-in, one per upstream call.
	faults []trulience.Fault
	// conn, when set, handles the function's new connections at the TCP gate.
	conn func(net.Conn)
	// refuse makes the gate refuse connections.
	refuse bool

	status int
	code   string
	// calls is how many requests must reach the stand-in (-1: not checked).
	calls int
	// min and max bound the answer's time.
	min, max time.Duration
	// retryAfter is the Retry-After header expected ("" for none).
	retryAfter string
}

// upstreamFaults lists every documented Trulience error and the broken
// answers and connections, with what the documented error table says
// the caller gets (UPSTREAM_TIMEOUT=1s).
func upstreamFaults() []upstreamFault {
	const fast = 900 * time.Millisecond
	html := []byte("<html><body><h1>502 Bad Gateway</h1></body></html>")
	tok := `{"jwt":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln","expires_in":120,"avatar_id":"` + avatar + `"}`
	ok200 := func(body string) []trulience.Fault { return []trulience.Fault{{Status: 200, Body: []byte(body)}} }
	retryAfter1 := http.Header{"Retry-After": {"1"}}
	return []upstreamFault{
		// The documented errors (docs/trulience-api.md).
		{name: "400-19-expire_at", faults: []trulience.Fault{trulience.ErrExpireAt.Fault()}, status: 502, code: "upstream_error", calls: 1, max: fast},
		{name: "401-16-invalid-key", faults: []trulience.Fault{trulience.ErrInvalidKey.Fault()}, status: 502, code: "upstream_error", calls: 1, max: fast},
		{name: "403-33-avatar", faults: []trulience.Fault{trulience.ErrAvatar.Fault()}, status: 502, code: "upstream_error", calls: 1, max: fast},
		{name: "403-34-scope", faults: []trulience.Fault{trulience.ErrScope.Fault()}, status: 502, code: "upstream_error", calls: 1, max: fast},
		{name: "403-35-origin", faults: []trulience.Fault{trulience.ErrOrigin.Fault()}, status: 502, code: "upstream_error", calls: 1, max: fast},
		{name: "429-36-once-then-ok", faults: []trulience.Fault{trulience.ErrRateLimited.Fault()}, status: 200, calls: 2, max: fast},
		{name: "429-36-twice", faults: []trulience.Fault{trulience.ErrRateLimited.Fault(), trulience.ErrRateLimited.Fault()}, status: 429, code: "rate_limited", calls: 2, max: fast},
		{name: "429-36-twice-retry-after", faults: []trulience.Fault{
			{Status: 429, Header: retryAfter1, Body: trulience.ErrRateLimited.Body()},
			{Status: 429, Header: retryAfter1, Body: trulience.ErrRateLimited.Body()},
		}, status: 429, code: "rate_limited", calls: 2, min: time.Second, max: 2 * time.Second, retryAfter: "1"},
		{name: "429-retry-after-far-date", faults: []trulience.Fault{
			{Status: 429, Header: http.Header{"Retry-After": {"Fri, 31 Dec 9999 23:59:59 GMT"}}, Body: trulience.ErrRateLimited.Body()},
			{Status: 429, Header: http.Header{"Retry-After": {"Fri, 31 Dec 9999 23:59:59 GMT"}}, Body: trulience.ErrRateLimited.Body()},
		}, status: 429, code: "rate_limited", calls: 2, max: fast},
		{name: "500-45-not-retried", faults: []trulience.Fault{trulience.ErrInternal.Fault()}, status: 502, code: "upstream_error", calls: 1, max: fast},

		// A proxy in front of Trulience.
		{name: "502-proxy", faults: []trulience.Fault{{Status: 502, Header: http.Header{"Content-Type": {"text/html"}}, Body: html}}, status: 502, code: "upstream_error", calls: 1, max: fast},
		{name: "503-proxy-twice", faults: []trulience.Fault{{Status: 503, Body: html}, {Status: 503, Body: html}}, status: 502, code: "upstream_error", calls: 2, max: fast},
		{name: "503-proxy-once-then-ok", faults: []trulience.Fault{{Status: 503, Body: html}}, status: 200, calls: 2, max: fast},
		{name: "504-proxy", faults: []trulience.Fault{{Status: 504, Body: html}}, status: 502, code: "upstream_error", calls: 1, max: fast},

		// Broken connections.
		{name: "connection-refused", refuse: true, status: 502, code: "upstream_error", calls: 0, max: fast},
		{name: "reset-mid-body", conn: resetMidBody, status: 502, code: "upstream_error", calls: -1, max: fast},
		{name: "reset-before-answer", conn: resetBeforeAnswer, status: 502, code: "upstream_error", calls: -1, max: fast},
		{name: "cut-mid-body", faults: []trulience.Fault{{Status: 200, Body: []byte(tok), Cut: true}}, status: 502, code: "upstream_error", calls: 1, max: fast},
		// Trulience read the request, then the connection ended: it may have
		// minted, so the request is not sent again, whatever the connection.
		{name: "closed-without-answer", faults: []trulience.Fault{{Drop: true}}, status: 502, code: "upstream_error", calls: 1, max: fast},
		{name: "accepts-never-answers", conn: blackHole, status: 504, code: "upstream_timeout", calls: -1, min: 900 * time.Millisecond, max: 1900 * time.Millisecond},
		{name: "hangs-after-request", faults: []trulience.Fault{{Hang: true}}, status: 504, code: "upstream_timeout", calls: 1, min: 900 * time.Millisecond, max: 1900 * time.Millisecond},
		{name: "trickles-body", faults: []trulience.Fault{{Status: 200, Body: []byte(tok), Trickle: 100 * time.Millisecond}}, status: 504, code: "upstream_timeout", calls: 1, min: 900 * time.Millisecond, max: 1900 * time.Millisecond},
		{name: "trickles-headers", conn: trickleHeaders, status: 504, code: "upstream_timeout", calls: -1, min: 900 * time.Millisecond, max: 1900 * time.Millisecond},

		// 200 with an unusable body.
		{name: "200-empty", faults: ok200(""), status: 502, code: "upstream_error", calls: 1, max: fast},
		{name: "200-truncated", faults: ok200(tok[:30]), status: 502, code: "upstream_error", calls: 1, max: fast},
		{name: "200-non-json", faults: ok200(string(html)), status: 502, code: "upstream_error", calls: 1, max: fast},
		{name: "200-oversized", faults: ok200(`{"jwt":"` + strings.Repeat("a", 70<<10) + `.b.c"}`), status: 502, code: "upstream_error", calls: 1, max: fast},
		{name: "200-jwt-number", faults: ok200(`{"jwt":12345,"expires_in":120,"avatar_id":"` + avatar + `"}`), status: 502, code: "upstream_error", calls: 1, max: fast},
		{name: "200-jwt-object", faults: ok200(`{"jwt":{"token":"a.b.c"},"expires_in":120}`), status: 502, code: "upstream_error", calls: 1, max: fast},
		{name: "200-jwt-not-a-jwt", faults: ok200(`{"jwt":"<script>alert(1)</script>","expires_in":120}`), status: 502, code: "upstream_error", calls: 1, max: fast},
		{name: "200-other-avatar", faults: ok200(`{"jwt":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln","expires_in":120,"avatar_id":"7"}`), status: 502, code: "upstream_error", calls: 1, max: fast},
	}
}

// TestTrulienceFaults runs every upstream fault through one function, each
// followed by a normal request that must succeed.
func TestTrulienceFaults(t *testing.T) {
	t.Parallel()
	f := newFixture(t, opts{gate: true})
	f.wantToken(t, f.post(`{}`)) // warm: init done, key cached, connection open
	for _, tc := range upstreamFaults() {
		t.Run(tc.name, func(t *testing.T) {
			f.sin.Reset()
			for _, ft := range tc.faults {
				f.sin.Enqueue(ft)
			}
			switch {
			case tc.refuse:
				f.gate.Refuse()
			case tc.conn != nil:
				f.gate.Handle(tc.conn)
			}
			a := f.post(`{"avatar_id":"` + avatar + `"}`)
			switch {
			case tc.refuse:
				f.gate.Restore(t)
			case tc.conn != nil:
				f.gate.Handle(nil)
			}
			if tc.status == 200 {
				f.wantToken(t, a)
			} else {
				want(t, a, tc.status, tc.code)
			}
			if tc.calls >= 0 && f.sin.Calls() != tc.calls {
				t.Errorf("%d calls reached Trulience, want %d", f.sin.Calls(), tc.calls)
			}
			if a.elapsed < tc.min || a.elapsed > tc.max {
				t.Errorf("answered after %v, want %v to %v", a.elapsed.Round(time.Millisecond), tc.min, tc.max)
			}
			if got := a.Headers["Retry-After"]; got != tc.retryAfter {
				t.Errorf("Retry-After %q, want %q", got, tc.retryAfter)
			}
			if a.Headers["Access-Control-Allow-Origin"] != site {
				t.Errorf("Access-Control-Allow-Origin %q on a failure for an allowed origin", a.Headers["Access-Control-Allow-Origin"])
			}
			// The next request is served normally.
			f.sin.Reset()
			f.wantToken(t, f.post(`{}`))
			t.Logf("%d %s in %v", a.Status, a.code(), a.elapsed.Round(time.Millisecond))
		})
	}
	if n := len(f.emu.InitDurations()); n != 1 {
		t.Errorf("the function initialised %d times: a fault crashed or timed it out", n)
	}
}
