package httpapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/trulience-token/trulience-token/internal/config"
	"github.com/trulience-token/trulience-token/internal/secret"
	"github.com/trulience-token/trulience-token/internal/trulience"
)

const (
	avatarA = "4386676996480451678"
	avatarB = "1111111111111111111"
	site    = "https://www.example.com"
	testJWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
)

// fakeMinter records calls and answers with err or a token.
type fakeMinter struct {
	calls []trulience.Request
	err   error
}

func (f *fakeMinter) Mint(_ context.Context, r trulience.Request) (trulience.Token, error) {
	f.calls = append(f.calls, r)
	if f.err != nil {
		return trulience.Token{}, f.err
	}
	exp := r.ExpireAt
	if exp == 0 {
		exp = 120
	}
	return trulience.Token{JWT: testJWT, ExpiresIn: exp, AvatarID: r.AvatarID}, nil
}

func newTestHandler(t *testing.T, env map[string]string, m Minter) (*Handler, *bytes.Buffer) {
	t.Helper()
	base := map[string]string{
		"TRULIENCE_SECRET_ID": "trulience/api-key",
		"ALLOWED_AVATAR_IDS":  avatarA + "," + avatarB,
		"ALLOWED_ORIGINS":     site + ",http://localhost:8000",
	}
	for k, v := range env {
		base[k] = v
	}
	cfg, err := config.Load(func(k string) string { return base[k] })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	var logs bytes.Buffer
	return New(cfg, m, slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))), &logs
}

// v2 builds an HTTP API 2.0 event with the aws-lambda-go type, as API Gateway sends it.
func v2(method, origin, body string) []byte {
	return v2at(functionURLDomain, method, origin, body)
}

// Domains of the two payload 2.0 shapes: a function URL, where the function
// speaks CORS itself, and an HTTP API, whose CORS configuration does.
const (
	functionURLDomain = "abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-west-1.on.aws"
	httpAPIDomain     = "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com"
)

// v2at builds a payload 2.0 event for a request to domain.
func v2at(domain, method, origin, body string) []byte {
	e := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: method + " /token", RawPath: "/token",
		Headers: map[string]string{"content-type": "text/plain"},
		Body:    body,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RequestID: "req-1", DomainName: domain,
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: "/token"},
		},
	}
	if origin != "" {
		e.Headers["origin"] = origin
	}
	b, _ := json.Marshal(e)
	return b
}

// v1 builds a REST API proxy event.
func v1(method, origin, body string) []byte {
	e := events.APIGatewayProxyRequest{
		Resource: "/token", Path: "/token", HTTPMethod: method, Body: body,
		Headers:           map[string]string{"Content-Type": "application/json"},
		MultiValueHeaders: map[string][]string{"Content-Type": {"application/json"}},
	}
	if origin != "" {
		e.Headers["Origin"] = origin
		e.MultiValueHeaders["Origin"] = []string{origin}
	}
	b, _ := json.Marshal(e)
	return b
}

type answer struct {
	events.APIGatewayV2HTTPResponse
	errCode string
	errMsg  string
}

func invoke(t *testing.T, h *Handler, payload []byte) answer {
	t.Helper()
	out, err := h.Invoke(context.Background(), payload)
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	var a answer
	if err := json.Unmarshal(out, &a.APIGatewayV2HTTPResponse); err != nil {
		t.Fatalf("response is not an APIGatewayV2HTTPResponse: %v\n%s", err, out)
	}
	var eb struct {
		Error struct{ Code, Message string }
	}
	if a.StatusCode >= 400 {
		if err := json.Unmarshal([]byte(a.Body), &eb); err != nil {
			t.Fatalf("error body is not JSON: %q", a.Body)
		}
		a.errCode, a.errMsg = eb.Error.Code, eb.Error.Message
	}
	return a
}

func TestTokenAnswer(t *testing.T) {
	m := &fakeMinter{}
	h, _ := newTestHandler(t, nil, m)
	a := invoke(t, h, v2("POST", site, `{"avatar_id":"`+avatarB+`","expire_at":300}`))
	if a.StatusCode != 200 {
		t.Fatalf("status %d, body %s", a.StatusCode, a.Body)
	}
	var got struct {
		JWT       string `json:"jwt"`
		ExpiresIn int    `json:"expires_in"`
		AvatarID  string `json:"avatar_id"`
	}
	if err := json.Unmarshal([]byte(a.Body), &got); err != nil {
		t.Fatal(err)
	}
	if got.JWT != testJWT || got.ExpiresIn != 300 || got.AvatarID != avatarB {
		t.Errorf("body = %+v", got)
	}
	want := trulience.Request{AvatarID: avatarB, ExpireAt: 300, Origin: site}
	if len(m.calls) != 1 || m.calls[0] != want {
		t.Errorf("minted %+v, want one call %+v", m.calls, want)
	}
	for k, v := range map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store", "Access-Control-Allow-Origin": site, "Vary": "Origin"} {
		if a.Headers[k] != v {
			t.Errorf("header %s = %q, want %q", k, a.Headers[k], v)
		}
	}
}

// TestCORSByShape: behind an HTTP API the function sends no CORS headers
// (the API's CORS configuration adds them and answers preflights); through
// a function URL or a REST API it sends them itself. A refused origin is
// refused in every shape.
func TestCORSByShape(t *testing.T) {
	shapes := []struct {
		name   string
		event  func(method, origin, body string) []byte
		speaks bool
	}{
		{"http api", func(m, o, b string) []byte { return v2at(httpAPIDomain, m, o, b) }, false},
		{"function url", v2, true},
		{"rest api", v1, true},
	}
	for _, sh := range shapes {
		t.Run(sh.name, func(t *testing.T) {
			h, _ := newTestHandler(t, nil, &fakeMinter{})
			for _, c := range []struct {
				method, origin, body string
				status               int
			}{
				{"POST", site, `{}`, 200},
				{"POST", site, `{"avatar_id":"9"}`, 403},
				{"OPTIONS", site, "", 204},
			} {
				a := invoke(t, h, sh.event(c.method, c.origin, c.body))
				if a.StatusCode != c.status {
					t.Fatalf("%s: status %d, want %d", c.method, a.StatusCode, c.status)
				}
				_, has := a.Headers["Access-Control-Allow-Origin"]
				if has != sh.speaks {
					t.Errorf("%s %d: Access-Control-Allow-Origin present = %v, want %v", c.method, c.status, has, sh.speaks)
				}
				_, methods := a.Headers["Access-Control-Allow-Methods"]
				if c.method == "OPTIONS" && methods != sh.speaks {
					t.Errorf("preflight: Access-Control-Allow-Methods present = %v, want %v", methods, sh.speaks)
				}
			}
			a := invoke(t, h, sh.event("POST", "https://evil.example", `{}`))
			if a.StatusCode != 403 || a.errCode != "origin_not_allowed" {
				t.Errorf("refused origin: %d %q", a.StatusCode, a.errCode)
			}
		})
	}
}

func TestDefaultsAndBodyForms(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name    string
		body    string
		base64  bool
		want    trulience.Request
		noCalls bool
	}{
		{name: "empty body uses the default avatar", body: "", want: trulience.Request{AvatarID: avatarA}},
		{name: "whitespace body", body: " \n", want: trulience.Request{AvatarID: avatarA}},
		{name: "empty object", body: "{}", want: trulience.Request{AvatarID: avatarA}},
		{name: "expire_at only", body: `{"expire_at":60}`, want: trulience.Request{AvatarID: avatarA, ExpireAt: 60}},
		{name: "upper bound", body: `{"expire_at":3600}`, want: trulience.Request{AvatarID: avatarA, ExpireAt: 3600}},
		{name: "base64 body", body: b64(`{"avatar_id":"` + avatarB + `"}`), base64: true, want: trulience.Request{AvatarID: avatarB}},
		{name: "base64 empty body", body: "", base64: true, want: trulience.Request{AvatarID: avatarA}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &fakeMinter{}
			h, _ := newTestHandler(t, nil, m)
			var e map[string]any
			_ = json.Unmarshal(v2("POST", "", tt.body), &e)
			e["isBase64Encoded"] = tt.base64
			payload, _ := json.Marshal(e)
			a := invoke(t, h, payload)
			if a.StatusCode != 200 {
				t.Fatalf("status %d: %s", a.StatusCode, a.Body)
			}
			if len(m.calls) != 1 || m.calls[0] != tt.want {
				t.Errorf("minted %+v, want %+v", m.calls, tt.want)
			}
			if _, ok := a.Headers["Access-Control-Allow-Origin"]; ok {
				t.Error("a request without Origin got Access-Control-Allow-Origin")
			}
		})
	}
}

func TestRefusals(t *testing.T) {
	big := `{"avatar_id":"` + avatarA + `"}` + strings.Repeat(" ", 4096)
	tests := []struct {
		name   string
		event  []byte
		env    map[string]string
		status int
		code   string
		cors   bool // the answer carries Access-Control-Allow-Origin
	}{
		{"refused origin", v2("POST", "https://evil.example", "{}"), nil, 403, "origin_not_allowed", false},
		{"origin differing by scheme", v2("POST", "http://www.example.com", "{}"), nil, 403, "origin_not_allowed", false},
		{"origin differing by port", v2("POST", "https://www.example.com:8443", "{}"), nil, 403, "origin_not_allowed", false},
		{"origin with trailing slash", v2("POST", site+"/", "{}"), nil, 403, "origin_not_allowed", false},
		{"origin null", v2("POST", "null", "{}"), nil, 403, "origin_not_allowed", false},
		{"empty origin header", v2("POST", "", "{}"), nil, 200, "", false},
		{"no origins configured", v2("POST", site, "{}"), map[string]string{"ALLOWED_ORIGINS": ""}, 403, "origin_not_allowed", false},
		{"avatar not allowed", v2("POST", site, `{"avatar_id":"999"}`), nil, 403, "avatar_not_allowed", true},
		{"GET", v2("GET", site, ""), nil, 405, "method_not_allowed", true},
		{"DELETE", v2("DELETE", "", ""), nil, 405, "method_not_allowed", false},
		{"malformed JSON", v2("POST", site, `{"avatar_id":`), nil, 400, "invalid_request", true},
		{"not an object", v2("POST", site, `["x"]`), nil, 400, "invalid_request", true},
		{"null body", v2("POST", site, `null`), nil, 400, "invalid_request", true},
		{"avatar_id number", v2("POST", site, `{"avatar_id":4386676996480451678}`), nil, 400, "invalid_request", true},
		{"avatar_id letters", v2("POST", site, `{"avatar_id":"abc"}`), nil, 400, "invalid_request", true},
		{"avatar_id empty", v2("POST", site, `{"avatar_id":""}`), nil, 400, "invalid_request", true},
		{"avatar_id 33 digits", v2("POST", site, `{"avatar_id":"`+strings.Repeat("1", 33)+`"}`), nil, 400, "invalid_request", true},
		{"avatar_id with spaces", v2("POST", site, `{"avatar_id":" `+avatarA+`"}`), nil, 400, "invalid_request", true},
		{"avatar_id Unicode digits", v2("POST", site, `{"avatar_id":"١٢٣"}`), nil, 400, "invalid_request", true},
		{"avatar_id null", v2("POST", site, `{"avatar_id":null}`), nil, 400, "invalid_request", true},
		{"unknown field", v2("POST", site, `{"avatarId":"`+avatarA+`"}`), nil, 400, "invalid_request", true},
		{"duplicate field", v2("POST", site, `{"avatar_id":"`+avatarA+`","avatar_id":"999"}`), nil, 400, "invalid_request", true},
		{"__proto__", v2("POST", site, `{"__proto__":{"avatar_id":"1"}}`), nil, 400, "invalid_request", true},
		{"expire_at too small", v2("POST", site, `{"expire_at":59}`), nil, 400, "invalid_request", true},
		{"expire_at too big", v2("POST", site, `{"expire_at":3601}`), nil, 400, "invalid_request", true},
		{"expire_at string", v2("POST", site, `{"expire_at":"300"}`), nil, 400, "invalid_request", true},
		{"expire_at fraction", v2("POST", site, `{"expire_at":300.5}`), nil, 400, "invalid_request", true},
		{"expire_at exponent", v2("POST", site, `{"expire_at":1e3}`), nil, 400, "invalid_request", true},
		{"expire_at minus zero", v2("POST", site, `{"expire_at":-0}`), nil, 400, "invalid_request", true},
		{"expire_at huge", v2("POST", site, `{"expire_at":123456789012345678901234567890}`), nil, 400, "invalid_request", true},
		{"trailing data", v2("POST", site, `{} {}`), nil, 400, "invalid_request", true},
		{"body over 4096 bytes", v2("POST", site, big), nil, 413, "payload_too_large", true},
		{"body of exactly 4096 bytes", v2("POST", site, big[:4096]), nil, 200, "", true},
		{"REST API refused origin", v1("POST", "https://evil.example", ""), nil, 403, "origin_not_allowed", false},
		{"REST API GET", v1("GET", "", ""), nil, 405, "method_not_allowed", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &fakeMinter{}
			h, logs := newTestHandler(t, tt.env, m)
			a := invoke(t, h, tt.event)
			if a.StatusCode != tt.status || a.errCode != tt.code {
				t.Fatalf("got %d %q (%s), want %d %q", a.StatusCode, a.errCode, a.errMsg, tt.status, tt.code)
			}
			if tt.status != 200 && len(m.calls) != 0 {
				t.Errorf("Trulience was called %d times for a refused request", len(m.calls))
			}
			if _, ok := a.Headers["Access-Control-Allow-Origin"]; ok != tt.cors {
				t.Errorf("Access-Control-Allow-Origin present = %v, want %v", ok, tt.cors)
			}
			if a.Headers["Content-Type"] != "application/json" || a.Headers["Cache-Control"] != "no-store" {
				t.Errorf("headers %v lack JSON content type or no-store", a.Headers)
			}
			if tt.status == 405 && a.Headers["Allow"] != "OPTIONS, POST" {
				t.Errorf("Allow = %q", a.Headers["Allow"])
			}
			if tt.status >= 400 && a.errMsg == "" {
				t.Error("error without a message")
			}
			if !strings.Contains(logs.String(), `"status":`+itoa(tt.status)) {
				t.Errorf("no request log line with the status: %s", logs.String())
			}
		})
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestPreflight(t *testing.T) {
	h, _ := newTestHandler(t, nil, &fakeMinter{})
	a := invoke(t, h, v2("OPTIONS", "http://localhost:8000", ""))
	if a.StatusCode != 204 {
		t.Fatalf("status %d", a.StatusCode)
	}
	for k, want := range map[string]string{
		"Access-Control-Allow-Origin":  "http://localhost:8000",
		"Access-Control-Allow-Methods": "POST",
		"Access-Control-Allow-Headers": "content-type",
		"Vary":                         "Origin",
		"Cache-Control":                "no-store",
	} {
		if !strings.Contains(a.Headers[k], want) {
			t.Errorf("%s = %q, want it to contain %q", k, a.Headers[k], want)
		}
	}
	if a.Headers["Access-Control-Max-Age"] == "" {
		t.Error("no Access-Control-Max-Age")
	}
	a = invoke(t, h, v2("OPTIONS", "https://evil.example", ""))
	if a.StatusCode != 403 || a.errCode != "origin_not_allowed" {
		t.Errorf("refused preflight: %d %q", a.StatusCode, a.errCode)
	}
	if _, ok := a.Headers["Access-Control-Allow-Methods"]; ok {
		t.Error("refused preflight lists allowed methods")
	}
}

func TestWildcardOrigins(t *testing.T) {
	m := &fakeMinter{}
	h, _ := newTestHandler(t, map[string]string{"ALLOWED_ORIGINS": "*"}, m)
	a := invoke(t, h, v2("POST", "https://anyone.example", ""))
	if a.StatusCode != 200 || a.Headers["Access-Control-Allow-Origin"] != "*" {
		t.Errorf("status %d, ACAO %q", a.StatusCode, a.Headers["Access-Control-Allow-Origin"])
	}
	if m.calls[0].Origin != "https://anyone.example" {
		t.Errorf("origin forwarded upstream = %q", m.calls[0].Origin)
	}
}

func TestWildcardAvatars(t *testing.T) {
	m := &fakeMinter{}
	h, _ := newTestHandler(t, map[string]string{"ALLOWED_AVATAR_IDS": "*"}, m)
	if a := invoke(t, h, v2("POST", "", `{"avatar_id":"42"}`)); a.StatusCode != 200 {
		t.Errorf("any avatar: %d", a.StatusCode)
	}
	if a := invoke(t, h, v2("POST", "", `{}`)); a.StatusCode != 400 {
		t.Errorf("no avatar and no default: %d, want 400", a.StatusCode)
	}
}

func TestOriginHeaderForms(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(e map[string]any)
		status int
	}{
		{"REST API keeps header case", func(e map[string]any) {}, 200},
		{"upper-case header name", func(e map[string]any) {
			e["headers"] = map[string]string{"ORIGIN": site}
			delete(e, "multiValueHeaders")
		}, 200},
		{"two Origin values", func(e map[string]any) {
			e["multiValueHeaders"] = map[string][]string{"Origin": {site, "https://evil.example"}}
		}, 403},
		{"same value twice", func(e map[string]any) {
			e["multiValueHeaders"] = map[string][]string{"Origin": {site, site}}
		}, 200},
		{"two header spellings disagree", func(e map[string]any) {
			e["headers"] = map[string]string{"Origin": site, "origin": "https://evil.example"}
		}, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, _ := newTestHandler(t, nil, &fakeMinter{})
			var e map[string]any
			_ = json.Unmarshal(v1("POST", site, ""), &e)
			tt.mutate(e)
			payload, _ := json.Marshal(e)
			if a := invoke(t, h, payload); a.StatusCode != tt.status {
				t.Errorf("status %d, want %d (%s)", a.StatusCode, tt.status, a.errMsg)
			}
		})
	}
}

func TestRESTAPIFormat(t *testing.T) {
	m := &fakeMinter{}
	h, _ := newTestHandler(t, nil, m)
	out, err := h.Invoke(context.Background(), v1("POST", site, `{"avatar_id":"`+avatarA+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	var r events.APIGatewayProxyResponse
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatal(err)
	}
	if r.StatusCode != 200 || r.Headers["Access-Control-Allow-Origin"] != site || !strings.Contains(r.Body, testJWT) {
		t.Errorf("REST answer %+v", r)
	}
}

func TestUpstreamFailuresMap(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		status     int
		code       string
		retryAfter string
	}{
		{"secret unavailable", secret.ErrUnavailable, 503, "secret_unavailable", ""},
		{"rate limited with Retry-After", &trulience.Error{Kind: trulience.KindAPI, Status: 429, Code: 36, RetryAfter: 1500 * time.Millisecond}, 429, "rate_limited", "2"},
		{"rate limited without Retry-After", &trulience.Error{Kind: trulience.KindAPI, Status: 429, Code: 36}, 429, "rate_limited", ""},
		{"401 after refresh", &trulience.Error{Kind: trulience.KindAPI, Status: 401, Code: 16}, 502, "upstream_error", ""},
		{"403 scope", &trulience.Error{Kind: trulience.KindAPI, Status: 403, Code: 34}, 502, "upstream_error", ""},
		{"403 origin", &trulience.Error{Kind: trulience.KindAPI, Status: 403, Code: 35}, 502, "upstream_error", ""},
		{"400 expire", &trulience.Error{Kind: trulience.KindAPI, Status: 400, Code: 19}, 502, "upstream_error", ""},
		{"500", &trulience.Error{Kind: trulience.KindAPI, Status: 500, Code: 45}, 502, "upstream_error", ""},
		{"bad body", &trulience.Error{Kind: trulience.KindBadResponse, Status: 200}, 502, "upstream_error", ""},
		{"connection refused", &trulience.Error{Kind: trulience.KindTransport}, 502, "upstream_error", ""},
		{"timeout", &trulience.Error{Kind: trulience.KindTimeout, Sent: true}, 504, "upstream_timeout", ""},
		{"deadline", context.DeadlineExceeded, 504, "upstream_timeout", ""},
		{"anything else", bytes.ErrTooLarge, 500, "internal_error", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, logs := newTestHandler(t, nil, &fakeMinter{err: tt.err})
			a := invoke(t, h, v2("POST", site, ""))
			if a.StatusCode != tt.status || a.errCode != tt.code {
				t.Fatalf("got %d %q, want %d %q", a.StatusCode, a.errCode, tt.status, tt.code)
			}
			if a.Headers["Retry-After"] != tt.retryAfter {
				t.Errorf("Retry-After = %q, want %q", a.Headers["Retry-After"], tt.retryAfter)
			}
			if a.Headers["Access-Control-Allow-Origin"] != site {
				t.Error("an error answer to an allowed origin lacks Access-Control-Allow-Origin: the browser would hide the message")
			}
			if !strings.Contains(logs.String(), `"code":"`+tt.code+`"`) {
				t.Errorf("log lacks the code: %s", logs.String())
			}
		})
	}
}

func TestMisconfigured(t *testing.T) {
	var logs bytes.Buffer
	_, err := config.Load(func(string) string { return "" })
	h := Misconfigured(err, slog.New(slog.NewJSONHandler(&logs, nil)))
	for _, method := range []string{"POST", "OPTIONS", "GET"} {
		a := invoke(t, h, v2(method, site, ""))
		if a.StatusCode != 500 || a.errCode != "internal_error" {
			t.Errorf("%s: %d %q", method, a.StatusCode, a.errCode)
		}
		if strings.Contains(a.Body, "TRULIENCE_SECRET_ID") {
			t.Error("the configuration problem leaked into the answer")
		}
	}
	if !strings.Contains(logs.String(), "TRULIENCE_SECRET_ID") {
		t.Errorf("the log does not name the missing variable: %s", logs.String())
	}
}

func TestNonHTTPEvents(t *testing.T) {
	h, _ := newTestHandler(t, nil, &fakeMinter{})
	s3 := `{"Records":[{"eventSource":"aws:s3","s3":{"bucket":{"name":"b"}}}]}`
	for _, payload := range []string{`{}`, `[]`, `null`, `"x"`, `garbage`, ``, s3, `{"headers":5}`, `{"requestContext":{"http":{"method":7}}}`} {
		if out, err := h.Invoke(context.Background(), []byte(payload)); err == nil {
			t.Errorf("%q: no invocation error, answered %s", payload, out)
		}
	}
	if a := invoke(t, h, v2("POST", site, "")); a.StatusCode != 200 {
		t.Errorf("the next valid request got %d", a.StatusCode)
	}
}

func TestDeadlineIsPassedDown(t *testing.T) {
	var got time.Time
	m := minterFunc(func(ctx context.Context, r trulience.Request) (trulience.Token, error) {
		got, _ = ctx.Deadline()
		return trulience.Token{JWT: testJWT, AvatarID: r.AvatarID}, nil
	})
	h, _ := newTestHandler(t, nil, m)
	dl := time.Now().Add(3 * time.Second)
	ctx, cancel := context.WithDeadline(context.Background(), dl)
	defer cancel()
	if _, err := h.Invoke(ctx, v2("POST", "", "")); err != nil {
		t.Fatal(err)
	}
	if want := dl.Add(-deadlineMargin); !got.Equal(want) {
		t.Errorf("minter deadline %v, want the Lambda deadline minus %v (%v)", got, deadlineMargin, want)
	}
}

type minterFunc func(context.Context, trulience.Request) (trulience.Token, error)

func (f minterFunc) Mint(ctx context.Context, r trulience.Request) (trulience.Token, error) {
	return f(ctx, r)
}

func TestLogsCarryNoSecrets(t *testing.T) {
	h, logs := newTestHandler(t, map[string]string{"LOG_LEVEL": "debug"}, &fakeMinter{})
	a := invoke(t, h, v2("POST", site, ""))
	if a.StatusCode != http.StatusOK {
		t.Fatal(a.StatusCode)
	}
	if strings.Contains(logs.String(), testJWT) || strings.Contains(logs.String(), "eyJ") {
		t.Errorf("the JWT was logged: %s", logs.String())
	}
	var line map[string]any
	if err := json.Unmarshal(bytes.TrimSpace(logs.Bytes()), &line); err != nil {
		t.Fatalf("not one JSON line: %q", logs.String())
	}
	for _, k := range []string{"request_id", "method", "status", "avatar_id", "latency_ms", "upstream_status"} {
		if _, ok := line[k]; !ok {
			t.Errorf("log line lacks %q: %v", k, line)
		}
	}
}
