package config

import (
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestSessionsOffByDefault(t *testing.T) {
	c, err := Load(env(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Sessions.On() || c.Sessions != (Sessions{}) {
		t.Errorf("Sessions = %+v, want off", c.Sessions)
	}
}

func TestLoadSessions(t *testing.T) {
	c, err := Load(env(t, map[string]string{"MAX_LIVE_SESSIONS": " 20 ", "DAILY_SESSION_MINUTES": "600", "SESSIONS_TABLE": "stack-sessions"}))
	if err != nil {
		t.Fatal(err)
	}
	if want := (Sessions{MaxLive: 20, DailyMinutes: 600, Table: "stack-sessions"}); c.Sessions != want {
		t.Errorf("Sessions = %+v, want %+v", c.Sessions, want)
	}
}

// Every bad variable is named at once, beside the token function's own.
func TestSessionsRefused(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want []string
	}{
		{map[string]string{"MAX_LIVE_SESSIONS": "5"}, []string{"SESSIONS_TABLE"}},
		{map[string]string{"DAILY_SESSION_MINUTES": "60"}, []string{"SESSIONS_TABLE"}},
		{map[string]string{"MAX_LIVE_SESSIONS": "0", "DAILY_SESSION_MINUTES": "1.5", "SESSIONS_TABLE": "t"}, []string{"MAX_LIVE_SESSIONS", "DAILY_SESSION_MINUTES"}},
		{map[string]string{"MAX_LIVE_SESSIONS": "many", "LIMITS_FAIL_MODE": "maybe", "TRULIENCE_SECRET_ID": "-"}, []string{"MAX_LIVE_SESSIONS", "LIMITS_FAIL_MODE", "TRULIENCE_SECRET_ID"}},
		// Above what template.yaml allows: ×60 would overflow int64.
		{map[string]string{"DAILY_SESSION_MINUTES": "153722867280912931", "SESSIONS_TABLE": "t"}, []string{"DAILY_SESSION_MINUTES"}},
		{map[string]string{"DAILY_SESSION_MINUTES": "100000000", "MAX_LIVE_SESSIONS": "1000000", "SESSIONS_TABLE": "t"}, []string{"DAILY_SESSION_MINUTES", "MAX_LIVE_SESSIONS"}},
	}
	for _, tt := range tests {
		_, err := Load(env(t, tt.env))
		if err == nil {
			t.Errorf("%v: accepted", tt.env)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w+":") {
				t.Errorf("%v: error %q does not name %s", tt.env, err, w)
			}
		}
	}
}

func webhookEnv(vars map[string]string) func(string) string {
	m := map[string]string{"SESSIONS_TABLE": "stack-sessions", "WEBHOOK_SECRET_ID": "stack-webhook-key"}
	for k, v := range vars {
		if v == "-" {
			delete(m, k)
			continue
		}
		m[k] = v
	}
	return func(k string) string { return m[k] }
}

func TestLoadWebhookDefaults(t *testing.T) {
	w, err := LoadWebhook(webhookEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := Webhook{Table: "stack-sessions", SecretID: "stack-webhook-key", HeaderName: "X-Webhook-Secret", SessionMax: time.Hour, LogLevel: slog.LevelInfo, MetricsNamespace: DefaultMetricsNamespace}
	if w != want {
		t.Errorf("got %+v\nwant %+v", w, want)
	}
}

func TestLoadWebhook(t *testing.T) {
	w, err := LoadWebhook(webhookEnv(map[string]string{
		"WEBHOOK_HEADER_NAME": "X-Trulience-Hook", "TRULIENCE_CUSTOMER_ID": "1234",
		"SESSION_MAX_MINUTES": "90", "LOG_LEVEL": "debug", "METRICS_NAMESPACE": "Avatars",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := Webhook{Table: "stack-sessions", SecretID: "stack-webhook-key", HeaderName: "X-Trulience-Hook", CustomerID: "1234", SessionMax: 90 * time.Minute, LogLevel: slog.LevelDebug, MetricsNamespace: "Avatars"}
	if w != want {
		t.Errorf("got %+v\nwant %+v", w, want)
	}
}

func TestLoadWebhookRefused(t *testing.T) {
	_, err := LoadWebhook(webhookEnv(map[string]string{
		"SESSIONS_TABLE": "-", "WEBHOOK_SECRET_ID": " ", "WEBHOOK_HEADER_NAME": "X Secret",
		"TRULIENCE_CUSTOMER_ID": "acme", "SESSION_MAX_MINUTES": "1441", "LOG_LEVEL": "loud", "METRICS_NAMESPACE": "AWS/Lambda",
	}))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, name := range []string{"SESSIONS_TABLE", "WEBHOOK_SECRET_ID", "WEBHOOK_HEADER_NAME", "TRULIENCE_CUSTOMER_ID", "SESSION_MAX_MINUTES", "LOG_LEVEL", "METRICS_NAMESPACE"} {
		if !strings.Contains(err.Error(), name+":") {
			t.Errorf("error %q does not name %s", err, name)
		}
	}
	for _, v := range []string{"0", "-5", "1h", "1e3"} {
		if _, err := LoadWebhook(webhookEnv(map[string]string{"SESSION_MAX_MINUTES": v})); err == nil {
			t.Errorf("SESSION_MAX_MINUTES=%q accepted", v)
		}
	}
}

// An invalid METRICS_NAMESPACE is reported, and the namespace stays the
// default: the misconfigured webhook still writes valid metrics records.
func TestLoadWebhookBadNamespaceKeepsDefault(t *testing.T) {
	for _, ns := range []string{"AWS/Lambda", "bad\x00name", strings.Repeat("n", 256)} {
		w, err := LoadWebhook(webhookEnv(map[string]string{"METRICS_NAMESPACE": ns}))
		if err == nil || !strings.Contains(err.Error(), "METRICS_NAMESPACE:") {
			t.Errorf("%q: error %v", ns, err)
		}
		if w.MetricsNamespace != DefaultMetricsNamespace {
			t.Errorf("%q: namespace %q, want %q", ns, w.MetricsNamespace, DefaultMetricsNamespace)
		}
	}
}

// The largest caps template.yaml allows are accepted.
func TestSessionsLargest(t *testing.T) {
	c, err := Load(env(t, map[string]string{"MAX_LIVE_SESSIONS": "999999", "DAILY_SESSION_MINUTES": "99999999", "SESSIONS_TABLE": "t"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Sessions.MaxLive != 999999 || c.Sessions.DailyMinutes != 99999999 {
		t.Errorf("Sessions = %+v", c.Sessions)
	}
}

// TRULIENCE_CUSTOMER_ID is compared with a JSON integer's digits, which
// have no leading zeros: a zero-padded ID means the same number.
func TestLoadWebhookCustomerIDLeadingZeros(t *testing.T) {
	for v, want := range map[string]string{"1234": "1234", "001234": "1234", " 0042 ": "42", "0": "0", "000": "0"} {
		w, err := LoadWebhook(webhookEnv(map[string]string{"TRULIENCE_CUSTOMER_ID": v}))
		if err != nil || w.CustomerID != want {
			t.Errorf("%q: CustomerID %q, %v; want %q", v, w.CustomerID, err, want)
		}
	}
}
