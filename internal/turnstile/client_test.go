package turnstile

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trulience-token/trulience-token/internal/config"
)

const (
	testSecret = "0x4AAAAAAAtestSECRET"
	testToken  = "0.tokenTOKENtoken"
)

// siteverify is a scripted siteverify: each call takes the next answer
// (the last repeats) and is recorded.
type siteverify struct {
	t       *testing.T
	mu      sync.Mutex
	answers []func(w http.ResponseWriter)
	calls   []map[string]string
	srv     *httptest.Server
}

func newSiteverify(t *testing.T, answers ...func(w http.ResponseWriter)) *siteverify {
	s := &siteverify{t: t, answers: answers}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			t.Errorf("request %s with Content-Type %q", r.Method, r.Header.Get("Content-Type"))
		}
		if err := r.ParseForm(); err != nil {
			t.Errorf("form: %v", err)
		}
		call := map[string]string{}
		for k := range r.PostForm {
			call[k] = r.PostForm.Get(k)
		}
		s.mu.Lock()
		s.calls = append(s.calls, call)
		i := min(len(s.calls), len(s.answers)) - 1
		s.mu.Unlock()
		s.answers[i](w)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *siteverify) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

func ok(hostname, action string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		_ = json.NewEncoder(w).Encode(map[string]any{"success": true, "error-codes": []string{}, "challenge_ts": time.Now().UTC().Format(time.RFC3339), "hostname": hostname, "action": action, "cdata": ""})
	}
}

func no(codes ...string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		_ = json.NewEncoder(w).Encode(map[string]any{"success": false, "error-codes": codes})
	}
}

func status(code int) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) { w.WriteHeader(code) }
}

func body(s string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) { _, _ = w.Write([]byte(s)) }
}

func hang(d time.Duration) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) { time.Sleep(d); ok("www.example.com", "")(w) }
}

func newTestClient(url string, action string) *Client {
	return NewClient(config.BotCheck{Mode: config.BotCheckEnforce, VerifyURL: url, Hostnames: []string{"www.example.com", "localhost"}, Action: action, Timeout: 200 * time.Millisecond}, nil)
}

func TestVerifyOutcomes(t *testing.T) {
	tests := []struct {
		name     string
		action   string
		answers  []func(w http.ResponseWriter)
		want     Outcome
		calls    int
		errors   []string
		mismatch string
	}{
		{"passed", "", []func(http.ResponseWriter){ok("www.example.com", "")}, Passed, 1, nil, ""},
		{"hostname case", "", []func(http.ResponseWriter){ok("WWW.Example.com", "")}, Passed, 1, nil, ""},
		{"action matches", "login", []func(http.ResponseWriter){ok("localhost", "login")}, Passed, 1, nil, ""},
		{"other hostname", "", []func(http.ResponseWriter){ok("evil.example", "")}, Failed, 1, nil, "hostname"},
		{"other action", "login", []func(http.ResponseWriter){ok("www.example.com", "signup")}, Failed, 1, nil, "action"},
		{"invalid token", "", []func(http.ResponseWriter){no("invalid-input-response")}, Failed, 1, []string{"invalid-input-response"}, ""},
		{"replayed token", "", []func(http.ResponseWriter){no("timeout-or-duplicate")}, Failed, 1, []string{"timeout-or-duplicate"}, ""},
		{"wrong secret", "", []func(http.ResponseWriter){no("invalid-input-secret")}, SecretRejected, 1, []string{"invalid-input-secret"}, ""},
		{"no secret", "", []func(http.ResponseWriter){no("missing-input-secret")}, SecretRejected, 1, []string{"missing-input-secret"}, ""},
		{"internal error twice", "", []func(http.ResponseWriter){no("internal-error")}, Unavailable, 2, []string{"internal-error"}, ""},
		{"internal error then pass", "", []func(http.ResponseWriter){no("internal-error"), ok("www.example.com", "")}, Passed, 2, nil, ""},
		{"5xx twice", "", []func(http.ResponseWriter){status(502)}, Unavailable, 2, nil, ""},
		{"5xx then pass", "", []func(http.ResponseWriter){status(503), ok("www.example.com", "")}, Passed, 2, nil, ""},
		{"timeout then pass", "", []func(http.ResponseWriter){hang(time.Second), ok("www.example.com", "")}, Passed, 2, nil, ""},
		{"timeout twice", "", []func(http.ResponseWriter){hang(time.Second)}, Unavailable, 2, nil, ""},
		{"4xx is not retried", "", []func(http.ResponseWriter){status(400)}, Unavailable, 1, nil, ""},
		{"garbage", "", []func(http.ResponseWriter){body("<html>gateway</html>")}, Unavailable, 1, nil, ""},
		{"json without success", "", []func(http.ResponseWriter){body(`{"ok":true}`)}, Unavailable, 1, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sv := newSiteverify(t, tt.answers...)
			c := newTestClient(sv.srv.URL, tt.action)
			r := c.Verify(context.Background(), testSecret, testToken, "203.0.113.9")
			if r.Outcome != tt.want || r.Attempts != tt.calls || sv.count() != tt.calls {
				t.Fatalf("outcome %v after %d attempts (%d calls), want %v after %d; detail %q", r.Outcome, r.Attempts, sv.count(), tt.want, tt.calls, r.Detail)
			}
			if !slices.Equal(r.Errors, tt.errors) && !(len(r.Errors) == 0 && len(tt.errors) == 0) {
				t.Errorf("errors %q, want %q", r.Errors, tt.errors)
			}
			if r.Mismatch != tt.mismatch {
				t.Errorf("mismatch %q, want %q", r.Mismatch, tt.mismatch)
			}
			if r.Outcome == Unavailable && r.Detail == "" {
				t.Error("unavailable without a detail for the log")
			}
			if strings.Contains(r.Detail, testSecret) || strings.Contains(r.Detail, testToken) {
				t.Errorf("detail holds the secret or token: %q", r.Detail)
			}
		})
	}
}

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestVerifySendsFieldsAndReusesIdempotencyKey(t *testing.T) {
	sv := newSiteverify(t, status(500), ok("www.example.com", ""))
	c := newTestClient(sv.srv.URL, "")
	if r := c.Verify(context.Background(), testSecret, testToken, "2001:db8::1"); r.Outcome != Passed {
		t.Fatalf("outcome %v", r.Outcome)
	}
	if len(sv.calls) != 2 {
		t.Fatalf("%d calls", len(sv.calls))
	}
	first := sv.calls[0]
	if first["secret"] != testSecret || first["response"] != testToken || first["remoteip"] != "2001:db8::1" {
		t.Errorf("fields %v", first)
	}
	if !uuidPattern.MatchString(first["idempotency_key"]) {
		t.Errorf("idempotency_key %q is not a v4 UUID", first["idempotency_key"])
	}
	if sv.calls[1]["idempotency_key"] != first["idempotency_key"] {
		t.Error("the retry used another idempotency key")
	}

	// A new verification gets a new key; no source IP sends no remoteip.
	sv2 := newSiteverify(t, ok("www.example.com", ""))
	c = newTestClient(sv2.srv.URL, "")
	c.Verify(context.Background(), testSecret, testToken, "")
	c.Verify(context.Background(), testSecret, testToken, "")
	if _, has := sv2.calls[0]["remoteip"]; has {
		t.Error("remoteip sent without a source IP")
	}
	if sv2.calls[0]["idempotency_key"] == sv2.calls[1]["idempotency_key"] {
		t.Error("two verifications shared an idempotency key")
	}
}

func TestVerifyUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := newTestClient("http://"+addr+"/turnstile/v0/siteverify", "")
	r := c.Verify(context.Background(), testSecret, testToken, "")
	if r.Outcome != Unavailable || r.Attempts != 2 || !strings.Contains(r.Detail, "unreachable") {
		t.Fatalf("result %+v, want unavailable after 2 attempts", r)
	}
}

func TestVerifyStopsWhenTheRequestEnds(t *testing.T) {
	sv := newSiteverify(t, hang(time.Second))
	c := newTestClient(sv.srv.URL, "")
	c.timeout = 5 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if r := c.Verify(ctx, testSecret, testToken, ""); r.Outcome != Unavailable || r.Attempts != 1 {
		t.Fatalf("result %+v, want unavailable after 1 attempt (no retry once the request's time is up)", r)
	}
}
