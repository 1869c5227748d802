package httpapi

import (
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

// TestTurnstileTokenField: the body's turnstile_token reaches the guards,
// and is accepted without any guard (the check off).
func TestTurnstileTokenField(t *testing.T) {
	long := strings.Repeat("a", MaxTurnstileToken)
	longRunes := strings.Repeat("é", MaxTurnstileToken/2) // 1024 characters, 2048 bytes
	accepted := []struct{ name, body, want string }{
		{"absent", `{}`, ""},
		{"empty", `{"turnstile_token":""}`, ""},
		{"token", `{"turnstile_token":"0.abc-DEF_123"}`, "0.abc-DEF_123"},
		{"with avatar", `{"avatar_id":"` + avatarB + `","turnstile_token":"XXXX.DUMMY.TOKEN.XXXX"}`, "XXXX.DUMMY.TOKEN.XXXX"},
		{"2048 characters", `{"turnstile_token":"` + long + `"}`, long},
		{"characters, not bytes", `{"turnstile_token":"` + longRunes + `"}`, longRunes},
	}
	for _, tt := range accepted {
		t.Run(tt.name, func(t *testing.T) {
			g := &fakeGuard{}
			m := &fakeMinter{}
			h, _ := newTestHandler(t, nil, m)
			h.guards = []Guard{g}
			if a := invoke(t, h, v2("POST", site, tt.body)); a.StatusCode != 200 {
				t.Fatalf("status %d %s", a.StatusCode, a.errCode)
			}
			if len(g.seen) != 1 || g.seen[0].TurnstileToken != tt.want {
				t.Errorf("guard saw %+v, want TurnstileToken %q", g.seen, tt.want)
			}
			// Without guards (the check off) the field is accepted and ignored.
			h, _ = newTestHandler(t, nil, m)
			if a := invoke(t, h, v2("POST", site, tt.body)); a.StatusCode != 200 {
				t.Fatalf("without a bot check: status %d %s", a.StatusCode, a.errCode)
			}
		})
	}

	refused := []struct{ name, body string }{
		{"2049 characters", `{"turnstile_token":"` + long + `a"}`},
		{"number", `{"turnstile_token":12}`},
		{"null", `{"turnstile_token":null}`},
		{"array", `{"turnstile_token":["a"]}`},
		{"object", `{"turnstile_token":{"a":"b"}}`},
		{"twice", `{"turnstile_token":"a","turnstile_token":"b"}`},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			g := &fakeGuard{}
			m := &fakeMinter{}
			h, logs := newTestHandler(t, nil, m)
			h.guards = []Guard{g}
			a := invoke(t, h, v2("POST", site, tt.body))
			if a.StatusCode != 400 || a.errCode != "invalid_request" {
				t.Fatalf("got %d %q, want 400 invalid_request", a.StatusCode, a.errCode)
			}
			if !strings.Contains(a.errMsg, "turnstile_token") {
				t.Errorf("message %q does not name turnstile_token", a.errMsg)
			}
			if len(g.seen) != 0 || len(m.calls) != 0 {
				t.Error("a refused body reached the guard or Trulience")
			}
			if !strings.Contains(logs.String(), `"bot_check":"skipped"`) {
				t.Errorf("log line lacks bot_check=skipped: %s", logs.String())
			}
		})
	}
}

// TestBotCheckLogField: every request line says what the bot check did;
// skipped when no guard spoke on it.
func TestBotCheckLogField(t *testing.T) {
	h, logs := newTestHandler(t, nil, &fakeMinter{})
	invoke(t, h, v2("POST", site, `{"turnstile_token":"secret-token-value"}`))
	var line map[string]any
	if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
		t.Fatalf("log line: %v", err)
	}
	if line["bot_check"] != "skipped" {
		t.Errorf("bot_check = %v, want skipped with the check off", line["bot_check"])
	}
	if strings.Contains(logs.String(), "secret-token-value") {
		t.Error("the log line holds the Turnstile token")
	}

	h, logs = newTestHandler(t, nil, &fakeMinter{})
	h.guards = []Guard{&fakeGuard{attr: slog.String("bot_check", "passed")}}
	invoke(t, h, v2("POST", site, `{}`))
	if s := logs.String(); !strings.Contains(s, `"bot_check":"passed"`) || strings.Contains(s, "skipped") {
		t.Errorf("the guard's bot_check is not the one logged: %s", s)
	}
}

// TestBotCheckProblems: the bot check's rows of the error table.
func TestBotCheckProblems(t *testing.T) {
	for _, tt := range []struct {
		p      *Problem
		status int
		code   string
	}{
		{ProblemBotCheckRequired, 403, "bot_check_required"},
		{ProblemBotCheckFailed, 403, "bot_check_failed"},
		{ProblemBotCheckUnavailable, 503, "bot_check_unavailable"},
		{ProblemSecretUnavailable, 503, "secret_unavailable"},
	} {
		h, _ := newTestHandler(t, nil, &fakeMinter{})
		h.guards = []Guard{&fakeGuard{refuse: tt.p}}
		a := invoke(t, h, v2("POST", site, `{}`))
		if a.StatusCode != tt.status || a.errCode != tt.code || a.errMsg == "" {
			t.Errorf("got %d %q %q, want %d %q", a.StatusCode, a.errCode, a.errMsg, tt.status, tt.code)
		}
		if a.Headers["Access-Control-Allow-Origin"] != site {
			t.Errorf("%s: no CORS header on a function URL answer: %v", tt.code, a.Headers)
		}
	}
}
