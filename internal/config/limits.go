package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DefaultLimitsTimeout bounds one request's limit check when LIMITS_TIMEOUT is unset.
const DefaultLimitsTimeout = 500 * time.Millisecond

// Rate is N tokens per Window. Windows are fixed and aligned to the clock:
// a 10m window runs from :00 to :10, :10 to :20, and so on (UTC).
type Rate struct {
	N      int64
	Window time.Duration
}

// Limits are the configuration of the per-visitor and daily limits
// (package limits).
type Limits struct {
	// Client is the per-visitor limit (CLIENT_TOKEN_LIMIT); zero is off.
	Client Rate
	// Daily is the endpoint's tokens per UTC day (DAILY_TOKEN_LIMIT); 0 is off.
	Daily int64
	// Table is the DynamoDB table holding the counters (LIMITS_TABLE).
	Table string
	// Timeout bounds the check of one request (LIMITS_TIMEOUT).
	Timeout time.Duration
	// FailOpen serves requests when the table cannot be reached in time
	// (LIMITS_FAIL_MODE=open, the default); otherwise they are refused
	// with 503 limits_unavailable.
	FailOpen bool
	// HashKey is the secret the visitor hash is keyed with
	// (LIMITS_HASH_KEY); unset, as the template leaves it, the Trulience
	// API key is used (docs/operations-limits.md).
	HashKey string
}

// On reports whether any limit is set.
func (s Limits) On() bool { return s.Client.N > 0 || s.Daily > 0 }

// loadLimits reads the limits' variables from getenv, reporting each
// problem to fail.
func loadLimits(getenv func(string) string, fail func(name string, err error)) Limits {
	s := Limits{Timeout: DefaultLimitsTimeout, FailOpen: true}
	bad := false
	failed := func(name string, err error) { bad = true; fail(name, err) }
	var err error
	if v := strings.TrimSpace(getenv("CLIENT_TOKEN_LIMIT")); v != "" {
		if s.Client, err = ParseRate(v); err != nil {
			failed("CLIENT_TOKEN_LIMIT", err)
		}
	}
	if v := strings.TrimSpace(getenv("DAILY_TOKEN_LIMIT")); v != "" {
		if s.Daily, err = strconv.ParseInt(v, 10, 64); err != nil || s.Daily < 1 {
			failed("DAILY_TOKEN_LIMIT", fmt.Errorf("%q is not a whole number of tokens of at least 1", v))
		}
	}
	s.Table = strings.TrimSpace(getenv("LIMITS_TABLE"))
	if v := strings.TrimSpace(getenv("LIMITS_TIMEOUT")); v != "" {
		d, err := time.ParseDuration(v)
		switch {
		case err != nil:
			failed("LIMITS_TIMEOUT", fmt.Errorf("%q is not a Go duration such as 500ms", v))
		case d < 10*time.Millisecond || d > 10*time.Second:
			failed("LIMITS_TIMEOUT", fmt.Errorf("%q is outside 10ms to 10s", v))
		default:
			s.Timeout = d
		}
	}
	switch v := strings.ToLower(strings.TrimSpace(getenv("LIMITS_FAIL_MODE"))); v {
	case "", "open":
	case "closed":
		s.FailOpen = false
	default:
		failed("LIMITS_FAIL_MODE", fmt.Errorf("%q is not open or closed", v))
	}
	s.HashKey = getenv("LIMITS_HASH_KEY")
	if s.On() && s.Table == "" && !bad {
		fail("LIMITS_TABLE", errors.New("is required when CLIENT_TOKEN_LIMIT or DAILY_TOKEN_LIMIT is set (the DynamoDB table holding the counts)"))
	}
	return s
}

// ParseRate reads "N/WINDOW" such as 5/10m: N tokens (at least 1) per
// window, a Go duration of whole seconds that divides a day evenly, so
// windows line up with the clock and the UTC day.
func ParseRate(v string) (Rate, error) {
	n, w, ok := strings.Cut(v, "/")
	if !ok {
		return Rate{}, fmt.Errorf("%q is not N/WINDOW such as 5/10m", v)
	}
	count, err := strconv.ParseInt(strings.TrimSpace(n), 10, 64)
	if err != nil || count < 1 {
		return Rate{}, fmt.Errorf("%q: %q is not a whole number of tokens of at least 1", v, n)
	}
	d, err := time.ParseDuration(strings.TrimSpace(w))
	if err != nil {
		return Rate{}, fmt.Errorf("%q: %q is not a window such as 10m, 1h or 24h", v, w)
	}
	const day = 24 * time.Hour
	if d < time.Second || d > day || d%time.Second != 0 || day%d != 0 {
		return Rate{}, fmt.Errorf("%q: the window %v must be whole seconds from 1s to 24h that divide a day evenly (1m, 5m, 10m, 15m, 1h, 24h…)", v, d)
	}
	return Rate{N: count, Window: d}, nil
}
