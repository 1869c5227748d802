package frontdoor

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// invokerFunc adapts a function to Invoker.
type invokerFunc func(ctx context.Context, payload []byte) ([]byte, error)

func (f invokerFunc) Invoke(ctx context.Context, p []byte) ([]byte, error) { return f(ctx, p) }

// capture answers with answer and keeps the last event.
func capture(answer string, err error) (Invoker, *[]byte) {
	var last []byte
	return invokerFunc(func(_ context.Context, p []byte) ([]byte, error) {
		last = p
		return []byte(answer), err
	}), &last
}

func TestEvent(t *testing.T) {
	inv, last := capture(`{"statusCode":200,"body":"ok"}`, nil)
	srv := httptest.NewServer(&Handler{Function: inv, Routes: []string{"POST /token"}})
	t.Cleanup(srv.Close)

	req, _ := http.NewRequest("POST", srv.URL+"/token?a=1&b=2&a=3", strings.NewReader(`{"avatar_id":"1"}`))
	req.Header.Set("Origin", "http://127.0.0.1:8000")
	req.Header.Add("X-Multi", "one")
	req.Header.Add("X-Multi", "two")
	req.Header.Set("Cookie", "c1=v1; c2=v2")
	req.Header.Set("User-Agent", "test-agent")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	var raw map[string]any
	if err := json.Unmarshal(*last, &raw); err != nil {
		t.Fatal(err)
	}
	for _, absent := range []string{"pathParameters", "stageVariables", "multiValueHeaders"} {
		if _, ok := raw[absent]; ok {
			t.Errorf("event has %q", absent)
		}
	}
	var e events.APIGatewayV2HTTPRequest // what the function decodes it into
	if err := json.Unmarshal(*last, &e); err != nil {
		t.Fatal(err)
	}
	checks := map[string][2]string{
		"version":           {e.Version, "2.0"},
		"routeKey":          {e.RouteKey, "POST /token"},
		"rawPath":           {e.RawPath, "/token"},
		"rawQueryString":    {e.RawQueryString, "a=1&b=2&a=3"},
		"query a":           {e.QueryStringParameters["a"], "1,3"},
		"origin":            {e.Headers["origin"], "http://127.0.0.1:8000"},
		"multi":             {e.Headers["x-multi"], "one,two"},
		"content-length":    {e.Headers["content-length"], "17"},
		"x-forwarded-for":   {e.Headers["x-forwarded-for"], "127.0.0.1"},
		"x-forwarded-proto": {e.Headers["x-forwarded-proto"], "http"},
		"method":            {e.RequestContext.HTTP.Method, "POST"},
		"path":              {e.RequestContext.HTTP.Path, "/token"},
		"protocol":          {e.RequestContext.HTTP.Protocol, "HTTP/1.1"},
		"sourceIp":          {e.RequestContext.HTTP.SourceIP, "127.0.0.1"},
		"userAgent":         {e.RequestContext.HTTP.UserAgent, "test-agent"},
		"stage":             {e.RequestContext.Stage, "$default"},
		"ctx routeKey":      {e.RequestContext.RouteKey, "POST /token"},
		"body":              {e.Body, `{"avatar_id":"1"}`},
		"cookies":           {strings.Join(e.Cookies, "|"), "c1=v1|c2=v2"},
	}
	for name, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s = %q, want %q", name, c[0], c[1])
		}
	}
	if _, ok := e.Headers["cookie"]; ok {
		t.Error("cookie header kept beside cookies")
	}
	for k := range e.Headers {
		if k != strings.ToLower(k) {
			t.Errorf("header %q not lower-cased", k)
		}
	}
	if e.IsBase64Encoded || len(e.RequestContext.RequestID) != 16 || time.Since(time.UnixMilli(e.RequestContext.TimeEpoch)) > time.Minute {
		t.Errorf("context %+v", e.RequestContext)
	}
	if resp.Header.Get("Apigw-Requestid") != e.RequestContext.RequestID {
		t.Errorf("apigw-requestid %q", resp.Header.Get("Apigw-Requestid"))
	}
}

func TestBinaryBody(t *testing.T) {
	inv, last := capture(`{"statusCode":204}`, nil)
	h := &Handler{Function: inv}
	bin := []byte{0xff, 0xfe, 0x00, 0x01}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("PUT", "/any/path", bytes.NewReader(bin)))
	var e events.APIGatewayV2HTTPRequest
	_ = json.Unmarshal(*last, &e)
	if !e.IsBase64Encoded || e.Body != base64.StdEncoding.EncodeToString(bin) || e.RouteKey != "$default" {
		t.Errorf("event body %q base64 %v route %q", e.Body, e.IsBase64Encoded, e.RouteKey)
	}
	if rec.Code != 204 {
		t.Errorf("status %d", rec.Code)
	}
}

func TestResults(t *testing.T) {
	tests := []struct {
		name, answer string
		err          error
		wantStatus   int
		wantBody     string
		wantHeader   http.Header
	}{
		{"full", `{"statusCode":201,"headers":{"content-type":"application/json","x-one":"1"},"multiValueHeaders":{"x-many":["a","b"]},"cookies":["s=1; HttpOnly","t=2"],"body":"{\"jwt\":\"x\"}"}`,
			nil, 201, `{"jwt":"x"}`, http.Header{"Content-Type": {"application/json"}, "X-One": {"1"}, "X-Many": {"a", "b"}, "Set-Cookie": {"s=1; HttpOnly", "t=2"}}},
		{"base64", `{"statusCode":200,"body":"aGVsbG8=","isBase64Encoded":true}`, nil, 200, "hello", nil},
		{"no statusCode", `{"jwt":"x"}`, nil, 200, `{"jwt":"x"}`, http.Header{"Content-Type": {"application/json"}}},
		{"invocation error", `{"errorType":"x","errorMessage":"y"}`, errors.New("boom"), 502, `{"message":"Internal Server Error"}`, nil},
		{"not json", `hello`, nil, 500, `{"message":"Internal Server Error"}`, nil},
		{"bad status", `{"statusCode":1000}`, nil, 500, `{"message":"Internal Server Error"}`, nil},
		{"bad base64", `{"statusCode":200,"body":"!!","isBase64Encoded":true}`, nil, 500, `{"message":"Internal Server Error"}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, _ := capture(tt.answer, tt.err)
			rec := httptest.NewRecorder()
			(&Handler{Function: inv}).ServeHTTP(rec, httptest.NewRequest("POST", "/token", nil))
			if rec.Code != tt.wantStatus || rec.Body.String() != tt.wantBody {
				t.Errorf("got %d %s, want %d %s", rec.Code, rec.Body, tt.wantStatus, tt.wantBody)
			}
			for k, want := range tt.wantHeader {
				if got := rec.Header().Values(k); strings.Join(got, "|") != strings.Join(want, "|") {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

func TestRoutes(t *testing.T) {
	calls := 0
	inv := invokerFunc(func(context.Context, []byte) ([]byte, error) {
		calls++
		return []byte(`{"statusCode":204}`), nil
	})
	h := &Handler{Function: inv, Routes: []string{"POST /token"}}
	tests := []struct {
		method, path string
		want, calls  int
	}{
		{"POST", "/token", 204, 1},
		{"OPTIONS", "/token", 404, 1}, // no OPTIONS route, and no CORS configured
		{"GET", "/token", 404, 1},
		{"POST", "/other", 404, 1},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
		if rec.Code != tt.want || calls != tt.calls {
			t.Errorf("%s %s: %d after %d calls, want %d after %d", tt.method, tt.path, rec.Code, calls, tt.want, tt.calls)
		}
	}
}

func TestTimeoutAndLog(t *testing.T) {
	inv := invokerFunc(func(ctx context.Context, _ []byte) ([]byte, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	})
	var logs bytes.Buffer
	h := &Handler{Function: inv, Timeout: 50 * time.Millisecond, Log: slog.New(slog.NewJSONHandler(&logs, nil))}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/token", strings.NewReader(`{"secret":"tru_live_do_not_log"}`)))
	if rec.Code != 503 {
		t.Errorf("status %d", rec.Code)
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], `"status":503`) || strings.Contains(logs.String(), "tru_live") {
		t.Errorf("log %q", logs.String())
	}
}

func TestBodyTooLarge(t *testing.T) {
	inv, _ := capture(`{"statusCode":200}`, nil)
	rec := httptest.NewRecorder()
	(&Handler{Function: inv}).ServeHTTP(rec, httptest.NewRequest("POST", "/token", io.LimitReader(zeros{}, MaxBody+1)))
	if rec.Code != 413 {
		t.Errorf("status %d", rec.Code)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }
