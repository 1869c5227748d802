package httpapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/trulience-token/trulience-token/internal/secret"
	"github.com/trulience-token/trulience-token/internal/trulience"
)

// Problem is an error answer: its status, stable code and a sentence for people.
type Problem struct {
	Status  int
	Code    string
	Message string
	// RetryAfter, when set, is sent as a Retry-After header.
	RetryAfter time.Duration
}

func (p *Problem) Error() string { return p.Code + ": " + p.Message }

func invalid(msg string) *Problem {
	return &Problem{Status: http.StatusBadRequest, Code: "invalid_request", Message: msg}
}

var (
	problemOrigin       = &Problem{Status: http.StatusForbidden, Code: "origin_not_allowed", Message: "This origin is not allowed to request avatar tokens."}
	problemAvatar       = &Problem{Status: http.StatusForbidden, Code: "avatar_not_allowed", Message: "This endpoint does not issue tokens for that avatar."}
	problemMethod       = &Problem{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed", Message: "Use POST to request a token."}
	problemTooLarge     = &Problem{Status: http.StatusRequestEntityTooLarge, Code: "payload_too_large", Message: "The request body is larger than 4096 bytes."}
	problemSecret       = &Problem{Status: http.StatusServiceUnavailable, Code: "secret_unavailable", Message: "The token service cannot read its API key right now. Try again shortly."}
	problemUpstream     = &Problem{Status: http.StatusBadGateway, Code: "upstream_error", Message: "Trulience could not issue a token."}
	problemUpstreamTime = &Problem{Status: http.StatusGatewayTimeout, Code: "upstream_timeout", Message: "Trulience did not answer in time. Try again."}
	problemInternal     = &Problem{Status: http.StatusInternalServerError, Code: "internal_error", Message: "The token service failed. Its operator can find the cause in the function's log."}
)

// problemFor maps any failure of minting to its answer: the one place where
// causes become status codes.
func problemFor(err error) *Problem {
	var p *Problem
	var te *trulience.Error
	switch {
	case errors.As(err, &p):
		return p
	case errors.Is(err, secret.ErrUnavailable):
		return problemSecret
	case errors.As(err, &te):
		switch {
		case te.Kind == trulience.KindTimeout:
			return problemUpstreamTime
		case te.Kind == trulience.KindAPI && te.Status == http.StatusTooManyRequests:
			return &Problem{Status: http.StatusTooManyRequests, Code: "rate_limited", Message: "Too many token requests. Try again later.", RetryAfter: te.RetryAfter}
		default:
			return problemUpstream
		}
	case errors.Is(err, context.DeadlineExceeded):
		return problemUpstreamTime
	default:
		return problemInternal
	}
}
