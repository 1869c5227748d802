package hardening

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"maps"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trulience-token/trulience-token/dev/devstack"
	"github.com/trulience-token/trulience-token/dev/emf"
	"github.com/trulience-token/trulience-token/dev/rie"
	"github.com/trulience-token/trulience-token/dev/standin/trulience"
)

const (
	avatar  = "4386676996480451678"
	avatar2 = "42"
	site    = "https://www.example.com"
)

// opts say how a fixture's function runs.
type opts struct {
	// env overrides the function's environment (an empty value removes a variable).
	env map[string]string
	// timeout is the Lambda function timeout; 0 means 5s.
	timeout time.Duration
	// smFault meets GetSecretValue from before the function starts.
	smFault *devstack.Fault
	// smRefused starts the Secrets Manager proxy refusing connections.
	smRefused bool
	// gate puts a TCP gate between the function and the stand-in.
	gate bool
}

// fixture is one function under the RIE with its own Trulience stand-in, its
// own secret in the shared moto and a fault-injecting proxy to it. It
// remembers every key and answer, and checks at cleanup that nothing leaked.
type fixture struct {
	t        *testing.T
	secretID string
	sin      *trulience.Server
	sm       *devstack.AWSProxy
	gate     *gate // nil unless opts.gate
	emu      *rie.Emulator
	stack    *devstack.Stack

	mu      sync.Mutex
	keys    []string // every API key the secret ever held
	answers []answer
}

// answer is one invocation's outcome as the RIE returned it.
type answer struct {
	raw     []byte
	fnErr   *rie.FunctionError // an invocation error (or RIE timeout)
	elapsed time.Duration

	Status  int               `json:"statusCode"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
}

// code is the error code of an error answer, "" otherwise.
func (a answer) code() string {
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal([]byte(a.Body), &e)
	return e.Error.Code
}

// jwt is the token of a 200 answer, "" otherwise.
func (a answer) jwt() string {
	var tok struct {
		JWT string `json:"jwt"`
	}
	_ = json.Unmarshal([]byte(a.Body), &tok)
	return tok.JWT
}

func (a answer) String() string {
	if a.fnErr != nil {
		return "invocation error " + a.fnErr.Error()
	}
	return string(a.raw)
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

var nonName = regexp.MustCompile(`[^A-Za-z0-9/_+=.@-]`)

// newFixture starts a function for t; everything stops at t's cleanup.
func newFixture(t *testing.T, o opts) *fixture {
	t.Helper()
	bootstrap, mt := need(t)
	f := &fixture{t: t, secretID: "hardening/" + nonName.ReplaceAllString(t.Name(), "_") + "/" + randHex(4)}
	key := "tru_live_" + randHex(16)
	f.keys = []string{key}
	env := map[string]string{
		"ALLOWED_AVATAR_IDS": avatar + "," + avatar2,
		"ALLOWED_ORIGINS":    site + ",http://localhost:8000",
		"SECRET_TTL":         "5m",
		"UPSTREAM_TIMEOUT":   "1s",
		"LOG_LEVEL":          "debug",
	}
	maps.Copy(env, o.env)
	timeout := o.timeout
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	stackOpts := devstack.Options{
		Bootstrap: bootstrap, Moto: mt, SecretID: f.secretID, APIKey: key, SecretValue: key,
		AllowedOrigins: []string{site, "http://localhost:8000"}, AvatarIDs: []string{avatar, avatar2},
		Env: env, Timeout: timeout,
		Prepare: func(s *devstack.Stack) error {
			if o.smFault != nil {
				s.SecretsManager.SetFault("GetSecretValue", o.smFault)
			}
			if o.smRefused {
				s.SecretsManager.Refuse()
			}
			return nil
		},
	}
	if o.gate {
		stackOpts.TrulienceVia = func(standIn string) (string, error) {
			f.gate = startGate(t, strings.TrimPrefix(standIn, "http://"))
			return f.gate.URL, nil
		}
	}
	s, err := devstack.Start(context.Background(), stackOpts)
	if err != nil {
		t.Fatalf("starting the function: %v", err)
	}
	f.stack, f.sin, f.sm, f.emu = s, s.StandIn, s.SecretsManager, s.Function
	t.Cleanup(func() {
		s.Close()
		f.checkNothingLeaked()
		if t.Failed() {
			t.Logf("function log:\n%s", f.emu.Logs())
		}
	})
	return f
}

// restoreSM makes Secrets Manager reachable again after Refuse.
func (f *fixture) restoreSM() {
	f.t.Helper()
	if err := f.sm.Restore(); err != nil {
		f.t.Fatalf("re-listening: %v", err)
	}
}

// key is the current API key.
func (f *fixture) key() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.keys[len(f.keys)-1]
}

// rotate stores a new key in Secrets Manager (PutSecretValue in moto) and
// returns it; the stand-in is not told.
func (f *fixture) rotate() string {
	f.t.Helper()
	key := "tru_live_" + randHex(16)
	f.mu.Lock()
	f.keys = append(f.keys, key)
	f.mu.Unlock()
	if err := f.stack.PutSecret(context.Background(), key); err != nil {
		f.t.Fatalf("PutSecretValue: %v", err)
	}
	return key
}

// invoke sends payload through the RIE and records the answer.
func (f *fixture) invoke(payload []byte) answer {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	start := time.Now()
	raw, err := f.emu.Invoke(ctx, payload)
	a := answer{raw: raw, elapsed: time.Since(start)}
	var fe *rie.FunctionError
	switch {
	case errors.As(err, &fe):
		a.fnErr = fe
	case err != nil:
		f.t.Fatalf("invoke: %v", err)
	default:
		if err := json.Unmarshal(raw, &a); err != nil {
			f.t.Fatalf("answer is not an API Gateway response: %v\n%s", err, raw)
		}
	}
	f.mu.Lock()
	f.answers = append(f.answers, a)
	f.mu.Unlock()
	return a
}

// post invokes a payload 2.0 POST from the site's origin with body.
func (f *fixture) post(body string) answer {
	f.t.Helper()
	return f.invoke(v2("POST", site, body))
}

// want checks an answer's status and error code ("" for none) and the
// headers every answer carries.
func want(t *testing.T, a answer, status int, code string) {
	t.Helper()
	if a.fnErr != nil {
		t.Fatalf("got %v, want %d %s", a, status, code)
	}
	if a.Status != status || a.code() != code {
		t.Fatalf("got %d %q (%s), want %d %q", a.Status, a.code(), a.Body, status, code)
	}
	if a.Headers["Content-Type"] != "application/json" || a.Headers["Cache-Control"] != "no-store" {
		t.Errorf("headers %v lack Content-Type: application/json and Cache-Control: no-store", a.Headers)
	}
}

// wantToken checks a 200 answer carrying a JWT the stand-in minted.
func (f *fixture) wantToken(t *testing.T, a answer) {
	t.Helper()
	want(t, a, 200, "")
	if !f.sin.WasMinted(a.jwt()) {
		t.Errorf("answer %s carries a JWT the stand-in did not mint", a.Body)
	}
}

// awsText is what Secrets Manager and the SDK say, which no answer may carry.
var awsText = []string{"Exception", "AccessDenied", "ResourceNotFound", "Throttling", "InternalServiceError", "arn:aws", "secretsmanager", "GetSecretValue", "api error", "operation error"}

// tokenRuns matches the base64url runs a JWT segment or an API key is made of.
var tokenRuns = regexp.MustCompile(`[A-Za-z0-9_-]{16,}`)

// runs is the set of maximal base64url runs in s: a JWT segment written
// anywhere (whole JWT, quoted, escaped in JSON) is one of them.
func runs(s string) map[string]bool {
	m := map[string]bool{}
	for _, r := range tokenRuns.FindAllString(s, -1) {
		m[r] = true
	}
	return m
}

// checkNothingLeaked asserts that no key appears in the function's log or in
// any answer, that no minted JWT appears in the log or in anything but the
// 200 answer that carried it, and that no answer carries AWS error text.
func (f *fixture) checkNothingLeaked() {
	t := f.t
	logs := f.emu.Logs()
	f.mu.Lock()
	keys := append([]string(nil), f.keys...)
	answers := append([]answer(nil), f.answers...)
	f.mu.Unlock()
	if _, err := emf.Records(logs, keys...); err != nil {
		t.Errorf("metrics records: %v", err)
	}
	if len(answers) > 0 && !strings.Contains(logs, `"msg":"request"`) {
		t.Errorf("no request line in the function's log: is it captured?")
	}
	for _, k := range keys {
		secretPart := strings.TrimPrefix(k, "tru_live_")
		if strings.Contains(logs, secretPart) {
			t.Errorf("an API key appears in the function's log")
		}
		for _, a := range answers {
			if strings.Contains(string(a.raw), secretPart) {
				t.Errorf("an API key appears in an answer: %s", a.raw)
			}
		}
	}
	// Every minted JWT's payload and signature (the header is the same for all).
	minted := map[string]bool{}
	for _, tok := range f.sin.Minted() {
		for _, seg := range strings.Split(tok.JWT, ".")[1:] {
			minted[seg] = true
		}
	}
	for r := range runs(logs) {
		if minted[r] {
			t.Errorf("a minted JWT appears in the function's log")
			break
		}
	}
	for _, a := range answers {
		if a.fnErr != nil {
			continue
		}
		own := map[string]bool{}
		if a.Status == 200 {
			for _, seg := range strings.Split(a.jwt(), ".") {
				own[seg] = true
			}
		}
		for r := range runs(string(a.raw)) {
			if minted[r] && !own[r] {
				t.Errorf("a minted JWT appears in a %d answer that is not its own: %s", a.Status, a.raw)
			}
		}
		for _, s := range awsText {
			if strings.Contains(string(a.raw), s) {
				t.Errorf("answer carries AWS error text %q: %s", s, a.raw)
			}
		}
	}
}

// v2 is a payload 2.0 event from a function URL, where the function itself
// sends the CORS headers the tests check.
func v2(method, origin, body string) []byte {
	return v2e(method, map[string]string{"origin": origin}, body, false)
}

// v2e is an HTTP API payload 2.0 event with headers (an empty value is left
// out) and a body that may be base64.
func v2e(method string, headers map[string]string, body string, b64 bool) []byte {
	h := map[string]string{"content-type": "application/json", "user-agent": "hardening-test"}
	for k, v := range headers {
		if v != "" {
			h[k] = v
		}
	}
	e := map[string]any{
		"version": "2.0", "routeKey": "POST /token", "rawPath": "/token", "rawQueryString": "",
		"headers": h, "body": body, "isBase64Encoded": b64,
		"requestContext": map[string]any{
			"accountId": "123456789012", "apiId": "abcdefghijklmnopqrstuvwxyz012345", "domainName": "abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws", "stage": "$default",
			"requestId": "api-" + randHex(4), "routeKey": "POST /token", "timeEpoch": time.Now().UnixMilli(),
			"http": map[string]string{"method": method, "path": "/token", "protocol": "HTTP/1.1", "sourceIp": "203.0.113.9", "userAgent": "hardening-test"},
		},
	}
	b, _ := json.Marshal(e)
	return b
}

// v1 is a REST API proxy event.
func v1(method string, headers map[string]string, multi map[string][]string, body string, b64 bool) []byte {
	e := map[string]any{
		"resource": "/token", "path": "/token", "httpMethod": method,
		"headers": headers, "multiValueHeaders": multi, "body": body, "isBase64Encoded": b64,
		"requestContext": map[string]any{"requestId": "rest-" + randHex(4), "stage": "prod", "httpMethod": method, "resourcePath": "/token"},
	}
	b, _ := json.Marshal(e)
	return b
}
