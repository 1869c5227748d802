package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/trulience-token/trulience-token/dev/devstack"
	"github.com/trulience-token/trulience-token/dev/standin/trulience"
)

// TestToken: a browser's token request is answered with a JWT the stand-in
// minted, after exactly one upstream call carrying the key, the documented
// headers and the documented body.
func TestToken(t *testing.T) {
	h := newHarness(t, devstack.Options{})
	r := h.do(t, http.MethodPost, h.SiteURL, `{"avatar_id":"`+devstack.DemoAvatarID+`","expire_at":300}`)
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	var tok tokenBody
	if err := json.Unmarshal(r.body, &tok); err != nil {
		t.Fatal(err)
	}
	if tok.ExpiresIn != 300 || tok.AvatarID != devstack.DemoAvatarID {
		t.Errorf("body %s", r.body)
	}
	if !h.StandIn.WasMinted(tok.JWT) {
		t.Errorf("JWT %q was not minted by the stand-in", tok.JWT)
	}
	if c, err := h.StandIn.Verify(tok.JWT); err != nil || c.AvatarID != devstack.DemoAvatarID || c.Expires-c.IssuedAt != 300 {
		t.Errorf("claims %+v, %v", c, err)
	}
	for k, want := range map[string]string{
		"Content-Type":                "application/json",
		"Cache-Control":               "no-store",
		"Access-Control-Allow-Origin": h.SiteURL,
		"Vary":                        "Origin",
	} {
		if got := r.header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}

	reqs := h.StandIn.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d upstream calls, want 1", len(reqs))
	}
	up := reqs[0]
	if up.Method != http.MethodPost || up.Path != trulience.TokenPath {
		t.Errorf("upstream %s %s", up.Method, up.Path)
	}
	if got, want := string(up.Body), `{"avatar_id":"`+devstack.DemoAvatarID+`","expire_at":300}`; got != want {
		t.Errorf("upstream body %s, want %s", got, want)
	}
	for k, want := range map[string]string{
		"X-Api-Key":    h.APIKey,
		"Content-Type": "application/json",
		"Accept":       "application/json",
		"Origin":       h.SiteURL,
	} {
		if got := up.Header.Get(k); got != want {
			t.Errorf("upstream %s = %q, want %q", k, got, want)
		}
	}
	if ua := up.Header.Get("User-Agent"); !strings.Contains(ua, "trulience-token") {
		t.Errorf("upstream User-Agent %q does not name the project", ua)
	}

	// Defaults: an empty body asks for the first allowed avatar, without expire_at.
	tok = h.token(t, "")
	last, _ := h.StandIn.LastRequest()
	if tok.AvatarID != devstack.DemoAvatarID || string(last.Body) != `{"avatar_id":"`+devstack.DemoAvatarID+`"}` {
		t.Errorf("empty body: answer %+v, upstream body %s", tok, last.Body)
	}
	// Warm requests reuse one upstream connection.
	for range 5 {
		h.token(t, `{}`)
	}
	if n := h.StandIn.Connections(); n != 1 {
		t.Errorf("%d upstream connections for 7 requests, want 1 (keep-alive)", n)
	}
}

// TestRefused: answers that must never reach Trulience.
func TestRefused(t *testing.T) {
	h := newHarness(t, devstack.Options{})
	tests := []struct {
		name, method, origin, body string
		status                     int
		code                       string
	}{
		{"origin not allowed", "POST", "https://evil.example", `{}`, 403, "origin_not_allowed"},
		{"origin differs by port", "POST", h.SiteURL + "1", `{}`, 403, "origin_not_allowed"},
		{"avatar not allowed", "POST", h.SiteURL, `{"avatar_id":"123"}`, 403, "avatar_not_allowed"},
		{"numeric avatar_id", "POST", h.SiteURL, `{"avatar_id":4386676996480451678}`, 400, "invalid_request"},
		{"unknown field", "POST", h.SiteURL, `{"avatar":"1"}`, 400, "invalid_request"},
		{"duplicate field", "POST", h.SiteURL, `{"expire_at":60,"expire_at":61}`, 400, "invalid_request"},
		{"expire_at too long", "POST", h.SiteURL, `{"expire_at":3601}`, 400, "invalid_request"},
		{"not json", "POST", h.SiteURL, `avatar`, 400, "invalid_request"},
		{"too large", "POST", h.SiteURL, `{"avatar_id":"1` + strings.Repeat("1", 5000) + `"}`, 413, "payload_too_large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do(t, tt.method, tt.origin, tt.body)
			if r.status != tt.status || r.code() != tt.code {
				t.Errorf("got %d %s, want %d %s", r.status, r.body, tt.status, tt.code)
			}
			if r.header.Get("Content-Type") != "application/json" || r.header.Get("Cache-Control") != "no-store" {
				t.Errorf("headers %v", r.header)
			}
		})
	}
	if n := h.StandIn.Calls(); n != 0 {
		t.Errorf("Trulience was called %d times for refused requests", n)
	}
	if r := h.do(t, "POST", "https://evil.example", `{}`); r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("refused origin got ACAO %q", r.header.Get("Access-Control-Allow-Origin"))
	}
}

// TestPreflight: the front door answers a browser's preflight as the
// deployed HTTP API does (its CORS configuration, from template.yaml):
// 204 with the CORS headers for an allowed origin, 204 without them for
// another, and the function is never invoked.
func TestPreflight(t *testing.T) {
	h := newHarness(t, devstack.Options{})
	preflight := func(origin string) reply {
		t.Helper()
		return h.send(t, http.MethodOptions, map[string]string{"Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}, "")
	}
	r := preflight(h.SiteURL)
	if r.status != http.StatusNoContent || r.header.Get("Access-Control-Allow-Origin") != h.SiteURL ||
		r.header.Get("Access-Control-Allow-Methods") != "POST" || r.header.Get("Access-Control-Allow-Headers") != "content-type" ||
		r.header.Get("Access-Control-Max-Age") != "600" {
		t.Errorf("allowed preflight: %d %v", r.status, r.header)
	}
	r = preflight("https://evil.example")
	if r.status != http.StatusNoContent || r.header.Get("Access-Control-Allow-Origin") != "" || r.header.Get("Access-Control-Allow-Methods") != "" {
		t.Errorf("refused preflight: %d %v, want 204 without CORS headers", r.status, r.header)
	}
	if n := strings.Count(h.Function.Logs(), "INVOKE START"); n != 0 {
		t.Errorf("preflights invoked the function %d times", n)
	}
	if h.StandIn.Calls() != 0 {
		t.Error("a preflight reached Trulience")
	}
}

// TestUpstreamFailures: Trulience's errors map to the documented answers,
// with the documented retries.
func TestUpstreamFailures(t *testing.T) {
	h := newHarness(t, devstack.Options{Env: map[string]string{"UPSTREAM_TIMEOUT": "1s"}})
	h.token(t, `{}`) // warm: the key is cached
	tests := []struct {
		name   string
		faults []trulience.Fault
		status int
		code   string
		calls  int
	}{
		{"429 twice", []trulience.Fault{limited(), limited()}, 429, "rate_limited", 2},
		{"429 then ok", []trulience.Fault{limited()}, 200, "", 2},
		{"500", []trulience.Fault{trulience.ErrInternal.Fault()}, 502, "upstream_error", 1},
		{"403 scope", []trulience.Fault{trulience.ErrScope.Fault()}, 502, "upstream_error", 1},
		{"403 origin", []trulience.Fault{trulience.ErrOrigin.Fault()}, 502, "upstream_error", 1},
		{"503 then ok", []trulience.Fault{{Status: 503, Body: []byte(`{}`)}}, 200, "", 2},
		{"503 twice", []trulience.Fault{{Status: 503, Body: []byte(`{}`)}, {Status: 503, Body: []byte(`{}`)}}, 502, "upstream_error", 2},
		{"dropped before answer", []trulience.Fault{{Drop: true}}, 502, "upstream_error", 1},
		{"bad body", []trulience.Fault{{Status: 200, Body: []byte(`{"jwt":`)}}, 502, "upstream_error", 1},
		{"cut body", []trulience.Fault{{Status: 200, Body: []byte(`{"jwt":"eyJ.e30.x","expires_in":120,"avatar_id":"1"}`), Cut: true}}, 502, "upstream_error", 1},
		{"hang", []trulience.Fault{{Hang: true}}, 504, "upstream_timeout", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := h.StandIn.Calls()
			h.StandIn.Enqueue(tt.faults...)
			start := time.Now()
			r := h.do(t, http.MethodPost, h.SiteURL, `{}`)
			if r.status != tt.status || (tt.code != "" && r.code() != tt.code) {
				t.Errorf("got %d %s, want %d %s", r.status, r.body, tt.status, tt.code)
			}
			if calls := h.StandIn.Calls() - before; tt.calls >= 0 && calls != tt.calls {
				t.Errorf("%d upstream calls, want %d", calls, tt.calls)
			}
			if tt.status == 429 && r.header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
			t.Logf("%s: %d in %v", tt.name, r.status, time.Since(start).Round(time.Millisecond))
			if n := h.StandIn.DropFaults(); n != 0 {
				t.Errorf("%d faults left unused", n)
			}
		})
	}
	h.token(t, `{}`) // still serving
}

func limited() trulience.Fault {
	f := trulience.ErrRateLimited.Fault()
	f.Header = http.Header{"Retry-After": {"1"}}
	return f
}
