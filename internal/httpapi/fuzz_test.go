package httpapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/trulience-token/trulience-token/internal/config"
	"github.com/trulience-token/trulience-token/internal/secret"
	"github.com/trulience-token/trulience-token/internal/trulience"
)

// The fuzz targets in this file feed untrusted bytes (the raw invocation
// event and the request body) to the handler and check the invariants of the
// contract; their seed corpora live in testdata/fuzz/<FuzzName>/.

const (
	fuzzJWT    = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJmdXp6In0.ZnV6ei1zaWduYXR1cmU"
	fuzzAPIKey = "tru_live_fuzz_key_never_logged"
)

// fuzzOrigins and fuzzAvatars configure the handler under fuzzing.
var (
	fuzzOrigins = []string{"https://www.example.com", "http://localhost:8000"}
	fuzzAvatars = []string{"4386676996480451678", "42"}
)

// contractStatus maps every documented status to the codes it may carry.
var contractStatus = map[int][]string{
	200: nil,
	204: nil,
	400: {"invalid_request"},
	403: {"origin_not_allowed", "avatar_not_allowed"},
	405: {"method_not_allowed"},
	413: {"payload_too_large"},
	429: {"rate_limited"},
	500: {"internal_error"},
	502: {"upstream_error"},
	503: {"secret_unavailable"},
	504: {"upstream_timeout"},
}

// fuzzMinter answers according to mode, one outcome per failure the handler
// must map, and never panics.
type fuzzMinter struct{ mode byte }

func (m fuzzMinter) Mint(_ context.Context, r trulience.Request) (trulience.Token, error) {
	switch m.mode % 10 {
	case 0, 1, 2:
		exp := r.ExpireAt
		if exp == 0 {
			exp = 120
		}
		return trulience.Token{JWT: fuzzJWT, ExpiresIn: exp, AvatarID: r.AvatarID}, nil
	case 3:
		return trulience.Token{}, errors.Join(secret.ErrUnavailable, errors.New("AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/x is not authorized"))
	case 4:
		return trulience.Token{}, &trulience.Error{Kind: trulience.KindAPI, Status: 401, Code: 16, Sent: true}
	case 5:
		return trulience.Token{}, &trulience.Error{Kind: trulience.KindAPI, Status: 429, Code: 36, Sent: true, RetryAfter: time.Duration(m.mode) * time.Second}
	case 6:
		return trulience.Token{}, &trulience.Error{Kind: trulience.KindTimeout, Sent: true, Detail: "deadline"}
	case 7:
		return trulience.Token{}, &trulience.Error{Kind: trulience.KindTransport, Detail: "connection refused"}
	case 8:
		return trulience.Token{}, &trulience.Error{Kind: trulience.KindBadResponse, Status: 200, Sent: true, Detail: "not json"}
	default:
		return trulience.Token{}, context.DeadlineExceeded
	}
}

func fuzzHandler(tb testing.TB, mode byte, logs io.Writer) *Handler {
	tb.Helper()
	env := map[string]string{
		"TRULIENCE_SECRET_ID": "trulience/api-key",
		"ALLOWED_AVATAR_IDS":  strings.Join(fuzzAvatars, ","),
		"ALLOWED_ORIGINS":     strings.Join(fuzzOrigins, ","),
	}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		tb.Fatalf("config: %v", err)
	}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return New(cfg, fuzzMinter{mode}, log)
}

// fuzzEvent builds a payload 2.0 event for the seed corpus.
func fuzzEvent(method, origin, body string, b64 bool) []byte {
	e := map[string]any{
		"version":         "2.0",
		"routeKey":        "POST /token",
		"rawPath":         "/token",
		"headers":         map[string]string{},
		"body":            body,
		"isBase64Encoded": b64,
		"requestContext":  map[string]any{"requestId": "req-1", "http": map[string]string{"method": method, "path": "/token"}},
	}
	if origin != "" {
		e["headers"] = map[string]string{"origin": origin}
	}
	b, _ := json.Marshal(e)
	return b
}

// FuzzInvoke feeds raw invocation payloads to Invoke: it never panics, and it
// answers either an invocation error or a documented response.
func FuzzInvoke(f *testing.F) {
	seeds := [][]byte{
		fuzzEvent("POST", "", "", false),
		fuzzEvent("POST", "https://www.example.com", `{"avatar_id":"42","expire_at":300}`, false),
		fuzzEvent("POST", "https://evil.example", `{}`, false),
		fuzzEvent("OPTIONS", "http://localhost:8000", "", false),
		fuzzEvent("GET", "", "", false),
		fuzzEvent("post", "null", `{"avatar_id":"1"}`, false),
		fuzzEvent("POST", "", base64.StdEncoding.EncodeToString([]byte(`{"expire_at":60}`)), true),
		fuzzEvent("POST", "", "%%%not-base64", true),
		fuzzEvent("POST", "", strings.Repeat(" ", 4097), false),
		[]byte(`{"httpMethod":"POST","headers":{"Origin":"https://www.example.com"},"multiValueHeaders":{"origin":["https://www.example.com","https://x"]},"body":"{\"avatar_id\":\"4386676996480451678\"}","requestContext":{"requestId":"r"}}`),
		[]byte(`{"httpMethod":"OPTIONS","headers":{"ORIGIN":"http://localhost:8000"}}`),
		[]byte(`{}`), []byte(`[]`), []byte(`null`), []byte(`"x"`), []byte(``),
		[]byte(`{"Records":[{"eventSource":"aws:s3"}]}`),
		[]byte(`{"requestContext":{"http":{"method":1}}}`),
	}
	for i, s := range seeds {
		f.Add(s, byte(i))
	}
	f.Fuzz(func(t *testing.T, payload []byte, mode byte) {
		var logs bytes.Buffer
		h := fuzzHandler(t, mode, &logs)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: "fuzz-request"})
		out, err := h.Invoke(ctx, payload)
		if err != nil {
			if out != nil {
				t.Fatalf("Invoke returned both an answer %q and an error %v", out, err)
			}
			checkSecretsAbsent(t, "log", logs.String())
			return
		}
		checkResponse(t, out)
		checkSecretsAbsent(t, "log", logs.String())
		if strings.Count(strings.TrimSpace(logs.String()), "\n") != 0 {
			t.Errorf("one request logged several lines:\n%s", logs.String())
		}
	})
}

// checkResponse asserts that out is a documented API Gateway answer.
func checkResponse(t *testing.T, out []byte) {
	t.Helper()
	var r struct {
		StatusCode      int               `json:"statusCode"`
		Headers         map[string]string `json:"headers"`
		Body            string            `json:"body"`
		IsBase64Encoded bool              `json:"isBase64Encoded"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("answer is not JSON: %v\n%s", err, out)
	}
	codes, ok := contractStatus[r.StatusCode]
	if !ok {
		t.Fatalf("status %d is not a documented one: %s", r.StatusCode, out)
	}
	if got := r.Headers["Content-Type"]; got != "application/json" {
		t.Errorf("Content-Type = %q, want application/json: %s", got, out)
	}
	if got := r.Headers["Cache-Control"]; got != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store: %s", got, out)
	}
	if r.IsBase64Encoded {
		t.Errorf("answer marked base64: %s", out)
	}
	if acao, ok := r.Headers["Access-Control-Allow-Origin"]; ok && !slices.Contains(fuzzOrigins, acao) {
		t.Errorf("Access-Control-Allow-Origin %q is not a configured origin", acao)
	}
	if ra, ok := r.Headers["Retry-After"]; ok {
		if n, err := strconv.Atoi(ra); err != nil || n <= 0 || r.StatusCode != 429 {
			t.Errorf("Retry-After %q on status %d", ra, r.StatusCode)
		}
	}
	switch r.StatusCode {
	case 204:
		if r.Body != "" {
			t.Errorf("204 with body %q", r.Body)
		}
		return
	case 200:
		var tok struct {
			JWT       string `json:"jwt"`
			ExpiresIn int    `json:"expires_in"`
			AvatarID  string `json:"avatar_id"`
		}
		dec := json.NewDecoder(strings.NewReader(r.Body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&tok); err != nil {
			t.Fatalf("200 body %q: %v", r.Body, err)
		}
		if tok.JWT != fuzzJWT || !slices.Contains(fuzzAvatars, tok.AvatarID) || tok.ExpiresIn < 60 || tok.ExpiresIn > 3600 {
			t.Errorf("200 body %q", r.Body)
		}
		return
	}
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(r.Body), &e); err != nil {
		t.Fatalf("error body %q: %v", r.Body, err)
	}
	if !slices.Contains(codes, e.Error.Code) || e.Error.Message == "" {
		t.Errorf("status %d with code %q message %q", r.StatusCode, e.Error.Code, e.Error.Message)
	}
	if r.StatusCode == 405 && r.Headers["Allow"] != "OPTIONS, POST" {
		t.Errorf("405 with Allow %q", r.Headers["Allow"])
	}
	checkSecretsAbsent(t, "answer", string(out))
	for _, aws := range []string{"AccessDenied", "Exception", "ResourceNotFound"} {
		if strings.Contains(r.Body, aws) {
			t.Errorf("answer carries AWS error text %q: %s", aws, r.Body)
		}
	}
}

func checkSecretsAbsent(t *testing.T, where, s string) {
	t.Helper()
	if strings.Contains(s, fuzzAPIKey) {
		t.Errorf("the API key appears in the %s: %s", where, s)
	}
	if where == "log" && strings.Contains(s, fuzzJWT) {
		t.Errorf("the JWT appears in the log: %s", s)
	}
}

// FuzzDecodeEvent checks what decodeEvent and decodedBody accept: a known
// method in upper case, a format, and a decoded body within the limit.
func FuzzDecodeEvent(f *testing.F) {
	f.Add(fuzzEvent("POST", "https://www.example.com", `{"avatar_id":"42"}`, false))
	f.Add(fuzzEvent("options", "", "", false))
	f.Add(fuzzEvent("POST", "", base64.StdEncoding.EncodeToString(make([]byte, 4096)), true))
	f.Add(fuzzEvent("POST", "", base64.StdEncoding.EncodeToString(make([]byte, 4097)), true))
	f.Add(fuzzEvent("POST", "", base64.RawStdEncoding.EncodeToString([]byte("{}")), true))
	f.Add([]byte(`{"httpMethod":"PUT","multiValueHeaders":{"Origin":["a","b","a"]}}`))
	f.Add([]byte(`{"version":"2.0","headers":{"origin":"x","Origin":"y"},"requestContext":{"http":{"method":"POST"}}}`))
	f.Add([]byte(`{"requestContext":{"http":{"method":"POST"}},"body":"\u0000"}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		r, err := decodeEvent(payload)
		if err != nil {
			if !errors.Is(err, errNotHTTP) {
				t.Fatalf("decodeEvent error %v is not errNotHTTP", err)
			}
			return
		}
		if r.method == "" || r.method != strings.ToUpper(r.method) {
			t.Errorf("method %q", r.method)
		}
		if r.format != FormatV1 && r.format != FormatV2 {
			t.Errorf("format %q", r.format)
		}
		if !r.hasOrigin && r.origin != "" {
			t.Errorf("origin %q without hasOrigin", r.origin)
		}
		b, p := r.decodedBody()
		if p != nil {
			if p.Status != http.StatusBadRequest && p.Status != http.StatusRequestEntityTooLarge {
				t.Errorf("decodedBody problem %v", p)
			}
			if p.Status == http.StatusRequestEntityTooLarge && !r.base64 && len(r.body) <= maxBody {
				t.Errorf("413 for a %d-byte body", len(r.body))
			}
			return
		}
		if len(b) > maxBody {
			t.Errorf("decoded body of %d bytes accepted", len(b))
		}
		if !r.base64 && string(b) != r.body {
			t.Errorf("plain body changed")
		}
	})
}

// FuzzParseBody checks that a body parseBody accepts holds a valid avatar ID
// and expire_at, and that encoding/json reads the same values from it.
func FuzzParseBody(f *testing.F) {
	for _, s := range []string{
		``, `  `, `{}`, `{"avatar_id":"4386676996480451678"}`, `{"avatar_id":"42","expire_at":300}`,
		`{"expire_at":60}`, `{"expire_at":3600}`, `{"expire_at":59}`, `{"expire_at":1e3}`, `{"expire_at":-0}`,
		`{"expire_at":300.0}`, `{"expire_at":0300}`, `{"avatar_id":42}`, `{"avatar_id":"４２"}`, `{"avatar_id":" 42"}`,
		`{"avatar_id":"42","avatar_id":"43"}`, `{"__proto__":{}}`, `{"avatarId":"42"}`, `{"avatar\u005fid":"42"}`,
		`[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]`, `{"avatar_id":"42"} {}`, `{"avatar_id":"42"}x`,
		`{"avatar_id":null}`, `{"expire_at":null}`, `{"expire_at":99999999999999999999999}`, `{"avatar_id":"` + strings.Repeat("9", 33) + `"}`,
		"{\"avatar_id\":\"42\"}\x00", `{"avatar_id":"\u0034\u0032"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tr, p := parseBody(b)
		if p != nil {
			if p.Status != http.StatusBadRequest || p.Code != "invalid_request" || p.Message == "" {
				t.Fatalf("parseBody(%q) problem %+v", b, p)
			}
			return
		}
		if tr.avatarID != "" && !config.ValidAvatarID(tr.avatarID) {
			t.Errorf("parseBody(%q) accepted avatar_id %q", b, tr.avatarID)
		}
		if tr.expireAt != 0 && (tr.expireAt < 60 || tr.expireAt > 3600) {
			t.Errorf("parseBody(%q) accepted expire_at %d", b, tr.expireAt)
		}
		if len(bytes.TrimSpace(b)) == 0 {
			if tr != (tokenRequest{}) {
				t.Errorf("empty body gave %+v", tr)
			}
			return
		}
		// What parseBody accepts is one JSON object that encoding/json reads alike.
		var std struct {
			AvatarID *string  `json:"avatar_id"`
			ExpireAt *float64 `json:"expire_at"`
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&std); err != nil {
			t.Fatalf("parseBody accepted %q, encoding/json refuses it: %v", b, err)
		}
		if dec.More() {
			t.Errorf("parseBody accepted trailing data in %q", b)
		}
		if std.AvatarID == nil || *std.AvatarID != tr.avatarID {
			if !(std.AvatarID == nil && tr.avatarID == "") {
				t.Errorf("avatar_id: parseBody %q, encoding/json %v", tr.avatarID, std.AvatarID)
			}
		}
		if std.ExpireAt == nil && tr.expireAt != 0 || std.ExpireAt != nil && *std.ExpireAt != float64(tr.expireAt) {
			t.Errorf("expire_at: parseBody %d, encoding/json %v", tr.expireAt, std.ExpireAt)
		}
		if std.ExpireAt != nil && (math.IsNaN(*std.ExpireAt) || *std.ExpireAt != math.Trunc(*std.ExpireAt)) {
			t.Errorf("non-integer expire_at accepted in %q", b)
		}
	})
}
