package frontdoor

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Invoker runs the function on one event payload; *rie.Emulator is one. An
// error means an invocation error (the function failed to answer).
type Invoker interface {
	Invoke(ctx context.Context, payload []byte) ([]byte, error)
}

// Limits API Gateway applies.
const (
	MaxBody            = 10 << 20         // request payload quota (10 MB)
	IntegrationTimeout = 30 * time.Second // HTTP API integration timeout
)

// Handler is the front door: an http.Handler invoking Function per request.
type Handler struct {
	// Function is invoked with each request's event.
	Function Invoker
	// Routes are the route keys ("POST /token") with the function as their
	// integration. Other requests get 404 {"message":"Not Found"}, as from
	// API Gateway. Empty: every request goes to the function with route key
	// "$default".
	Routes []string
	// JWT, when set, is the route's JWT authorizer (signed-in mode):
	// requests without a token it accepts get 401 and never reach the
	// function.
	JWT *JWTAuth
	// CORS, when set, is the API's CORS configuration: the front door
	// answers preflights and adds the CORS headers, as API Gateway does.
	CORS *CORS
	// Log gets one line per request; nil discards.
	Log *slog.Logger
	// Timeout bounds one invocation; 0 means IntegrationTimeout.
	Timeout time.Duration
}

// ServeHTTP answers one request like API Gateway.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	status, requestID, detail := h.serve(w, r, start)
	if h.Log != nil {
		attrs := []any{"method", r.Method, "path", r.URL.Path, "status", status,
			"latency_ms", time.Since(start).Milliseconds(), "request_id", requestID}
		if detail != "" {
			attrs = append(attrs, "error", detail)
		}
		h.Log.Info("request", attrs...)
	}
}

// message writes an API Gateway error answer {"message":"…"}.
func message(w http.ResponseWriter, status int, text string) int {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, `{"message":"`+text+`"}`)
	return status
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, now time.Time) (status int, requestID, detail string) {
	if h.CORS != nil && isPreflight(r) {
		return h.CORS.preflight(w, r), "", ""
	}
	routeKey, ok := h.route(r)
	if !ok {
		return message(w, http.StatusNotFound, "Not Found"), "", ""
	}
	var claims map[string]string
	if h.JWT != nil {
		var err error
		if claims, err = h.JWT.Verify(strings.Join(r.Header.Values("Authorization"), ",")); err != nil {
			if h.CORS != nil {
				h.CORS.decorate(w.Header(), r.Header.Get("Origin"))
			}
			return unauthorized(w), "", "jwt authorizer: " + err.Error()
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return message(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large"), "", ""
		}
		return message(w, http.StatusBadRequest, "Bad Request"), "", ""
	}
	event := NewEvent(r, body, routeKey, now)
	if claims != nil {
		event.RequestContext.Authorizer = newJWTAuthorizer(claims)
	}
	requestID = event.RequestContext.RequestID
	w.Header().Set("Apigw-Requestid", requestID)
	payload, _ := json.Marshal(event)

	timeout := h.Timeout
	if timeout <= 0 {
		timeout = IntegrationTimeout
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	out, err := h.Function.Invoke(ctx, payload)
	switch {
	case ctx.Err() != nil && r.Context().Err() == nil:
		return message(w, http.StatusServiceUnavailable, "Service Unavailable"), requestID, "integration timeout"
	case err != nil:
		return message(w, http.StatusBadGateway, "Internal Server Error"), requestID, errorKind(err)
	}
	var cors func(http.Header)
	if h.CORS != nil {
		cors = func(hdr http.Header) { h.CORS.decorate(hdr, r.Header.Get("Origin")) }
	}
	status, err = writeResult(w, out, cors)
	if err != nil {
		return message(w, http.StatusInternalServerError, "Internal Server Error"), requestID, err.Error()
	}
	return status, requestID, ""
}

// route finds the route key for r.
func (h *Handler) route(r *http.Request) (string, bool) {
	if len(h.Routes) == 0 {
		return "$default", true
	}
	for _, rk := range h.Routes {
		method, path, _ := strings.Cut(rk, " ")
		if path != r.URL.Path {
			continue
		}
		if method == r.Method || method == "ANY" {
			return rk, true
		}
	}
	return "", false
}

// errorKind names an invocation error without its message (which could
// carry anything the function put there).
func errorKind(err error) string {
	var typed interface{ ErrorType() string }
	if errors.As(err, &typed) {
		return "invocation error " + typed.ErrorType()
	}
	return "invocation error"
}

// result is the function's answer in payload format 2.0.
type result struct {
	StatusCode        *int                `json:"statusCode"`
	Headers           map[string]string   `json:"headers"`
	MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
	Cookies           []string            `json:"cookies"`
	Body              *string             `json:"body"`
	IsBase64Encoded   bool                `json:"isBase64Encoded"`
}

// writeResult writes the function's answer, its headers passed through
// cors when set. Like API Gateway with payload 2.0, an answer without
// statusCode is taken as a 200 JSON body.
func writeResult(w http.ResponseWriter, out []byte, cors func(http.Header)) (int, error) {
	var res result
	if json.Unmarshal(out, &res) != nil || res.StatusCode == nil {
		if !json.Valid(out) {
			return 0, errors.New("malformed Lambda proxy response")
		}
		w.Header().Set("Content-Type", "application/json")
		if cors != nil {
			cors(w.Header())
		}
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(out)
		return http.StatusOK, nil
	}
	if *res.StatusCode < 100 || *res.StatusCode > 599 {
		return 0, errors.New("malformed Lambda proxy response: statusCode " + strconv.Itoa(*res.StatusCode))
	}
	var body []byte
	if res.Body != nil {
		body = []byte(*res.Body)
		if res.IsBase64Encoded {
			var err error
			if body, err = base64.StdEncoding.DecodeString(*res.Body); err != nil {
				return 0, errors.New("malformed Lambda proxy response: body is not base64")
			}
		}
	}
	for k, vs := range res.MultiValueHeaders {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	for k, v := range res.Headers {
		w.Header().Set(k, v)
	}
	for _, c := range res.Cookies {
		w.Header().Add("Set-Cookie", c)
	}
	if cors != nil {
		cors(w.Header())
	}
	w.WriteHeader(*res.StatusCode)
	_, _ = w.Write(body)
	return *res.StatusCode, nil
}

func itoa(n int) string { return strconv.Itoa(n) }
