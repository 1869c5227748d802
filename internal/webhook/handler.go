// Package webhook is the receiver of Trulience's session webhook: API
// Gateway HTTP API 2.0 events in, answers out. It checks the secret
// header in constant time, parses the body strictly, records the event in
// the session ledger, sweeps sessions whose time is up, and writes one
// JSON log line and one metrics record per call. Nothing is recorded on
// any error.
package webhook

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/trulience-token/trulience-token/internal/config"
	"github.com/trulience-token/trulience-token/internal/httpapi"
	"github.com/trulience-token/trulience-token/internal/metrics"
	"github.com/trulience-token/trulience-token/internal/sessions"
)

// Time limits: Trulience's wait is not documented, so the answer comes
// well within a few seconds whatever DynamoDB does.
const (
	// eventTimeout bounds recording the event, retries included.
	eventTimeout = 3 * time.Second
	// sweepTimeout bounds the sweep after it.
	sweepTimeout = time.Second
	// deadlineMargin is kept free before the Lambda deadline to answer.
	deadlineMargin = 200 * time.Millisecond
)

// Ledger is what the handler records events in; *sessions.Ledger
// satisfies it.
type Ledger interface {
	Connect(ctx context.Context, e sessions.Event) (sessions.Change, error)
	Disconnect(ctx context.Context, e sessions.Event) (sessions.Change, error)
	Sweep(ctx context.Context, now time.Time) (sessions.Swept, error)
}

// Authenticator says whether a header value is the webhook's secret;
// *Secret satisfies it.
type Authenticator interface {
	Matches(ctx context.Context, got string) (bool, error)
}

// Recorder writes one metrics record per call; *metrics.Writer satisfies it.
type Recorder interface {
	RecordWebhook(m metrics.Webhook)
}

// Answers other than 200 and 400.
var (
	problemUnauthorized = &httpapi.Problem{Status: http.StatusUnauthorized, Code: "unauthorized", Message: "The webhook's secret header is missing or wrong."}
	problemCustomer     = &httpapi.Problem{Status: http.StatusForbidden, Code: "customer_not_allowed", Message: "This endpoint records sessions of another Trulience customer."}
	problemMethod       = &httpapi.Problem{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed", Message: "Use POST."}
	problemLedger       = &httpapi.Problem{Status: http.StatusServiceUnavailable, Code: "ledger_unavailable", Message: "The session ledger cannot be written right now; nothing was recorded. Try again."}
	problemSecret       = &httpapi.Problem{Status: http.StatusServiceUnavailable, Code: "secret_unavailable", Message: "The webhook cannot read its secret right now; nothing was recorded. Try again."}
	problemInternal     = &httpapi.Problem{Status: http.StatusInternalServerError, Code: "internal_error", Message: "The webhook failed. Its operator can find the cause in the function's log."}
)

// Handler is the webhook function's lambda.Handler.
type Handler struct {
	cfg    config.Webhook
	cfgErr error
	auth   Authenticator
	ledger Ledger
	log    *slog.Logger
	meter  Recorder // nil: no metrics records
	now    func() time.Time
}

// New returns the handler for a valid configuration.
func New(cfg config.Webhook, auth Authenticator, ledger Ledger, log *slog.Logger, meter Recorder) *Handler {
	return &Handler{cfg: cfg, auth: auth, ledger: ledger, log: log, meter: meter, now: time.Now}
}

// Misconfigured returns a handler that answers every call 500
// internal_error, so a bad deployment fails clearly.
func Misconfigured(err error, log *slog.Logger, meter Recorder) *Handler {
	return &Handler{cfgErr: err, log: log, meter: meter, now: time.Now}
}

// WithClock makes h read the time from now (tests).
func (h *Handler) WithClock(now func() time.Time) *Handler {
	h.now = now
	return h
}

// event holds the fields of an HTTP API 2.0 (or function URL) event the
// handler reads.
type event struct {
	Headers         map[string]string `json:"headers"`
	Body            string            `json:"body"`
	IsBase64Encoded bool              `json:"isBase64Encoded"`
	RequestContext  struct {
		RequestID string `json:"requestId"`
		HTTP      struct {
			Method string `json:"method"`
		} `json:"http"`
	} `json:"requestContext"`
}

var errNotHTTP = errors.New("unsupported event: expected an API Gateway HTTP API 2.0 request")

// outcome is what a call's log line and record report beyond the answer.
type outcome struct {
	payload  Payload
	parsed   bool
	change   sessions.Change
	swept    []int64
	live     int
	err      error // a 5xx's cause, for the log
	sweepErr error
}

// Invoke answers one invocation.
func (h *Handler) Invoke(ctx context.Context, raw []byte) ([]byte, error) {
	start := time.Now()
	reqID := ""
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		reqID = lc.AwsRequestID
	}
	var e event
	if err := json.Unmarshal(raw, &e); err != nil || e.RequestContext.HTTP.Method == "" {
		h.log.LogAttrs(ctx, slog.LevelWarn, "unsupported event", slog.String("request_id", reqID), slog.Int("bytes", len(raw)))
		return nil, errNotHTTP
	}
	if dl, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl.Add(-deadlineMargin))
		defer cancel()
	}
	out := outcome{live: -1}
	p := h.serve(ctx, &e, &out)
	status, body := http.StatusOK, `{"recorded":false}`
	if p != nil {
		status, body = p.Status, problemBody(p)
	} else if out.change.Recorded {
		body = `{"recorded":true}`
	}

	attrs := []slog.Attr{
		slog.String("request_id", reqID),
		slog.String("api_request_id", capped(e.RequestContext.RequestID)),
		slog.Int("status", status),
	}
	if out.parsed {
		attrs = append(attrs,
			slog.String("event_type", out.payload.EventType),
			slog.String("avatar_id", out.payload.AvatarID),
			slog.String("session_id", out.payload.SessionID),
			slog.Bool("recorded", out.change.Recorded))
		if out.payload.Clamped != "" {
			attrs = append(attrs, slog.String("max_session_duration_clamped", out.payload.Clamped))
		}
	}
	if out.change.Ended {
		attrs = append(attrs, slog.Int64("seconds", out.change.Seconds))
	}
	if len(out.swept) > 0 {
		attrs = append(attrs, slog.Int("swept", len(out.swept)))
	}
	if out.live >= 0 {
		attrs = append(attrs, slog.Int("live_sessions", out.live))
	}
	if out.sweepErr != nil {
		attrs = append(attrs, slog.String("sweep_error", out.sweepErr.Error()))
	}
	level := slog.LevelInfo
	code := ""
	if p != nil {
		code = p.Code
		attrs = append(attrs, slog.String("code", code))
		if status >= 500 {
			level = slog.LevelError
			if out.err != nil {
				attrs = append(attrs, slog.String("cause", out.err.Error()))
			}
		}
	}
	attrs = append(attrs, slog.Int64("latency_ms", time.Since(start).Milliseconds()))
	h.log.LogAttrs(ctx, level, "webhook", attrs...)

	if h.meter != nil {
		m := metrics.Webhook{Code: code, Live: out.live}
		if out.change.Started {
			m.Started = 1
		}
		if out.change.Ended {
			m.Ended = append(m.Ended, out.change.Seconds)
		}
		m.Ended = append(m.Ended, out.swept...)
		h.meter.RecordWebhook(m)
	}
	resp, _ := json.Marshal(map[string]any{
		"statusCode": status,
		"headers":    map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
		"body":       body,
	})
	return resp, nil
}

// serve decides the answer to one call: nil is 200.
func (h *Handler) serve(ctx context.Context, e *event, out *outcome) *httpapi.Problem {
	if h.cfgErr != nil {
		out.err = h.cfgErr
		return problemInternal
	}
	if !strings.EqualFold(e.RequestContext.HTTP.Method, http.MethodPost) {
		return problemMethod
	}
	got, ok := header(e.Headers, h.cfg.HeaderName)
	if !ok {
		return problemUnauthorized
	}
	match, err := h.auth.Matches(ctx, got)
	if err != nil {
		out.err = err
		return problemSecret
	}
	if !match {
		return problemUnauthorized
	}
	body := []byte(e.Body)
	if e.IsBase64Encoded {
		if base64.StdEncoding.DecodedLen(len(e.Body)) > MaxBody+2 {
			return invalid("the body is larger than %d bytes", MaxBody)
		}
		if body, err = base64.StdEncoding.DecodeString(e.Body); err != nil {
			return invalid("the body is marked base64-encoded but is not valid base64")
		}
	}
	now := h.now()
	p, prob := Parse(body, now)
	if prob != nil {
		return prob
	}
	out.payload, out.parsed = p, true
	if h.cfg.CustomerID != "" && p.CustomerID != h.cfg.CustomerID {
		return problemCustomer
	}

	ectx, cancel := context.WithTimeout(ctx, eventTimeout)
	defer cancel()
	ev := sessions.Event{SessionID: p.SessionID, AvatarID: p.AvatarID, At: p.Timestamp, MaxDuration: p.MaxDuration}
	if p.EventType == Connect {
		out.change, err = h.ledger.Connect(ectx, ev)
	} else {
		out.change, err = h.ledger.Disconnect(ectx, ev)
	}
	if err != nil {
		out.change, out.err = sessions.Change{}, err
		return problemLedger
	}
	// The event is recorded: whatever the sweep meets, the answer is 200.
	sctx, cancel := context.WithTimeout(ctx, sweepTimeout)
	defer cancel()
	sw, err := h.ledger.Sweep(sctx, now)
	out.swept = sw.Ended
	if err != nil {
		out.sweepErr = err
	} else {
		out.live = sw.Live
	}
	return nil
}

// header is the value of the header name, whatever its case; a header
// given twice under different cases is not taken.
func header(headers map[string]string, name string) (string, bool) {
	value, found := "", 0
	for k, v := range headers {
		if strings.EqualFold(k, name) {
			value, found = v, found+1
		}
	}
	return value, found == 1 && value != ""
}

func problemBody(p *httpapi.Problem) string {
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	e.Error.Code, e.Error.Message = p.Code, p.Message
	b, _ := json.Marshal(e)
	return string(b)
}
