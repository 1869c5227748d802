package trulience

import (
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Kind classifies why a token could not be minted.
type Kind int

const (
	// KindAPI means Trulience answered with an error status.
	KindAPI Kind = iota + 1
	// KindTimeout means Trulience did not answer within the time allowed.
	KindTimeout
	// KindTransport means the connection failed (refused, reset, TLS).
	KindTransport
	// KindBadResponse means Trulience answered 200 with a body that is not a usable token.
	KindBadResponse
)

// Error is a failed call to Trulience. It never holds the API key, and never
// Trulience's message verbatim in anything meant for the caller.
type Error struct {
	Kind Kind
	// Status is Trulience's HTTP status, 0 when it did not answer.
	Status int
	// Code is the numeric error code from Trulience's error body, 0 when absent.
	Code int
	// Sent is false when the request certainly never reached Trulience.
	Sent bool
	// RetryAfter is Trulience's Retry-After, 0 when absent.
	RetryAfter time.Duration
	// Detail explains the failure for the log.
	Detail string
}

func (e *Error) Error() string {
	switch e.Kind {
	case KindAPI:
		return fmt.Sprintf("trulience answered %d (code %d)", e.Status, e.Code)
	case KindTimeout:
		return "trulience did not answer in time: " + e.Detail
	case KindTransport:
		return "trulience connection failed: " + e.Detail
	default:
		return "trulience answered an unusable body: " + e.Detail
	}
}

// Retryable reports whether one more attempt is safe and may succeed: Trulience
// asked to slow down (429) or was unavailable (503), or the request was never
// sent. Anything else may have minted a token already, and minting is not
// idempotent: a request written to a connection that then ended without an
// answer is not retried, whoever closed it (Go's transport makes the same
// call for a POST). A kept-alive connection the server closed while idle is
// dropped by the transport before reuse, or, in the race where both happen at
// once, retried by the transport itself when nothing was written.
func (e *Error) Retryable() bool {
	switch e.Kind {
	case KindAPI:
		return e.Status == http.StatusTooManyRequests || e.Status == http.StatusServiceUnavailable
	case KindTransport:
		return !e.Sent
	case KindTimeout:
		return !e.Sent
	}
	return false
}

// parseRetryAfter reads a Retry-After header: delta-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 || s > 3600 {
			return 0
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) && t.Sub(now) <= time.Hour {
		return t.Sub(now)
	}
	return 0
}
