package webhook

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trulience-token/trulience-token/internal/config"
	"github.com/trulience-token/trulience-token/internal/metrics"
	"github.com/trulience-token/trulience-token/internal/sessions"
)

const hookSecret = "Zq8vT3nR0pLk5sW2yXc7bN4mJ9hG6fD1aE0uIoPq"

// fakeLedger records what it is asked.
type fakeLedger struct {
	mu       sync.Mutex
	events   []string
	maxDur   time.Duration // the last connect's
	sweeps   int
	change   sessions.Change
	err      error
	swept    sessions.Swept
	sweepErr error
}

func (l *fakeLedger) Connect(_ context.Context, e sessions.Event) (sessions.Change, error) {
	l.mu.Lock()
	l.maxDur = e.MaxDuration
	l.mu.Unlock()
	return l.record("connect " + e.SessionID)
}

func (l *fakeLedger) Disconnect(_ context.Context, e sessions.Event) (sessions.Change, error) {
	return l.record("disconnect " + e.SessionID)
}

func (l *fakeLedger) record(what string) (sessions.Change, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return sessions.Change{}, l.err
	}
	l.events = append(l.events, what)
	return l.change, nil
}

func (l *fakeLedger) Sweep(context.Context, time.Time) (sessions.Swept, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweeps++
	return l.swept, l.sweepErr
}

// fakeAuth matches hookSecret.
type fakeAuth struct {
	calls int
	err   error
}

func (a *fakeAuth) Matches(_ context.Context, got string) (bool, error) {
	a.calls++
	return got == hookSecret, a.err
}

type fixture struct {
	h      *Handler
	ledger *fakeLedger
	auth   *fakeAuth
	out    *bytes.Buffer
}

func newFixture(cfg config.Webhook) *fixture {
	if cfg.HeaderName == "" {
		cfg.HeaderName = config.DefaultWebhookHeaderName
	}
	f := &fixture{ledger: &fakeLedger{change: sessions.Change{Recorded: true, Started: true}, swept: sessions.Swept{Live: 7}}, auth: &fakeAuth{}, out: &bytes.Buffer{}}
	log := slog.New(slog.NewJSONHandler(f.out, nil))
	f.h = New(cfg, f.auth, f.ledger, log, metrics.NewWriter(f.out, "Test")).WithClock(func() time.Time { return now })
	return f
}

type answer struct {
	Status  int               `json:"statusCode"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
}

func (a answer) code() string {
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	_ = json.Unmarshal([]byte(a.Body), &e)
	return e.Error.Code
}

func (f *fixture) call(t *testing.T, method string, headers map[string]string, body string) answer {
	t.Helper()
	ev := map[string]any{
		"version": "2.0", "routeKey": "POST /webhook", "rawPath": "/webhook", "headers": headers, "body": body,
		"requestContext": map[string]any{"requestId": "abc", "http": map[string]any{"method": method, "path": "/webhook", "sourceIp": "203.0.113.9"}},
	}
	raw, _ := json.Marshal(ev)
	resp, err := f.h.Invoke(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	var a answer
	if err := json.Unmarshal(resp, &a); err != nil {
		t.Fatal(err)
	}
	return a
}

// record is the call's metrics record.
func (f *fixture) record(t *testing.T) map[string]any {
	t.Helper()
	for line := range strings.SplitSeq(f.out.String(), "\n") {
		if strings.Contains(line, `"_aws"`) {
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatal(err)
			}
			return m
		}
	}
	t.Fatalf("no metrics record in %s", f.out)
	return nil
}

func TestWebhookRecords(t *testing.T) {
	f := newFixture(config.Webhook{CustomerID: "1234"})
	a := f.call(t, "POST", map[string]string{"x-webhook-secret": hookSecret, "content-type": "application/json"}, good)
	if a.Status != 200 || a.Body != `{"recorded":true}` {
		t.Fatalf("%d %s", a.Status, a.Body)
	}
	if len(f.ledger.events) != 1 || f.ledger.events[0] != "connect b7f6-11ee" || f.ledger.sweeps != 1 {
		t.Errorf("ledger saw %v and %d sweeps", f.ledger.events, f.ledger.sweeps)
	}
	if _, cors := a.Headers["Access-Control-Allow-Origin"]; cors {
		t.Error("a CORS header")
	}
	rec := f.record(t)
	if rec["SessionsStarted"] != 1.0 || rec["SessionsEnded"] != 0.0 || rec["LiveSessions"] != 7.0 || rec["WebhookRejected"] != 0.0 {
		t.Errorf("record %v", rec)
	}
	if !strings.Contains(f.out.String(), `"session_id":"b7f6-11ee"`) || strings.Contains(f.out.String(), hookSecret) {
		t.Errorf("log %s", f.out)
	}
}

// A max_session_duration above a day is recorded as a day, and the log
// line says what was sent.
func TestWebhookClampsMaxDuration(t *testing.T) {
	f := newFixture(config.Webhook{})
	body := strings.Replace(good, `"max_session_duration":600`, `"max_session_duration":172800`, 1)
	if a := f.call(t, "POST", map[string]string{"x-webhook-secret": hookSecret}, body); a.Status != 200 {
		t.Fatalf("%d %s", a.Status, a.Body)
	}
	if f.ledger.maxDur != 86400*time.Second {
		t.Errorf("the ledger got max_session_duration %v, want 24h", f.ledger.maxDur)
	}
	if !strings.Contains(f.out.String(), `"max_session_duration_clamped":"172800"`) {
		t.Errorf("log %s", f.out)
	}
}

func TestWebhookEndsAndSweeps(t *testing.T) {
	f := newFixture(config.Webhook{})
	f.ledger.change = sessions.Change{Recorded: true, Ended: true, Seconds: 90}
	f.ledger.swept = sessions.Swept{Ended: []int64{3600, 600}, Live: 2}
	body := strings.Replace(good, Connect, Disconnect, 1)
	a := f.call(t, "POST", map[string]string{"X-Webhook-Secret": hookSecret}, base64.StdEncoding.EncodeToString([]byte(body)))
	if a.Status != 400 {
		t.Fatalf("base64 text not flagged as such: %d, want 400", a.Status)
	}
	ev := map[string]any{"headers": map[string]string{"X-Webhook-Secret": hookSecret}, "body": base64.StdEncoding.EncodeToString([]byte(body)), "isBase64Encoded": true,
		"requestContext": map[string]any{"http": map[string]any{"method": "POST"}}}
	raw, _ := json.Marshal(ev)
	f.out.Reset()
	resp, _ := f.h.Invoke(context.Background(), raw)
	if !strings.Contains(string(resp), `"statusCode":200`) {
		t.Fatalf("base64 body: %s", resp)
	}
	rec := f.record(t)
	secs, _ := rec["SessionSeconds"].([]any)
	if rec["SessionsEnded"] != 3.0 || len(secs) != 3 || secs[0] != 90.0 || rec["LiveSessions"] != 2.0 {
		t.Errorf("record %v", rec)
	}
}

func TestWebhookDuplicate(t *testing.T) {
	f := newFixture(config.Webhook{})
	f.ledger.change = sessions.Change{}
	a := f.call(t, "POST", map[string]string{"x-webhook-secret": hookSecret}, good)
	if a.Status != 200 || a.Body != `{"recorded":false}` {
		t.Errorf("%d %s", a.Status, a.Body)
	}
}

// Every refusal records nothing and is counted under its reason.
func TestWebhookRefuses(t *testing.T) {
	other := strings.Replace(good, "1234", "999", 1)
	tests := []struct {
		name    string
		cfg     config.Webhook
		method  string
		headers map[string]string
		body    string
		status  int
		code    string
		authed  bool // the secret was consulted
	}{
		{"no header", config.Webhook{}, "POST", map[string]string{}, good, 401, "unauthorized", false},
		{"empty header", config.Webhook{}, "POST", map[string]string{"x-webhook-secret": ""}, good, 401, "unauthorized", false},
		{"wrong header", config.Webhook{}, "POST", map[string]string{"x-webhook-secret": "guess"}, good, 401, "unauthorized", true},
		{"secret in another header", config.Webhook{}, "POST", map[string]string{"authorization": hookSecret}, good, 401, "unauthorized", false},
		{"header twice", config.Webhook{}, "POST", map[string]string{"x-webhook-secret": hookSecret, "X-Webhook-Secret": hookSecret}, good, 401, "unauthorized", false},
		{"configured header name", config.Webhook{HeaderName: "X-Hook"}, "POST", map[string]string{"x-webhook-secret": hookSecret}, good, 401, "unauthorized", false},
		{"bad JSON", config.Webhook{}, "POST", map[string]string{"x-webhook-secret": hookSecret}, `{"event_type":`, 400, "invalid_request", true},
		{"bad JSON, no header", config.Webhook{}, "POST", nil, `{"event_type":`, 401, "unauthorized", false},
		{"other customer", config.Webhook{CustomerID: "1234"}, "POST", map[string]string{"x-webhook-secret": hookSecret}, other, 403, "customer_not_allowed", true},
		{"GET", config.Webhook{}, "GET", map[string]string{"x-webhook-secret": hookSecret}, "", 405, "method_not_allowed", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(tt.cfg)
			a := f.call(t, tt.method, tt.headers, tt.body)
			if a.Status != tt.status || a.code() != tt.code {
				t.Errorf("%d %s, want %d %s", a.Status, a.Body, tt.status, tt.code)
			}
			if len(f.ledger.events) != 0 || f.ledger.sweeps != 0 {
				t.Errorf("the ledger was called: %v, %d sweeps", f.ledger.events, f.ledger.sweeps)
			}
			if (f.auth.calls > 0) != tt.authed {
				t.Errorf("secret consulted %d times", f.auth.calls)
			}
			rec := f.record(t)
			if rec["WebhookRejected"] != 1.0 || rec["Reason"] != tt.code || rec["SessionsStarted"] != 0.0 {
				t.Errorf("record %v", rec)
			}
			if strings.Contains(f.out.String(), hookSecret) {
				t.Error("the secret is in the log")
			}
		})
	}
}

func TestWebhookUnavailable(t *testing.T) {
	f := newFixture(config.Webhook{})
	f.auth.err = errors.New("GetSecretValue: throttled")
	if a := f.call(t, "POST", map[string]string{"x-webhook-secret": hookSecret}, good); a.Status != 503 || a.code() != "secret_unavailable" {
		t.Errorf("secret down: %d %s", a.Status, a.Body)
	}
	f = newFixture(config.Webhook{})
	f.ledger.err = errors.New("TransactWriteItems: InternalServerError")
	if a := f.call(t, "POST", map[string]string{"x-webhook-secret": hookSecret}, good); a.Status != 503 || a.code() != "ledger_unavailable" {
		t.Errorf("ledger down: %d %s", a.Status, a.Body)
	}
	if f.ledger.sweeps != 0 {
		t.Error("swept after a failed write")
	}
	if !strings.Contains(f.out.String(), "InternalServerError") {
		t.Errorf("the log does not say why: %s", f.out)
	}
	// A sweep that fails does not undo a recorded event's 200.
	f = newFixture(config.Webhook{})
	f.ledger.sweepErr = errors.New("Query: throttled")
	if a := f.call(t, "POST", map[string]string{"x-webhook-secret": hookSecret}, good); a.Status != 200 {
		t.Errorf("sweep down: %d %s", a.Status, a.Body)
	}
	if _, has := f.record(t)["LiveSessions"]; has {
		t.Error("a LiveSessions gauge without a reading")
	}
}

func TestWebhookMisconfigured(t *testing.T) {
	var out bytes.Buffer
	h := Misconfigured(errors.New("SESSIONS_TABLE: is required"), slog.New(slog.NewJSONHandler(&out, nil)), metrics.NewWriter(&out, "Test"))
	f := &fixture{h: h, out: &out}
	if a := f.call(t, "POST", map[string]string{"x-webhook-secret": hookSecret}, good); a.Status != 500 || a.code() != "internal_error" {
		t.Errorf("%d %s", a.Status, a.Body)
	}
}

func TestNotAnHTTPEvent(t *testing.T) {
	f := newFixture(config.Webhook{})
	if _, err := f.h.Invoke(context.Background(), []byte(`{"Records":[]}`)); err == nil {
		t.Error("an SQS-like event was answered")
	}
}
