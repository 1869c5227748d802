// Package httpapi is the function's HTTP layer: it turns API Gateway (HTTP
// API, REST API) and Lambda function URL events into token answers, in the
// event's own format, deciding origin, method, body and avatar checks and
// mapping every failure to one status and error code.
package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/trulience-token/trulience-token/internal/config"
	"github.com/trulience-token/trulience-token/internal/idhash"
	"github.com/trulience-token/trulience-token/internal/trulience"
)

// Minter mints one token; *mint.Service satisfies it.
type Minter interface {
	Mint(ctx context.Context, r trulience.Request) (trulience.Token, error)
}

// deadlineMargin is kept free before the Lambda deadline to write the answer.
const deadlineMargin = 300 * time.Millisecond

// Handler is the function's lambda.Handler.
type Handler struct {
	cfg    config.Config
	cfgErr error
	mint   Minter
	guards []Guard
	log    *slog.Logger
	meter  Meter // nil: no metrics records
	// subSecret keys the log's sub_hash; nil: no sub_hash.
	subSecret *idhash.Secret
}

// New returns the handler for a valid configuration. The guards decide,
// together and after the request's own checks, who gets a token.
func New(cfg config.Config, m Minter, log *slog.Logger, guards ...Guard) *Handler {
	return &Handler{cfg: cfg, mint: m, guards: guards, log: log}
}

// Misconfigured returns a handler that answers every request 500
// internal_error, so a bad deployment fails clearly instead of crash-looping.
func Misconfigured(err error, log *slog.Logger) *Handler {
	return &Handler{cfgErr: err, log: log}
}

// outcome is what one request's log line reports beyond the answer.
type outcome struct {
	avatarID       string
	upstreamStatus int
	err            error
	guardLog       []slog.Attr
	// upstream: Trulience was called, for upstreamLatency.
	upstream        bool
	upstreamLatency time.Duration
}

// Invoke answers one invocation. Payloads that are not HTTP requests get an
// invocation error; everything else gets an HTTP answer in the event's format.
func (h *Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	start := time.Now()
	reqID := ""
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		reqID = lc.AwsRequestID
	}
	req, err := decodeEvent(payload)
	if err != nil {
		h.log.LogAttrs(ctx, slog.LevelWarn, "unsupported event", slog.String("request_id", reqID), slog.Int("bytes", len(payload)))
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl.Add(-deadlineMargin))
		defer cancel()
	}
	ctx, notes := h.withNotes(ctx)
	resp, out := h.serve(ctx, req)
	body, err := json.Marshal(resp)
	if err != nil {
		return nil, errors.New("encoding the response failed")
	}

	level := slog.LevelInfo
	attrs := []slog.Attr{
		slog.String("request_id", reqID),
		slog.String("api_request_id", capped(req.apiReqID)),
		slog.String("format", string(req.format)),
		slog.String("shape", string(req.shape)),
		slog.String("method", capped(req.method)),
		slog.String("origin", capped(req.origin)),
		slog.Int("status", resp.StatusCode),
		slog.String("avatar_id", out.avatarID),
		slog.Int("upstream_status", out.upstreamStatus),
		slog.Int64("latency_ms", time.Since(start).Milliseconds()),
	}
	attrs = append(attrs, h.claimsLog(ctx, req.claims)...)
	attrs = append(attrs, out.guardLog...)
	attrs = botCheckSkipped(attrs)
	code := ""
	if out.err != nil {
		p := problemFor(out.err)
		code = p.Code
		attrs = append(attrs, slog.String("code", p.Code))
		if p.Status >= 500 {
			level = slog.LevelError
			attrs = append(attrs, slog.String("cause", out.err.Error()))
		}
	}
	h.log.LogAttrs(ctx, level, "request", attrs...)
	h.measure(ctx, notes, resp, out, code)
	return body, nil
}

// serve decides the answer to one HTTP request.
func (h *Handler) serve(ctx context.Context, req request) (*response, outcome) {
	if h.cfgErr != nil {
		return problemResponse(problemInternal, ""), outcome{err: h.cfgErr}
	}
	// allow is the Access-Control-Allow-Origin the function sends itself:
	// none behind an HTTP API, whose CORS configuration adds it.
	allow := ""
	if req.hasOrigin {
		if !h.cfg.Origins.Allows(req.origin) {
			return problemResponse(problemOrigin, ""), outcome{err: problemOrigin}
		}
		if req.shape.speaksCORS() {
			allow = req.origin
			if h.cfg.Origins.Any {
				allow = "*"
			}
		}
	}
	fail := func(p *Problem, out outcome) (*response, outcome) {
		out.err = p
		return problemResponse(p, allow), out
	}
	switch req.method {
	case http.MethodOptions:
		return preflightResponse(allow), outcome{}
	case http.MethodPost:
	default:
		return fail(problemMethod, outcome{})
	}

	raw, p := req.decodedBody()
	if p != nil {
		return fail(p, outcome{})
	}
	body, p := parseBody(raw)
	if p != nil {
		return fail(p, outcome{})
	}
	avatar := body.avatarID
	if avatar == "" {
		avatar = h.cfg.Avatars.Default
		if avatar == "" {
			return fail(invalid("avatar_id is required: this endpoint has no default avatar"), outcome{})
		}
	}
	out := outcome{avatarID: avatar}
	if !h.cfg.Avatars.Allows(avatar) {
		return fail(problemAvatar, out)
	}
	if p := h.checkAvatarClaim(req.claims, avatar); p != nil {
		return fail(p, out)
	}
	expireAt, p := h.checkLifetime(body.expireAt)
	if p != nil {
		return fail(p, out)
	}

	var origin string
	if req.hasOrigin {
		origin = req.origin
	}
	var verdicts []Verdict
	if len(h.guards) > 0 {
		verdicts = checkGuards(ctx, h.guards, Visitor{SourceIP: req.sourceIP, Claims: req.claims, Origin: origin, AvatarID: avatar, TurnstileToken: body.turnstileToken})
		for _, vd := range verdicts {
			out.guardLog = append(out.guardLog, vd.Log...)
		}
		if p := refusal(verdicts); p != nil {
			undo(verdicts)
			return fail(p, out)
		}
	}
	mintStart := time.Now()
	tok, err := h.mint.Mint(ctx, trulience.Request{AvatarID: avatar, ExpireAt: expireAt, Origin: origin})
	out.upstreamLatency = time.Since(mintStart)
	if err != nil {
		release(verdicts)
		var te *trulience.Error
		if errors.As(err, &te) {
			out.upstreamStatus = te.Status
		}
		out.upstream = te != nil || errors.Is(err, context.DeadlineExceeded)
		out.err = err
		return problemResponse(problemFor(err), allow), out
	}
	out.upstreamStatus, out.upstream = http.StatusOK, true
	return tokenResponse(tok, allow), out
}
