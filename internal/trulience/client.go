// Package trulience calls Trulience's token endpoint.
package trulience

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/trulience-token/trulience-token/internal/httpclient"
)

// maxBody bounds how much of Trulience's answer is read.
const maxBody = 64 << 10

// Request asks for one token.
type Request struct {
	// AvatarID is the avatar the token is for.
	AvatarID string
	// ExpireAt is the token lifetime in seconds; 0 leaves it to Trulience (120).
	ExpireAt int
	// Origin is the caller's browser origin, forwarded so origin-restricted keys work; "" for none.
	Origin string
}

// Token is Trulience's answer to a successful request.
type Token struct {
	JWT       string `json:"jwt"`
	ExpiresIn int    `json:"expires_in"`
	AvatarID  string `json:"avatar_id"`
}

// Client calls POST <base>/auth/generate-token over one long-lived HTTP client.
type Client struct {
	http     *http.Client
	endpoint string
	timeout  time.Duration
}

// NewClient returns a client for the API at baseURL (already validated by
// package config) that sends its calls with hc (httpclient.New; nil: one of
// its own); each call is limited to timeout.
func NewClient(baseURL string, timeout time.Duration, hc *http.Client) *Client {
	if hc == nil {
		hc = httpclient.New(nil)
	}
	return &Client{http: hc, endpoint: strings.TrimRight(baseURL, "/") + "/auth/generate-token", timeout: timeout}
}

// GenerateToken mints one token with key. Failures are *Error.
func (c *Client) GenerateToken(ctx context.Context, key string, r Request) (Token, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(requestBody(r)))
	if err != nil {
		return Token{}, &Error{Kind: KindTransport, Detail: "building request: " + err.Error()}
	}
	req.Header["X-Api-Key"] = []string{key}
	req.Header["Content-Type"] = []string{"application/json"}
	req.Header["Accept"] = []string{"application/json"}
	req.Header["User-Agent"] = []string{httpclient.UserAgent}
	if r.Origin != "" {
		req.Header["Origin"] = []string{r.Origin}
	}
	// Set from the transport's goroutine once the request's headers are
	// written: from then on Trulience may have read it.
	var sent atomic.Bool
	req = req.WithContext(httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteHeaders: func() { sent.Store(true) },
	}))

	resp, err := c.http.Do(req)
	if err != nil {
		return Token{}, transportError(ctx, err, sent.Load())
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return Token{}, transportError(ctx, err, true)
	}
	if resp.StatusCode != http.StatusOK {
		return Token{}, &Error{
			Kind: KindAPI, Status: resp.StatusCode, Code: errorCode(body), Sent: true,
			RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
		}
	}
	if len(body) > maxBody {
		return Token{}, &Error{Kind: KindBadResponse, Status: resp.StatusCode, Sent: true, Detail: "body larger than 64 KiB"}
	}
	return parseToken(body, r.AvatarID)
}

// requestBody encodes {"avatar_id": …, "expire_at": …} without reflection;
// the avatar ID is validated digits, so it needs no escaping.
func requestBody(r Request) []byte {
	b := make([]byte, 0, 64)
	b = append(b, `{"avatar_id":"`...)
	b = append(b, r.AvatarID...)
	b = append(b, '"')
	if r.ExpireAt != 0 {
		b = append(b, `,"expire_at":`...)
		b = strconv.AppendInt(b, int64(r.ExpireAt), 10)
	}
	return append(b, '}')
}

func transportError(ctx context.Context, err error, sent bool) *Error {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil || (errors.As(err, &ne) && ne.Timeout()) {
		return &Error{Kind: KindTimeout, Sent: sent, Detail: redact(err)}
	}
	return &Error{Kind: KindTransport, Sent: sent, Detail: redact(err)}
}

// redact keeps the cause of a transport failure without the URL's query (none
// is ever sent) or anything else from the request: *url.Error is unwrapped.
func redact(err error) string {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) && ue.Unwrap() != nil {
		return ue.Unwrap().Error()
	}
	return err.Error()
}

// errorCode reads the numeric code of Trulience's error body, 0 when absent.
func errorCode(body []byte) int {
	var e struct {
		Error struct {
			Code int `json:"code"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil {
		return 0
	}
	return e.Error.Code
}

func parseToken(body []byte, avatarID string) (Token, error) {
	var t struct {
		JWT       *string `json:"jwt"`
		ExpiresIn int     `json:"expires_in"`
		AvatarID  string  `json:"avatar_id"`
	}
	bad := func(detail string) (Token, error) {
		return Token{}, &Error{Kind: KindBadResponse, Status: http.StatusOK, Sent: true, Detail: detail}
	}
	if err := json.Unmarshal(body, &t); err != nil {
		return bad(fmt.Sprintf("not a token object (%d bytes)", len(body)))
	}
	if t.JWT == nil || !looksLikeJWT(*t.JWT) {
		return bad("jwt missing or not a JWT")
	}
	if t.AvatarID == "" {
		t.AvatarID = avatarID
	} else if t.AvatarID != avatarID {
		return bad("token is for another avatar than requested")
	}
	if t.ExpiresIn < 0 {
		return bad("negative expires_in")
	}
	return Token{JWT: *t.JWT, ExpiresIn: t.ExpiresIn, AvatarID: t.AvatarID}, nil
}

// looksLikeJWT reports whether s is three dot-separated base64url segments, so
// it is safe to place in a URL and a JSON string unescaped.
func looksLikeJWT(s string) bool {
	if len(s) < 5 || len(s) > 8192 {
		return false
	}
	dots := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.':
			dots++
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '=':
		default:
			return false
		}
	}
	return dots == 2
}
