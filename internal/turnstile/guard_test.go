package turnstile

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/trulience-token/trulience-token/internal/config"
	"github.com/trulience-token/trulience-token/internal/httpapi"
	"github.com/trulience-token/trulience-token/internal/metrics"
	"github.com/trulience-token/trulience-token/internal/secret"
	"github.com/trulience-token/trulience-token/internal/trulience"
)

type fakeSecrets struct {
	secret string
	err    error
}

func (f fakeSecrets) TurnstileSecret(context.Context) (string, error) { return f.secret, f.err }

type fakeVerifier struct {
	r     Result
	calls int
	seen  [3]string
}

func (f *fakeVerifier) Verify(_ context.Context, secret, token, ip string) Result {
	f.calls++
	f.seen = [3]string{secret, token, ip}
	return f.r
}

// TestGuardTable is the bot check's answer table in both modes.
func TestGuardTable(t *testing.T) {
	unreadable := fmt.Errorf("%w: GetSecretValue: timed out", secret.ErrUnavailable)
	tests := []struct {
		name     string
		token    string
		secrets  fakeSecrets
		result   Result
		enforce  string // code in enforce mode; "" lets it through
		logged   string // bot_check
		calls    int
		errorLog bool // an ERROR line names the cause (enforce)
	}{
		{"passed", testToken, fakeSecrets{secret: testSecret}, Result{Outcome: Passed, Attempts: 1}, "", "passed", 1, false},
		{"token missing", "", fakeSecrets{secret: testSecret}, Result{}, "bot_check_required", "missing", 0, false},
		{"Cloudflare says no", testToken, fakeSecrets{secret: testSecret}, Result{Outcome: Failed, Errors: []string{"invalid-input-response"}, Attempts: 1}, "bot_check_failed", "failed", 1, false},
		{"replayed", testToken, fakeSecrets{secret: testSecret}, Result{Outcome: Failed, Errors: []string{"timeout-or-duplicate"}, Attempts: 1}, "bot_check_failed", "failed", 1, false},
		{"hostname mismatch", testToken, fakeSecrets{secret: testSecret}, Result{Outcome: Failed, Mismatch: "hostname", Hostname: "evil.example", Attempts: 1}, "bot_check_failed", "failed", 1, false},
		{"unreachable", testToken, fakeSecrets{secret: testSecret}, Result{Outcome: Unavailable, Detail: "siteverify unreachable", Attempts: 2}, "bot_check_unavailable", "unavailable", 1, false},
		{"secret rejected", testToken, fakeSecrets{secret: testSecret}, Result{Outcome: SecretRejected, Errors: []string{"invalid-input-secret"}, Attempts: 1}, "bot_check_unavailable", "unavailable", 1, true},
		{"no turnstile_secret", testToken, fakeSecrets{err: secret.ErrNoTurnstileSecret}, Result{}, "secret_unavailable", "unavailable", 0, true},
		{"secret unreadable", testToken, fakeSecrets{err: unreadable}, Result{}, "secret_unavailable", "unavailable", 0, true},
	}
	for _, tt := range tests {
		for _, mode := range []config.BotCheckMode{config.BotCheckEnforce, config.BotCheckMonitor} {
			t.Run(tt.name+"/"+string(mode), func(t *testing.T) {
				var logs bytes.Buffer
				v := &fakeVerifier{r: tt.result}
				g := &Guard{Mode: mode, Verify: v, Secrets: tt.secrets, Log: slog.New(slog.NewJSONHandler(&logs, nil))}
				vd := g.Check(context.Background(), httpapi.Visitor{TurnstileToken: tt.token, SourceIP: "203.0.113.9", Origin: "https://www.example.com"})

				want := tt.enforce
				if mode == config.BotCheckMonitor {
					want = "" // monitor never refuses
				}
				got := ""
				if vd.Refuse != nil {
					got = vd.Refuse.Code
				}
				if got != want {
					t.Errorf("refusal %q, want %q", got, want)
				}
				if v.calls != tt.calls {
					t.Errorf("%d verifications, want %d", v.calls, tt.calls)
				}
				if v.calls > 0 && v.seen != [3]string{testSecret, testToken, "203.0.113.9"} {
					t.Errorf("verified with %q", v.seen)
				}
				var line bytes.Buffer
				h := slog.New(slog.NewJSONHandler(&line, nil))
				h.LogAttrs(context.Background(), slog.LevelInfo, "request", vd.Log...)
				if !strings.Contains(line.String(), `"bot_check":"`+tt.logged+`"`) {
					t.Errorf("request line %s lacks bot_check=%s", line.String(), tt.logged)
				}
				if !strings.Contains(line.String(), `"bot_check_mode":"`+string(mode)+`"`) {
					t.Errorf("request line %s lacks the mode", line.String())
				}
				for _, code := range tt.result.Errors {
					if !strings.Contains(line.String(), code) {
						t.Errorf("request line %s lacks Cloudflare's code %s", line.String(), code)
					}
				}
				if tt.errorLog && mode == config.BotCheckEnforce && !strings.Contains(logs.String(), `"level":"ERROR"`) {
					t.Errorf("no error line for the operator: %q", logs.String())
				}
				if tt.name == "no turnstile_secret" {
					if !strings.Contains(logs.String(), "could not run") || !strings.Contains(logs.String(), "turnstile_secret") {
						t.Errorf("the log does not say the check could not run for lack of turnstile_secret: %s", logs.String())
					}
				}
				all := logs.String() + line.String()
				if strings.Contains(all, testSecret) || strings.Contains(all, testToken) {
					t.Errorf("a log holds the secret or the token: %s", all)
				}
			})
		}
	}
}

// TestGuardThroughHandler: the guard in front of a handler, end to end in
// process, in enforce mode: refused visitors never reach the minter.
func TestGuardThroughHandler(t *testing.T) {
	sv := newSiteverify(t, no("invalid-input-response"))
	cfg, err := config.Load(func(k string) string {
		return map[string]string{
			"TRULIENCE_SECRET_ID": "s", "ALLOWED_AVATAR_IDS": "1", "ALLOWED_ORIGINS": "https://www.example.com",
			"BOT_CHECK": "enforce", "TURNSTILE_VERIFY_URL": sv.srv.URL,
		}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	g := &Guard{Mode: cfg.BotCheck.Mode, Verify: NewClient(cfg.BotCheck, nil), Secrets: fakeSecrets{secret: testSecret}, Log: slog.New(slog.DiscardHandler)}
	m := &countingMinter{}
	var logs bytes.Buffer
	h := httpapi.New(cfg, m, slog.New(slog.NewJSONHandler(&logs, nil)), g)
	ev := `{"version":"2.0","headers":{"origin":"https://www.example.com"},"requestContext":{"http":{"method":"POST","sourceIp":"192.0.2.4"}},"body":%q}`
	for _, b := range []string{`{}`, `{"turnstile_token":"` + testToken + `"}`} {
		out, err := h.Invoke(context.Background(), fmt.Appendf(nil, ev, b))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(out), `"statusCode":403`) {
			t.Errorf("answer %s, want 403", out)
		}
	}
	if m.n != 0 {
		t.Errorf("Trulience was called %d times for refused visitors", m.n)
	}
	if sv.count() != 1 {
		t.Errorf("siteverify called %d times, want 1 (none for the request without a token)", sv.count())
	}
	if sv.calls[0]["remoteip"] != "192.0.2.4" {
		t.Errorf("remoteip %q, want the event's source IP", sv.calls[0]["remoteip"])
	}
	if !strings.Contains(logs.String(), `"bot_check":"missing"`) || !strings.Contains(logs.String(), `"bot_check":"failed"`) {
		t.Errorf("log lines: %s", logs.String())
	}
}

type countingMinter struct{ n int }

func (m *countingMinter) Mint(context.Context, trulience.Request) (trulience.Token, error) {
	m.n++
	return trulience.Token{}, nil
}

// TestBotCheckFailedMetric: every token that does not pass is counted once
// in BotCheckFailed, in both modes, whether Cloudflare said no or could
// not be asked.
func TestBotCheckFailedMetric(t *testing.T) {
	for _, tc := range []struct {
		mode   string
		answer func(w http.ResponseWriter)
	}{
		{"enforce", nil},
		{"monitor", nil},
		{"enforce", func(w http.ResponseWriter) { w.WriteHeader(http.StatusBadGateway) }},
		{"monitor", func(w http.ResponseWriter) { w.WriteHeader(http.StatusBadGateway) }},
	} {
		sv := newSiteverify(t, no("invalid-input-response"))
		if tc.answer != nil {
			sv.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { tc.answer(w) })
		}
		cfg, err := config.Load(func(k string) string {
			return map[string]string{
				"TRULIENCE_SECRET_ID": "s", "ALLOWED_AVATAR_IDS": "1", "ALLOWED_ORIGINS": "https://www.example.com",
				"BOT_CHECK": tc.mode, "TURNSTILE_VERIFY_URL": sv.srv.URL, "BOT_CHECK_TIMEOUT": "1s",
			}[k]
		})
		if err != nil {
			t.Fatal(err)
		}
		g := &Guard{Mode: cfg.BotCheck.Mode, Verify: NewClient(cfg.BotCheck, nil), Secrets: fakeSecrets{secret: testSecret}, Log: slog.New(slog.DiscardHandler)}
		var records bytes.Buffer
		h := httpapi.New(cfg, &countingMinter{}, slog.New(slog.DiscardHandler), g).WithMeter(metrics.NewWriter(&records, "Test"))
		ev := `{"version":"2.0","headers":{"origin":"https://www.example.com"},"requestContext":{"http":{"method":"POST","sourceIp":"192.0.2.4"}},"body":"{\"turnstile_token\":\"` + testToken + `\"}"}`
		if _, err := h.Invoke(context.Background(), []byte(ev)); err != nil {
			t.Fatal(err)
		}
		var rec map[string]any
		if err := json.Unmarshal(records.Bytes(), &rec); err != nil {
			t.Fatalf("record %q: %v", records.String(), err)
		}
		if rec["BotCheckFailed"] != float64(1) {
			t.Errorf("%s, siteverify broken=%v: BotCheckFailed = %v, want 1", tc.mode, tc.answer != nil, rec["BotCheckFailed"])
		}
	}
}
