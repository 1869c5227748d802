package turnstile

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

const secret = "0x4AAAAAAAlocalSECRET"

func start(t *testing.T) *Server {
	t.Helper()
	s, err := Start("", secret)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// verify posts a form (or JSON) request and returns the answer as a map, so
// the test sees the wire fields.
func verify(t *testing.T, s *Server, asJSON bool, fields map[string]string) map[string]any {
	t.Helper()
	var resp *http.Response
	var err error
	if asJSON {
		b, _ := json.Marshal(fields)
		resp, err = http.Post(s.VerifyURL, "application/json", bytes.NewReader(b))
	} else {
		form := url.Values{}
		for k, v := range fields {
			form.Set(k, v)
		}
		resp, err = http.PostForm(s.VerifyURL, form)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("HTTP %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func codes(m map[string]any) string {
	var out []string
	for _, c := range m["error-codes"].([]any) {
		out = append(out, c.(string))
	}
	return strings.Join(out, ",")
}

func TestTestKeys(t *testing.T) {
	s := start(t)
	tests := []struct {
		secret, token string
		success       bool
		codes         string
	}{
		{PassSecret, DummyToken, true, ""},
		{FailSecret, DummyToken, false, "invalid-input-response"},
		{DuplicateSecret, DummyToken, false, "timeout-or-duplicate"},
		{PassSecret, "0.someRealLookingToken", false, "invalid-input-response"},
		{secret, DummyToken, false, "invalid-input-response"}, // production secrets reject the dummy token
	}
	for _, asJSON := range []bool{false, true} {
		for _, tt := range tests {
			m := verify(t, s, asJSON, map[string]string{"secret": tt.secret, "response": tt.token})
			if m["success"] != tt.success || codes(m) != tt.codes {
				t.Errorf("json=%v %s: %v, want success=%v codes=%q", asJSON, tt.secret[:2], m, tt.success, tt.codes)
			}
			if tt.success {
				if m["hostname"] != TestHostname {
					t.Errorf("hostname %v, want %s", m["hostname"], TestHostname)
				}
				if _, err := time.Parse(time.RFC3339, m["challenge_ts"].(string)); err != nil {
					t.Errorf("challenge_ts %v", m["challenge_ts"])
				}
			}
		}
	}
	// The dummy token passes again and again: test keys are not single-use.
	for range 3 {
		if m := verify(t, s, false, map[string]string{"secret": PassSecret, "response": DummyToken}); m["success"] != true {
			t.Fatal("the dummy token stopped passing")
		}
	}
}

func TestRequestErrors(t *testing.T) {
	s := start(t)
	for _, tt := range []struct {
		fields map[string]string
		codes  string
	}{
		{map[string]string{"response": DummyToken}, "missing-input-secret"},
		{map[string]string{"secret": "0x4AAAAAAAwrong", "response": DummyToken}, "invalid-input-secret"},
		{map[string]string{"secret": secret}, "missing-input-response"},
		{map[string]string{"secret": secret, "response": strings.Repeat("a", MaxToken+1)}, "invalid-input-response"},
		{map[string]string{"secret": secret, "response": "0.neverMinted"}, "invalid-input-response"},
	} {
		if m := verify(t, s, false, tt.fields); m["success"] != false || codes(m) != tt.codes {
			t.Errorf("%v: %v, want %s", tt.fields, m, tt.codes)
		}
	}
	resp, err := http.Post(s.VerifyURL, "application/json", strings.NewReader(`{"secret":1}`))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	resp.Body.Close()
	if codes(m) != "bad-request" {
		t.Errorf("malformed JSON: %v", m)
	}
}

func TestMintedTokensAreSingleUse(t *testing.T) {
	s := start(t)
	tok := s.Mint(secret, TokenOptions{Hostname: "www.example.com", Action: "login", CData: "c1"})
	if len(tok) > MaxToken {
		t.Fatalf("token of %d characters", len(tok))
	}
	m := verify(t, s, true, map[string]string{"secret": secret, "response": tok, "remoteip": "203.0.113.1"})
	if m["success"] != true || m["hostname"] != "www.example.com" || m["action"] != "login" || m["cdata"] != "c1" {
		t.Fatalf("first verification %v", m)
	}
	if m := verify(t, s, false, map[string]string{"secret": secret, "response": tok}); m["success"] != false || codes(m) != "timeout-or-duplicate" {
		t.Errorf("replay: %v, want timeout-or-duplicate", m)
	}
	// Another secret's token is not this secret's.
	s.AddSecret("0x4AAAAAAAother")
	if m := verify(t, s, false, map[string]string{"secret": "0x4AAAAAAAother", "response": s.Mint(secret, TokenOptions{})}); codes(m) != "invalid-input-response" {
		t.Errorf("token of another secret: %v", m)
	}
	calls := s.Calls()
	if s.Count() != 3 || !calls[0].JSON || calls[0].RemoteIP != "203.0.113.1" || calls[0].Response != tok || calls[1].JSON {
		t.Errorf("calls %+v", calls)
	}
}

func TestIdempotencyKeyGetsTheFirstAnswer(t *testing.T) {
	s := start(t)
	tok := s.Mint(secret, TokenOptions{Hostname: "localhost"})
	key := "7b3c3d5e-1f2a-4b6c-8d9e-0a1b2c3d4e5f"
	first := verify(t, s, false, map[string]string{"secret": secret, "response": tok, "idempotency_key": key})
	again := verify(t, s, false, map[string]string{"secret": secret, "response": tok, "idempotency_key": key})
	if first["success"] != true || again["success"] != true || again["hostname"] != "localhost" {
		t.Errorf("retry with the same key: %v then %v, want the first answer twice", first, again)
	}
	other := verify(t, s, false, map[string]string{"secret": secret, "response": tok, "idempotency_key": "00000000-0000-4000-8000-000000000000"})
	if codes(other) != "timeout-or-duplicate" {
		t.Errorf("another key: %v, want timeout-or-duplicate", other)
	}
}

func TestTokensExpireAfter300Seconds(t *testing.T) {
	s := start(t)
	now := time.Now()
	s.Now = func() time.Time { return now }
	fresh := s.Mint(secret, TokenOptions{})
	old := s.Mint(secret, TokenOptions{})
	now = now.Add(TokenLifetime)
	if m := verify(t, s, false, map[string]string{"secret": secret, "response": fresh}); m["success"] != true {
		t.Errorf("a token at exactly 300 s: %v", m)
	}
	now = now.Add(time.Second)
	if m := verify(t, s, false, map[string]string{"secret": secret, "response": old}); codes(m) != "timeout-or-duplicate" {
		t.Errorf("a token after 301 s: %v, want timeout-or-duplicate", m)
	}
}

func TestFaults(t *testing.T) {
	s := start(t)
	form := url.Values{"secret": {PassSecret}, "response": {DummyToken}}
	s.Enqueue(Down, ServerError, Garbage, InternalErr, Slow(50*time.Millisecond), RefuseTokens("timeout-or-duplicate"))

	if _, err := http.PostForm(s.VerifyURL, form); err == nil {
		t.Error("down: got an answer")
	}
	resp, err := http.PostForm(s.VerifyURL, form)
	if err != nil || resp.StatusCode != 502 {
		t.Errorf("5xx: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	resp, err = http.PostForm(s.VerifyURL, form)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if json.NewDecoder(resp.Body).Decode(&m) == nil {
		t.Error("garbage decoded as JSON")
	}
	resp.Body.Close()
	if m := verify(t, s, false, map[string]string{"secret": PassSecret, "response": DummyToken}); codes(m) != "internal-error" {
		t.Errorf("internal error: %v", m)
	}
	start := time.Now()
	if m := verify(t, s, false, map[string]string{"secret": PassSecret, "response": DummyToken}); m["success"] != true {
		t.Errorf("slow: %v, want the normal answer late", m)
	}
	if time.Since(start) < 50*time.Millisecond {
		t.Error("slow answered at once")
	}
	if m := verify(t, s, false, map[string]string{"secret": PassSecret, "response": DummyToken}); codes(m) != "timeout-or-duplicate" {
		t.Errorf("refuse: %v", m)
	}
	// The queue is empty: normal again; a standing fault applies to every call.
	if m := verify(t, s, false, map[string]string{"secret": PassSecret, "response": DummyToken}); m["success"] != true {
		t.Errorf("after the faults: %v", m)
	}
	s.SetFault(&InternalErr)
	for range 2 {
		if m := verify(t, s, false, map[string]string{"secret": PassSecret, "response": DummyToken}); codes(m) != "internal-error" {
			t.Errorf("standing fault: %v", m)
		}
	}
	s.SetFault(nil)
	if n := s.Count(); n != 9 {
		t.Errorf("counted %d calls, want 9", n)
	}
}

func TestOnlyPOSTToThePath(t *testing.T) {
	s := start(t)
	resp, err := http.Get(s.VerifyURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 {
		t.Errorf("GET: %d", resp.StatusCode)
	}
	resp, err = http.PostForm(s.URL+"/other", url.Values{})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("other path: %d", resp.StatusCode)
	}
}
