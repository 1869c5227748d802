package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/trulience-token/trulience-token/dev/devstack"
	"github.com/trulience-token/trulience-token/dev/standin/turnstile"
)

// e2eTurnstileSecret is a Turnstile secret key the siteverify stand-in knows
// (not one of Cloudflare's test keys): its tokens are minted, single-use
// and name the page's hostname.
const e2eTurnstileSecret = "0x4AAAAAAAe2eSECRETsecret"

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// botBody is a request body carrying a Turnstile token.
func botBody(token string) string {
	b, _ := json.Marshal(map[string]string{"turnstile_token": token})
	return string(b)
}

// counts is how many calls each peer has had.
type counts struct{ trulience, siteverify int }

func (h *harness) counts() counts {
	return counts{len(h.StandIn.Requests()), h.Turnstile.Count()}
}

// TestBotCheckEnforce: with BOT_CHECK=enforce, every row of the bot check's
// table gives its answer through the front door, no request without a
// valid token reaches Trulience, a token works once, and a request refused
// by a cheaper check costs no call to Cloudflare.
func TestBotCheckEnforce(t *testing.T) {
	h := newHarness(t, devstack.Options{
		BotCheck:        "enforce",
		TurnstileSecret: e2eTurnstileSecret,
		Env:             map[string]string{"BOT_CHECK_TIMEOUT": "300ms"},
	})
	mint := func(host string) string {
		return h.Turnstile.Mint(e2eTurnstileSecret, turnstile.TokenOptions{Hostname: host})
	}
	valid := mint("127.0.0.1")

	rows := []struct {
		name         string
		origin, body string
		faults       []turnstile.Fault
		status       int
		code         string
		logged       string // bot_check on the request's line
		siteverify   int    // calls it costs Cloudflare
	}{
		{"no token", h.SiteURL, `{}`, nil, 403, "bot_check_required", "missing", 0},
		{"empty token", h.SiteURL, botBody(""), nil, 403, "bot_check_required", "missing", 0},
		{"token never issued", h.SiteURL, botBody("0.forged"), nil, 403, "bot_check_failed", "failed", 1},
		{"dummy token with a real secret", h.SiteURL, botBody(turnstile.DummyToken), nil, 403, "bot_check_failed", "failed", 1},
		{"valid token", h.SiteURL, botBody(valid), nil, 200, "", "passed", 1},
		{"the same token again", h.SiteURL, botBody(valid), nil, 403, "bot_check_failed", "failed", 1},
		{"token for another site", h.SiteURL, botBody(mint("evil.example")), nil, 403, "bot_check_failed", "failed", 1},
		{"origin refused first", "https://evil.example", botBody(mint("127.0.0.1")), nil, 403, "origin_not_allowed", "skipped", 0},
		{"avatar refused first", h.SiteURL, `{"avatar_id":"1","turnstile_token":"` + mint("127.0.0.1") + `"}`, nil, 403, "avatar_not_allowed", "skipped", 0},
		{"token too long", h.SiteURL, botBody(strings.Repeat("a", 2049)), nil, 400, "invalid_request", "skipped", 0},
		{"Cloudflare unreachable", h.SiteURL, botBody(mint("127.0.0.1")), []turnstile.Fault{turnstile.Down, turnstile.Down}, 503, "bot_check_unavailable", "unavailable", 2},
		{"Cloudflare 5xx", h.SiteURL, botBody(mint("127.0.0.1")), []turnstile.Fault{turnstile.ServerError, turnstile.ServerError}, 503, "bot_check_unavailable", "unavailable", 2},
		{"Cloudflare internal-error", h.SiteURL, botBody(mint("127.0.0.1")), []turnstile.Fault{turnstile.InternalErr, turnstile.InternalErr}, 503, "bot_check_unavailable", "unavailable", 2},
		{"Cloudflare too slow", h.SiteURL, botBody(mint("127.0.0.1")), []turnstile.Fault{turnstile.Slow(2 * time.Second), turnstile.Slow(2 * time.Second)}, 503, "bot_check_unavailable", "unavailable", 2},
		{"one 5xx, then the retry passes", h.SiteURL, botBody(mint("127.0.0.1")), []turnstile.Fault{turnstile.ServerError}, 200, "", "passed", 2},
		{"one timeout, then the retry passes", h.SiteURL, botBody(mint("127.0.0.1")), []turnstile.Fault{turnstile.Slow(2 * time.Second)}, 200, "", "passed", 2},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			h.Turnstile.Enqueue(row.faults...)
			t.Cleanup(func() { h.Turnstile.DropFaults() })
			before := h.counts()
			logBefore := len(h.log.String())
			r := h.do(t, http.MethodPost, row.origin, row.body)
			if r.status != row.status || r.code() != row.code {
				t.Fatalf("got %d %q, want %d %q: %s", r.status, r.code(), row.status, row.code, r.body)
			}
			after := h.counts()
			wantTrulience := 0
			if row.status == 200 {
				wantTrulience = 1
			}
			if got := after.trulience - before.trulience; got != wantTrulience {
				t.Errorf("Trulience called %d times, want %d", got, wantTrulience)
			}
			if got := after.siteverify - before.siteverify; got != row.siteverify {
				t.Errorf("siteverify called %d times, want %d", got, row.siteverify)
			}
			if row.siteverify == 2 {
				calls := h.Turnstile.Calls()
				a, b := calls[len(calls)-2], calls[len(calls)-1]
				if !uuidV4.MatchString(a.IdempotencyKey) || a.IdempotencyKey != b.IdempotencyKey {
					t.Errorf("idempotency keys %q and %q: want one UUID reused on the retry", a.IdempotencyKey, b.IdempotencyKey)
				}
			}
			line := requestLine(t, h, logBefore)
			if line["bot_check"] != row.logged {
				t.Errorf("bot_check = %v, want %s (line %v)", line["bot_check"], row.logged, line)
			}
		})
	}

	// Every verification carried the caller's source IP.
	for _, c := range h.Turnstile.Calls() {
		if c.RemoteIP != "127.0.0.1" {
			t.Errorf("remoteip %q, want the front door's source IP 127.0.0.1", c.RemoteIP)
		}
	}
	// The Turnstile secret came from the same read as the API key.
	if n := h.SecretsCalls("GetSecretValue"); n != 1 {
		t.Errorf("GetSecretValue called %d times, want 1 (the bot check adds no Secrets Manager call)", n)
	}
	logs := h.log.String() + h.Function.Logs()
	if strings.Contains(logs, e2eTurnstileSecret) || strings.Contains(logs, valid) {
		t.Error("the logs hold the Turnstile secret or a token")
	}
	if !strings.Contains(logs, `"bot_check_errors":["timeout-or-duplicate"]`) {
		t.Error("no log line names Cloudflare's timeout-or-duplicate")
	}
}

// requestLine is the function's request log line written after offset.
func requestLine(t *testing.T, h *harness, offset int) map[string]any {
	t.Helper()
	var line map[string]any
	if !waitFor(5*time.Second, func() bool {
		for l := range strings.Lines(h.log.String()[offset:]) {
			i := strings.Index(l, `{"time"`)
			if i < 0 {
				continue
			}
			var m map[string]any
			if json.Unmarshal([]byte(l[i:]), &m) == nil && m["msg"] == "request" {
				line = m
				return true
			}
		}
		return false
	}) {
		t.Fatalf("no request line in the log after offset %d", offset)
	}
	return line
}

// TestBotCheckSecretProblems: a Turnstile secret Cloudflare refuses gives
// 503 bot_check_unavailable and an error line naming the cause; a secret
// without turnstile_secret gives 503 secret_unavailable in enforce mode.
func TestBotCheckSecretProblems(t *testing.T) {
	const apiKey = "tru_live_e2e_botcheck_secret"
	h := newHarness(t, devstack.Options{
		BotCheck: "enforce",
		APIKey:   apiKey,
		// A secret Cloudflare (the stand-in) does not know.
		SecretValue: `{"api_key":"` + apiKey + `","turnstile_secret":"0x4AAAAAAAunknownSECRET"}`,
		Env:         map[string]string{"SECRET_TTL": "1ms"},
	})
	before := len(h.StandIn.Requests())
	r := h.do(t, http.MethodPost, h.SiteURL, botBody(turnstile.DummyToken))
	if r.status != 503 || r.code() != "bot_check_unavailable" {
		t.Fatalf("unknown secret: %d %s", r.status, r.body)
	}
	if !waitFor(5*time.Second, func() bool {
		return strings.Contains(h.log.String(), `"level":"ERROR"`) && strings.Contains(h.log.String(), "invalid-input-secret")
	}) {
		t.Error("no error line names invalid-input-secret")
	}
	if strings.Contains(h.log.String(), "0x4AAAAAAAunknownSECRET") {
		t.Error("the log holds the Turnstile secret")
	}

	if err := h.PutSecret(context.Background(), `{"api_key":"`+apiKey+`"}`); err != nil {
		t.Fatal(err)
	}
	r = h.do(t, http.MethodPost, h.SiteURL, botBody(turnstile.DummyToken))
	if r.status != 503 || r.code() != "secret_unavailable" {
		t.Fatalf("no turnstile_secret: %d %s", r.status, r.body)
	}
	if !waitFor(5*time.Second, func() bool { return strings.Contains(h.log.String(), "bot check could not run") }) {
		t.Error("no log line says the bot check could not run")
	}
	if n := len(h.StandIn.Requests()) - before; n != 0 {
		t.Errorf("Trulience called %d times", n)
	}
}

// TestBotCheckMonitor: monitor verifies and logs but never refuses, even
// when the token is missing, refused, Cloudflare is down or the secret has
// no turnstile_secret.
func TestBotCheckMonitor(t *testing.T) {
	const apiKey = "tru_live_e2e_botcheck_monitor"
	h := newHarness(t, devstack.Options{
		BotCheck:        "monitor",
		APIKey:          apiKey,
		TurnstileSecret: e2eTurnstileSecret,
		Env:             map[string]string{"BOT_CHECK_TIMEOUT": "300ms", "SECRET_TTL": "1ms"},
	})
	valid := h.Turnstile.Mint(e2eTurnstileSecret, turnstile.TokenOptions{Hostname: "localhost"})
	steps := []struct {
		name   string
		body   string
		faults []turnstile.Fault
		logged string
	}{
		{"no token", `{}`, nil, "missing"},
		{"forged token", botBody("0.forged"), nil, "failed"},
		{"valid token", botBody(valid), nil, "passed"},
		{"replayed token", botBody(valid), nil, "failed"},
		{"Cloudflare down", botBody(valid), []turnstile.Fault{turnstile.Down, turnstile.Down}, "unavailable"},
	}
	for _, s := range steps {
		h.Turnstile.Enqueue(s.faults...)
		offset := len(h.log.String())
		if r := h.do(t, http.MethodPost, h.SiteURL, s.body); r.status != 200 {
			t.Fatalf("%s: %d %s, want 200 (monitor never refuses)", s.name, r.status, r.body)
		}
		line := requestLine(t, h, offset)
		if line["bot_check"] != s.logged || line["bot_check_mode"] != "monitor" {
			t.Errorf("%s: bot_check %v mode %v, want %s in monitor", s.name, line["bot_check"], line["bot_check_mode"], s.logged)
		}
	}
	if err := h.PutSecret(context.Background(), `{"api_key":"`+apiKey+`"}`); err != nil {
		t.Fatal(err)
	}
	if r := h.do(t, http.MethodPost, h.SiteURL, botBody(valid)); r.status != 200 {
		t.Fatalf("no turnstile_secret: %d %s, want 200 in monitor", r.status, r.body)
	}
	if !waitFor(5*time.Second, func() bool { return strings.Contains(h.log.String(), "bot check could not run (monitor mode") }) {
		t.Error("no log line says the check could not run")
	}
	if n := len(h.StandIn.Requests()); n != len(steps)+1 {
		t.Errorf("Trulience called %d times, want %d", n, len(steps)+1)
	}
}

// TestBotCheckRefusalsCostNoQuota: with the bot check enforced and both
// limits on, requests the bot check refuses (no token, a forged one,
// Cloudflare unreachable) leave the visitor's count and the day's as they
// were: after them, the limit's number of good requests all get tokens,
// and only the next one is over the limit.
func TestBotCheckRefusalsCostNoQuota(t *testing.T) {
	const limit = 3
	h := newHarness(t, devstack.Options{
		BotCheck:        "enforce",
		TurnstileSecret: e2eTurnstileSecret,
		Limits:          &devstack.Limits{Client: fmt.Sprintf("%d/24h", limit), Daily: fmt.Sprint(limit)},
		Env:             map[string]string{"BOT_CHECK_TIMEOUT": "300ms"},
	})
	mint := func() string {
		return h.Turnstile.Mint(e2eTurnstileSecret, turnstile.TokenOptions{Hostname: "127.0.0.1"})
	}
	sameWindow(t, 24*time.Hour, func() bool {
		for i := range 2 * limit {
			r := h.do(t, http.MethodPost, h.SiteURL, `{}`)
			if r.status != http.StatusForbidden || r.code() != "bot_check_required" {
				t.Fatalf("request %d without a token: %d %s", i, r.status, r.body)
			}
		}
		if r := h.do(t, http.MethodPost, h.SiteURL, botBody("0.forged")); r.code() != "bot_check_failed" {
			t.Fatalf("forged token: %d %s", r.status, r.body)
		}
		h.Turnstile.Enqueue(turnstile.Down, turnstile.Down)
		if r := h.do(t, http.MethodPost, h.SiteURL, botBody(mint())); r.code() != "bot_check_unavailable" {
			t.Fatalf("Cloudflare unreachable: %d %s", r.status, r.body)
		}
		items, err := h.LimitItems(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			if it.Count != 0 {
				t.Errorf("after the bot check's refusals, counter %q is at %d, want 0", it.Key, it.Count)
			}
		}
		for i := range limit {
			if r := h.do(t, http.MethodPost, h.SiteURL, botBody(mint())); r.status != http.StatusOK {
				t.Fatalf("good request %d of %d: %d %s", i+1, limit, r.status, r.body)
			}
		}
		if r := h.do(t, http.MethodPost, h.SiteURL, botBody(mint())); r.status != http.StatusTooManyRequests || r.code() != "limit_exceeded" {
			t.Errorf("good request %d: %d %s, want 429 limit_exceeded", limit+1, r.status, r.body)
		}
		return true
	})
	if n := len(h.StandIn.Minted()); n != limit {
		t.Errorf("Trulience was called for %d tokens, want %d", n, limit)
	}
}
