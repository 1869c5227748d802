package trulience

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trulience-token/trulience-token/internal/httpclient"
)

const (
	testKey    = "tru_live_TESTKEYvalue42"
	testAvatar = "4386676996480451678"
	testJWT    = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0Mzg2Njc2OTk2NDgwNDUxNjc4In0.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
)

// okBody is the 200 body Trulience returns for testAvatar.
var okBody = `{"jwt":"` + testJWT + `","expires_in":300,"avatar_id":"` + testAvatar + `"}`

// newServer starts an httptest server running h and closes it when the test ends.
func newServer(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s
}

// reply answers every request with status, headers (name, value pairs) and body.
func reply(status int, body string, headers ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

// call runs one GenerateToken for testAvatar against base.
func call(t *testing.T, base string, timeout time.Duration) (Token, error) {
	t.Helper()
	return NewClient(base, timeout, nil).GenerateToken(context.Background(), testKey, Request{AvatarID: testAvatar})
}

// asError fails the test unless err is an *Error, and checks that its message
// holds neither the key nor the JWT.
func asError(t *testing.T, err error) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *trulience.Error", err, err)
	}
	for _, secret := range []string{testKey, "TESTKEY", testJWT} {
		if strings.Contains(e.Error(), secret) || strings.Contains(e.Detail, secret) {
			t.Errorf("error %q holds secret material", e.Error())
		}
	}
	return e
}

func TestGenerateTokenRequest(t *testing.T) {
	tests := []struct {
		name     string
		basePath string // appended to the server's URL
		req      Request
		wantPath string
		wantBody string
	}{
		{
			name:     "defaults",
			req:      Request{AvatarID: testAvatar},
			wantPath: "/auth/generate-token",
			wantBody: `{"avatar_id":"4386676996480451678"}`,
		},
		{
			name:     "trailing slash on base",
			basePath: "/",
			req:      Request{AvatarID: testAvatar, ExpireAt: 300},
			wantPath: "/auth/generate-token",
			wantBody: `{"avatar_id":"4386676996480451678","expire_at":300}`,
		},
		{
			name:     "base with a path",
			basePath: "/v1",
			req:      Request{AvatarID: "1", ExpireAt: 60, Origin: "https://www.example.com"},
			wantPath: "/v1/auth/generate-token",
			wantBody: `{"avatar_id":"1","expire_at":60}`,
		},
		{
			name:     "base with a path and trailing slash",
			basePath: "/v1/",
			req:      Request{AvatarID: "12345678901234567890123456789012", ExpireAt: 3600, Origin: "http://localhost:8000"},
			wantPath: "/v1/auth/generate-token",
			wantBody: `{"avatar_id":"12345678901234567890123456789012","expire_at":3600}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *http.Request
			var body []byte
			s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				got = r
				body, _ = io.ReadAll(r.Body)
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprintf(w, `{"jwt":%q,"expires_in":120,"avatar_id":%q}`, testJWT, tt.req.AvatarID)
			})
			tok, err := NewClient(s.URL+tt.basePath, time.Second, nil).GenerateToken(context.Background(), testKey, tt.req)
			if err != nil {
				t.Fatalf("GenerateToken: %v", err)
			}
			if tok != (Token{JWT: testJWT, ExpiresIn: 120, AvatarID: tt.req.AvatarID}) {
				t.Errorf("token = %+v", tok)
			}
			if got.Method != http.MethodPost {
				t.Errorf("method = %s, want POST", got.Method)
			}
			if got.URL.Path != tt.wantPath || got.URL.RawQuery != "" {
				t.Errorf("URL = %s, want path %s and no query", got.URL, tt.wantPath)
			}
			if !bytes.Equal(body, []byte(tt.wantBody)) {
				t.Errorf("body = %s\nwant   %s", body, tt.wantBody)
			}
			if got.ContentLength != int64(len(tt.wantBody)) {
				t.Errorf("Content-Length = %d, want %d", got.ContentLength, len(tt.wantBody))
			}
			wantHeaders := map[string]string{
				"X-Api-Key":    testKey,
				"Content-Type": "application/json",
				"Accept":       "application/json",
				"User-Agent":   httpclient.UserAgent,
			}
			for name, want := range wantHeaders {
				if v := got.Header.Values(name); len(v) != 1 || v[0] != want {
					t.Errorf("%s = %q, want exactly %q", name, v, want)
				}
			}
			if v := got.Header.Values("Origin"); tt.req.Origin == "" && len(v) != 0 {
				t.Errorf("Origin = %q sent, want none", v)
			} else if tt.req.Origin != "" && (len(v) != 1 || v[0] != tt.req.Origin) {
				t.Errorf("Origin = %q, want exactly %q", v, tt.req.Origin)
			}
			for _, name := range []string{"Authorization", "Cookie", "Referer"} {
				if v := got.Header.Get(name); v != "" {
					t.Errorf("unexpected %s header %q", name, v)
				}
			}
		})
	}
}

func TestGenerateTokenOK(t *testing.T) {
	tests := []struct {
		name, body string
		want       Token
	}{
		{"documented body", okBody, Token{JWT: testJWT, ExpiresIn: 300, AvatarID: testAvatar}},
		{"extra fields ignored", `{"jwt":"` + testJWT + `","expires_in":120,"avatar_id":"` + testAvatar + `","session":"x"}`, Token{JWT: testJWT, ExpiresIn: 120, AvatarID: testAvatar}},
		{"avatar_id absent", `{"jwt":"` + testJWT + `","expires_in":120}`, Token{JWT: testJWT, ExpiresIn: 120, AvatarID: testAvatar}},
		{"padded jwt segment", `{"jwt":"a.b.c==","expires_in":60,"avatar_id":"` + testAvatar + `"}`, Token{JWT: "a.b.c==", ExpiresIn: 60, AvatarID: testAvatar}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, reply(http.StatusOK, tt.body))
			tok, err := call(t, s.URL, time.Second)
			if err != nil {
				t.Fatalf("GenerateToken: %v", err)
			}
			if tok != tt.want {
				t.Errorf("token = %+v, want %+v", tok, tt.want)
			}
		})
	}
}

// TestGenerateTokenDocumentedErrors uses the error bodies of docs/trulience-api.md.
func TestGenerateTokenDocumentedErrors(t *testing.T) {
	tests := []struct {
		status, code int
		message      string
		retryable    bool
	}{
		{400, 19, "expire_at must be between 60 and 3600 seconds", false},
		{401, 16, "Invalid API Key", false},
		{403, 34, "API key lacks required scope", false},
		{403, 33, "API key is not authorized for this avatar", false},
		{403, 35, "Origin is not allowed for this API key", false},
		{429, 36, "Too many requests. Please slow down.", true},
		{500, 45, "Internal server error occurred", false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d/%d", tt.status, tt.code), func(t *testing.T) {
			body := fmt.Sprintf(`{"error": {"code": %d, "message": %q}}`, tt.code, tt.message)
			s := newServer(t, reply(tt.status, body))
			tok, err := call(t, s.URL, time.Second)
			if tok != (Token{}) {
				t.Errorf("token %+v returned with an error", tok)
			}
			e := asError(t, err)
			if e.Kind != KindAPI || e.Status != tt.status || e.Code != tt.code || !e.Sent || e.RetryAfter != 0 {
				t.Errorf("error = %+v, want KindAPI status %d code %d, sent, no Retry-After", e, tt.status, tt.code)
			}
			if e.Retryable() != tt.retryable {
				t.Errorf("Retryable() = %v, want %v", e.Retryable(), tt.retryable)
			}
			want := fmt.Sprintf("trulience answered %d (code %d)", tt.status, tt.code)
			if e.Error() != want {
				t.Errorf("Error() = %q, want %q", e.Error(), want)
			}
			if strings.Contains(e.Error(), tt.message) {
				t.Errorf("Error() %q repeats Trulience's message", e.Error())
			}
		})
	}
}

func TestGenerateTokenUndocumentedErrors(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
	}{
		{"html from a proxy", http.StatusBadGateway, "<html><body>502 Bad Gateway</body></html>"},
		{"empty", http.StatusServiceUnavailable, ""},
		{"error as a string", http.StatusBadRequest, `{"error":"bad"}`},
		{"unexpected success status", http.StatusCreated, okBody},
		{"not modified", http.StatusNotModified, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, reply(tt.status, tt.body))
			_, err := call(t, s.URL, time.Second)
			e := asError(t, err)
			if e.Kind != KindAPI || e.Status != tt.status || e.Code != 0 {
				t.Errorf("error = %+v, want KindAPI status %d code 0", e, tt.status)
			}
		})
	}
}

func TestGenerateTokenRetryAfter(t *testing.T) {
	date := time.Now().Add(10 * time.Second).UTC().Format(http.TimeFormat)
	tests := []struct {
		name     string
		status   int
		header   string
		min, max time.Duration
	}{
		{"seconds", 429, "7", 7 * time.Second, 7 * time.Second},
		{"zero", 429, "0", 0, 0},
		{"http date", 503, date, 8 * time.Second, 10 * time.Second},
		{"absent", 429, "", 0, 0},
		{"garbage", 503, "soon", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var headers []string
			if tt.header != "" {
				headers = []string{"Retry-After", tt.header}
			}
			s := newServer(t, reply(tt.status, `{"error":{"code":36,"message":"Too many requests. Please slow down."}}`, headers...))
			_, err := call(t, s.URL, time.Second)
			e := asError(t, err)
			if e.RetryAfter < tt.min || e.RetryAfter > tt.max {
				t.Errorf("RetryAfter = %v, want between %v and %v", e.RetryAfter, tt.min, tt.max)
			}
			if !e.Retryable() {
				t.Errorf("%d is not retryable", tt.status)
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"1", time.Second},
		{"120", 2 * time.Minute},
		{"3600", time.Hour},
		{"3601", 0},
		{"99999999999999999999", 0},
		{"-1", 0},
		{"1.5", 0},
		{"5s", 0},
		{"soon", 0},
		{"Thu, 26 Nov 2026 12:00:30 GMT", 30 * time.Second},
		{"Thursday, 26-Nov-26 12:01:00 GMT", time.Minute},
		{"Thu Nov 26 12:00:05 2026", 5 * time.Second},
		{"Thu, 26 Nov 2026 12:00:00 GMT", 0},
		{"Thu, 26 Nov 2026 11:59:00 GMT", 0},
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.in, now); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestRetryable(t *testing.T) {
	tests := []struct {
		name string
		err  Error
		want bool
	}{
		{"429", Error{Kind: KindAPI, Status: 429, Code: 36, Sent: true}, true},
		{"503", Error{Kind: KindAPI, Status: 503, Sent: true}, true},
		{"500", Error{Kind: KindAPI, Status: 500, Code: 45, Sent: true}, false},
		{"502", Error{Kind: KindAPI, Status: 502, Sent: true}, false},
		{"504", Error{Kind: KindAPI, Status: 504, Sent: true}, false},
		{"400", Error{Kind: KindAPI, Status: 400, Code: 19, Sent: true}, false},
		{"401", Error{Kind: KindAPI, Status: 401, Code: 16, Sent: true}, false},
		{"403", Error{Kind: KindAPI, Status: 403, Code: 33, Sent: true}, false},
		{"connection refused before sending", Error{Kind: KindTransport, Sent: false}, true},
		{"reset after sending", Error{Kind: KindTransport, Sent: true}, false},
		{"timeout after sending", Error{Kind: KindTimeout, Sent: true}, false},
		{"bad body", Error{Kind: KindBadResponse, Status: 200, Sent: true}, false},
	}
	for _, tt := range tests {
		if got := tt.err.Retryable(); got != tt.want {
			t.Errorf("%s: Retryable() = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// The retry rules retry "a connection that failed before the request was sent"
// and excludes only "timeouts after sending": a connect or TLS handshake that
// times out has not sent anything, so one retry is safe.
func TestRetryableTimeoutBeforeSending(t *testing.T) {
	e := Error{Kind: KindTimeout, Sent: false}
	if !e.Retryable() {
		t.Errorf("a timeout before the request was sent is not retryable; the retry rules retry connections that failed before sending")
	}
}

func TestGenerateTokenConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	_, err = call(t, "http://"+addr, time.Second)
	e := asError(t, err)
	if e.Kind != KindTransport || e.Sent || e.Status != 0 || !e.Retryable() {
		t.Errorf("error = %+v, want a retryable KindTransport not sent", e)
	}
	if !strings.HasPrefix(e.Error(), "trulience connection failed: ") {
		t.Errorf("Error() = %q", e.Error())
	}
}

// hijack returns a handler that reads the whole request, then lets f do what
// it wants with the raw connection.
func hijack(t *testing.T, f func(c net.Conn)) http.HandlerFunc {
	t.Helper()
	return func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		c, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		f(c)
	}
}

func TestGenerateTokenFailureAfterSending(t *testing.T) {
	tests := []struct {
		name string
		f    func(c net.Conn)
	}{
		{"reset", func(c net.Conn) {
			c.(*net.TCPConn).SetLinger(0)
			c.Close()
		}},
		{"closed without an answer", func(c net.Conn) { c.Close() }},
		{"garbage instead of HTTP", func(c net.Conn) {
			io.WriteString(c, "SSH-2.0-OpenSSH\r\n\r\n")
			c.Close()
		}},
		{"body cut short", func(c net.Conn) {
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n"+okBody[:20])
			c.Close()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, hijack(t, tt.f))
			tok, err := call(t, s.URL, time.Second)
			if tok != (Token{}) {
				t.Errorf("token %+v returned with an error", tok)
			}
			e := asError(t, err)
			if !e.Sent || e.Retryable() {
				t.Errorf("error = %+v, want sent and not retryable (a token may have been minted)", e)
			}
			if e.Kind == KindAPI {
				t.Errorf("error = %+v, want a transport or body failure", e)
			}
		})
	}
}

// newHangingServer starts a server that never answers until the test ends
// or the client goes away.
func newHangingServer(t *testing.T) *httptest.Server {
	t.Helper()
	release := make(chan struct{})
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	t.Cleanup(func() { close(release) }) // runs before the server's Close
	return s
}

func TestGenerateTokenTimeout(t *testing.T) {
	s := newHangingServer(t)
	start := time.Now()
	_, err := call(t, s.URL, 100*time.Millisecond)
	elapsed := time.Since(start)
	e := asError(t, err)
	if e.Kind != KindTimeout || !e.Sent || e.Retryable() {
		t.Errorf("error = %+v, want KindTimeout, sent, not retryable", e)
	}
	if elapsed > 2*time.Second {
		t.Errorf("the call took %v with a 100ms timeout", elapsed)
	}
	if !strings.HasPrefix(e.Error(), "trulience did not answer in time") {
		t.Errorf("Error() = %q", e.Error())
	}
}

func TestGenerateTokenCallerDeadline(t *testing.T) {
	s := newHangingServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := NewClient(s.URL, time.Minute, nil).GenerateToken(ctx, testKey, Request{AvatarID: testAvatar})
	if e := asError(t, err); e.Kind != KindTimeout {
		t.Errorf("error = %+v, want KindTimeout when the invocation's deadline passes", e)
	}
}

func TestGenerateTokenSlowBodyTimesOut(t *testing.T) {
	release := make(chan struct{})
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(len(okBody)))
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, okBody[:10])
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	t.Cleanup(func() { close(release) })
	_, err := call(t, s.URL, 100*time.Millisecond)
	if e := asError(t, err); e.Kind != KindTimeout || !e.Sent || e.Retryable() {
		t.Errorf("error = %+v, want KindTimeout, sent, not retryable", e)
	}
}

// A TLS handshake that never completes has sent nothing: the error must say so.
func TestGenerateTokenHandshakeTimeoutIsNotSent(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	var mu sync.Mutex
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // accepted, never answered
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	_, err = call(t, "https://"+ln.Addr().String(), 100*time.Millisecond)
	e := asError(t, err)
	if e.Kind != KindTimeout || e.Sent {
		t.Errorf("error = %+v, want KindTimeout, not sent", e)
	}
}

func TestGenerateTokenUntrustedCertificate(t *testing.T) {
	var hits atomic.Int32
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		reply(http.StatusOK, okBody)(w, r)
	}))
	s.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	s.StartTLS()
	t.Cleanup(s.Close)
	_, err := call(t, s.URL, time.Second)
	e := asError(t, err)
	if e.Kind != KindTransport || e.Sent {
		t.Errorf("error = %+v, want KindTransport, not sent", e)
	}
	if hits.Load() != 0 {
		t.Errorf("the request reached a server whose certificate is not trusted")
	}
}

func TestGenerateTokenBadResponse(t *testing.T) {
	// A valid body padded with whitespace to one byte over the 64 KiB limit, and to exactly the limit.
	over := okBody + strings.Repeat(" ", maxBody+1-len(okBody))
	tests := []struct {
		name, body string
	}{
		{"empty", ""},
		{"truncated", okBody[:len(okBody)/2]},
		{"not json", "<html>hello</html>"},
		{"json null", "null"},
		{"json array", "[]"},
		{"json string", `"` + testJWT + `"`},
		{"trailing data", okBody + `{}`},
		{"oversized", over},
		{"jwt missing", `{"expires_in":300,"avatar_id":"` + testAvatar + `"}`},
		{"jwt null", `{"jwt":null,"expires_in":300,"avatar_id":"` + testAvatar + `"}`},
		{"jwt number", `{"jwt":12345,"expires_in":300,"avatar_id":"` + testAvatar + `"}`},
		{"jwt object", `{"jwt":{"token":"a.b.c"},"expires_in":300,"avatar_id":"` + testAvatar + `"}`},
		{"jwt empty", `{"jwt":"","expires_in":300,"avatar_id":"` + testAvatar + `"}`},
		{"jwt two segments", `{"jwt":"abc.def","expires_in":300,"avatar_id":"` + testAvatar + `"}`},
		{"jwt four segments", `{"jwt":"a.b.c.d","expires_in":300,"avatar_id":"` + testAvatar + `"}`},
		{"jwt with html", `{"jwt":"a.b.<script>","expires_in":300,"avatar_id":"` + testAvatar + `"}`},
		{"jwt with quote", `{"jwt":"a.b.c\"","expires_in":300,"avatar_id":"` + testAvatar + `"}`},
		{"jwt with space", `{"jwt":"a.b.c d","expires_in":300,"avatar_id":"` + testAvatar + `"}`},
		{"jwt too long", `{"jwt":"a.b.` + strings.Repeat("c", 8192) + `","expires_in":300,"avatar_id":"` + testAvatar + `"}`},
		{"another avatar", `{"jwt":"` + testJWT + `","expires_in":300,"avatar_id":"1111"}`},
		{"avatar as number", `{"jwt":"` + testJWT + `","expires_in":300,"avatar_id":4386676996480451678}`},
		{"expires_in negative", `{"jwt":"` + testJWT + `","expires_in":-1,"avatar_id":"` + testAvatar + `"}`},
		{"expires_in string", `{"jwt":"` + testJWT + `","expires_in":"300","avatar_id":"` + testAvatar + `"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, reply(http.StatusOK, tt.body))
			tok, err := call(t, s.URL, time.Second)
			if tok != (Token{}) {
				t.Errorf("token %+v returned with an error", tok)
			}
			e := asError(t, err)
			if e.Kind != KindBadResponse || e.Status != 200 || !e.Sent || e.Retryable() {
				t.Errorf("error = %+v, want KindBadResponse, status 200, sent, not retryable", e)
			}
			if !strings.HasPrefix(e.Error(), "trulience answered an unusable body: ") {
				t.Errorf("Error() = %q", e.Error())
			}
		})
	}
}

func TestGenerateTokenBodyAtTheLimit(t *testing.T) {
	exact := okBody + strings.Repeat(" ", maxBody-len(okBody))
	s := newServer(t, reply(http.StatusOK, exact))
	if _, err := call(t, s.URL, time.Second); err != nil {
		t.Errorf("a 64 KiB body is refused: %v", err)
	}
}

func TestGenerateTokenDoesNotFollowRedirects(t *testing.T) {
	for _, status := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			var hits atomic.Int32
			var leaked atomic.Bool
			elsewhere := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				if r.Header.Get("X-Api-Key") != "" {
					leaked.Store(true)
				}
				reply(http.StatusOK, okBody)(w, r)
			})
			s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, elsewhere.URL+"/auth/generate-token", status)
			})
			tok, err := call(t, s.URL, time.Second)
			if tok != (Token{}) {
				t.Errorf("token %+v returned from a redirect", tok)
			}
			e := asError(t, err)
			if e.Kind != KindAPI || e.Status != status || e.Retryable() {
				t.Errorf("error = %+v, want KindAPI status %d, not retryable", e, status)
			}
			if hits.Load() != 0 || leaked.Load() {
				t.Errorf("the redirect was followed (%d requests, key sent: %v)", hits.Load(), leaked.Load())
			}
		})
	}
}

func TestClientReusesConnections(t *testing.T) {
	var conns atomic.Int32
	var calls atomic.Int32
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch calls.Add(1) {
		case 2: // an error answer must not cost the connection either
			reply(http.StatusUnauthorized, `{"error":{"code":16,"message":"Invalid API Key"}}`)(w, r)
		case 4:
			reply(http.StatusTooManyRequests, `{"error":{"code":36,"message":"Too many requests. Please slow down."}}`, "Retry-After", "1")(w, r)
		default:
			reply(http.StatusOK, okBody)(w, r)
		}
	}))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	s.Start()
	t.Cleanup(s.Close)

	c := NewClient(s.URL, time.Second, nil)
	for i := range 6 {
		_, err := c.GenerateToken(context.Background(), testKey, Request{AvatarID: testAvatar, ExpireAt: 60 + i})
		if (i == 1 || i == 3) != (err != nil) {
			t.Fatalf("call %d: unexpected result %v", i+1, err)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("6 calls opened %d connections, want 1", n)
	}
}

func TestErrorMessages(t *testing.T) {
	tests := []struct {
		err  Error
		want string
	}{
		{Error{Kind: KindAPI, Status: 429, Code: 36}, "trulience answered 429 (code 36)"},
		{Error{Kind: KindAPI, Status: 502}, "trulience answered 502 (code 0)"},
		{Error{Kind: KindTimeout, Detail: "context deadline exceeded"}, "trulience did not answer in time: context deadline exceeded"},
		{Error{Kind: KindTransport, Detail: "connection refused"}, "trulience connection failed: connection refused"},
		{Error{Kind: KindBadResponse, Detail: "jwt missing or not a JWT"}, "trulience answered an unusable body: jwt missing or not a JWT"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestTransportErrorDropsTheURL(t *testing.T) {
	// *url.Error would print the method and URL; the detail keeps only the cause.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = call(t, "http://"+addr+"/secret-path", time.Second)
	e := asError(t, err)
	if strings.Contains(e.Error(), "secret-path") || strings.Contains(e.Error(), "Post ") {
		t.Errorf("Error() = %q quotes the request", e.Error())
	}
}

func TestGenerateTokenUnusableBaseURL(t *testing.T) {
	// package config refuses such URLs; the client still fails cleanly.
	_, err := call(t, "http://127.0.0.1:80%zz", time.Second)
	if e := asError(t, err); e.Kind != KindTransport || e.Sent {
		t.Errorf("error = %+v, want KindTransport, not sent", e)
	}
}
