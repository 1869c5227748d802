package httpapi

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/trulience-token/trulience-token/internal/trulience"
)

// response is both events.APIGatewayV2HTTPResponse and
// events.APIGatewayProxyResponse: the fields the function sets are the same.
type response struct {
	StatusCode      int               `json:"statusCode"`
	Headers         map[string]string `json:"headers"`
	Body            string            `json:"body"`
	IsBase64Encoded bool              `json:"isBase64Encoded"`
}

func newResponse(status int, allowOrigin string) *response {
	h := map[string]string{
		"Content-Type":           "application/json",
		"Cache-Control":          "no-store",
		"Vary":                   "Origin",
		"X-Content-Type-Options": "nosniff",
	}
	if allowOrigin != "" {
		h["Access-Control-Allow-Origin"] = allowOrigin
	}
	return &response{StatusCode: status, Headers: h}
}

func tokenResponse(t trulience.Token, allowOrigin string) *response {
	r := newResponse(200, allowOrigin)
	// The JWT is base64url and dots and the avatar ID digits (both checked by
	// package trulience), so neither needs escaping.
	b := make([]byte, 0, len(t.JWT)+len(t.AvatarID)+48)
	b = append(b, `{"jwt":"`...)
	b = append(b, t.JWT...)
	b = append(b, `","expires_in":`...)
	b = strconv.AppendInt(b, int64(t.ExpiresIn), 10)
	b = append(b, `,"avatar_id":"`...)
	b = append(b, t.AvatarID...)
	b = append(b, `"}`...)
	r.Body = string(b)
	return r
}

func problemResponse(p *Problem, allowOrigin string) *response {
	r := newResponse(p.Status, allowOrigin)
	if p.RetryAfter > 0 {
		r.Headers["Retry-After"] = strconv.Itoa(int((p.RetryAfter + time.Second - 1) / time.Second))
	}
	if p.Status == 405 {
		r.Headers["Allow"] = "OPTIONS, POST"
	}
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	e.Error.Code, e.Error.Message = p.Code, p.Message
	b, _ := json.Marshal(e)
	r.Body = string(b)
	return r
}

func preflightResponse(allowOrigin string) *response {
	r := newResponse(204, allowOrigin)
	if allowOrigin != "" {
		r.Headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
		r.Headers["Access-Control-Allow-Headers"] = "content-type"
		r.Headers["Access-Control-Max-Age"] = "600"
	}
	r.Headers["Allow"] = "OPTIONS, POST"
	return r
}
