package config

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// Sessions are the token function's caps on avatar sessions, read from
// the session ledger (package sessions). The check's timeout and fail
// mode are the limits' (LIMITS_TIMEOUT, LIMITS_FAIL_MODE).
type Sessions struct {
	// MaxLive refuses new tokens while this many sessions are live
	// (MAX_LIVE_SESSIONS); 0 is off.
	MaxLive int64
	// DailyMinutes refuses new tokens once today's session minutes reach
	// it (DAILY_SESSION_MINUTES); 0 is off.
	DailyMinutes int64
	// Table is the ledger table (SESSIONS_TABLE).
	Table string
}

// On reports whether any cap is set.
func (s Sessions) On() bool { return s.MaxLive > 0 || s.DailyMinutes > 0 }

// The largest caps accepted, as template.yaml's MaxLiveSessions and
// DailySessionMinutes patterns allow (6 and 8 digits). The guard compares
// DAILY_SESSION_MINUTES×60 seconds, which a larger value could overflow.
const (
	MaxLiveSessionsMost     = 999_999
	DailySessionMinutesMost = 99_999_999
)

// loadSessions reads MAX_LIVE_SESSIONS, DAILY_SESSION_MINUTES and
// SESSIONS_TABLE, reporting each problem to fail.
func loadSessions(getenv func(string) string, fail func(name string, err error)) Sessions {
	var s Sessions
	bad := false
	whole := func(name, what string, most int64) int64 {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return 0
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 || n > most {
			bad = true
			fail(name, fmt.Errorf("%q is not a whole number of %s from 1 to %d (empty: off)", v, what, most))
			return 0
		}
		return n
	}
	s.MaxLive = whole("MAX_LIVE_SESSIONS", "sessions", MaxLiveSessionsMost)
	s.DailyMinutes = whole("DAILY_SESSION_MINUTES", "minutes", DailySessionMinutesMost)
	s.Table = strings.TrimSpace(getenv("SESSIONS_TABLE"))
	if s.On() && s.Table == "" && !bad {
		fail("SESSIONS_TABLE", errors.New("is required when MAX_LIVE_SESSIONS or DAILY_SESSION_MINUTES is set (the session ledger table)"))
	}
	return s
}

// DefaultWebhookHeaderName is the header carrying the webhook's secret
// when WEBHOOK_HEADER_NAME is unset.
const DefaultWebhookHeaderName = "X-Webhook-Secret"

// DefaultSessionMax is how long a session without a disconnect (and
// without max_session_duration) counts as live when SESSION_MAX_MINUTES
// is unset.
const DefaultSessionMax = 60 * time.Minute

// Webhook is the webhook function's validated configuration.
type Webhook struct {
	// Table is the ledger table (SESSIONS_TABLE).
	Table string
	// SecretID names the secret holding the header's value (WEBHOOK_SECRET_ID).
	SecretID string
	// HeaderName is the header carrying it (WEBHOOK_HEADER_NAME), compared
	// without regard to case.
	HeaderName string
	// CustomerID, when set, is the only customer_id accepted
	// (TRULIENCE_CUSTOMER_ID).
	CustomerID string
	// SessionMax is how long a session without a disconnect counts as live
	// when its connect named no max_session_duration (SESSION_MAX_MINUTES).
	SessionMax time.Duration
	// LogLevel is the minimum level logged.
	LogLevel slog.Level
	// MetricsNamespace is the CloudWatch namespace of the metrics records.
	// When METRICS_NAMESPACE is invalid it is still the default, so the
	// misconfigured handler's records are valid and count its 500s.
	MetricsNamespace string
}

// LoadWebhook builds the webhook function's configuration from getenv,
// reporting every problem at once, one per variable.
func LoadWebhook(getenv func(string) string) (Webhook, error) {
	w := Webhook{HeaderName: DefaultWebhookHeaderName, SessionMax: DefaultSessionMax, LogLevel: slog.LevelInfo}
	var errs []error
	fail := func(name string, err error) { errs = append(errs, fmt.Errorf("%s: %w", name, err)) }
	if w.Table = strings.TrimSpace(getenv("SESSIONS_TABLE")); w.Table == "" {
		fail("SESSIONS_TABLE", errors.New("is required (the session ledger table)"))
	}
	if w.SecretID = strings.TrimSpace(getenv("WEBHOOK_SECRET_ID")); w.SecretID == "" {
		fail("WEBHOOK_SECRET_ID", errors.New("is required (name or ARN of the secret holding the webhook header's value)"))
	}
	if v := strings.TrimSpace(getenv("WEBHOOK_HEADER_NAME")); v != "" {
		if !headerName(v) {
			fail("WEBHOOK_HEADER_NAME", fmt.Errorf("%q is not an HTTP header name (letters, digits and - only, up to 64)", v))
		} else {
			w.HeaderName = v
		}
	}
	if v := strings.TrimSpace(getenv("TRULIENCE_CUSTOMER_ID")); v != "" {
		if !ValidAvatarID(v) { // the same shape: 1 to 32 digits
			fail("TRULIENCE_CUSTOMER_ID", fmt.Errorf("%q is not a Trulience customer ID (digits; empty: any)", v))
		} else {
			// The webhook compares it with customer_id's digits as sent,
			// a JSON integer, which has no leading zeros: 0042 is 42.
			w.CustomerID = strings.TrimLeft(v, "0")
			if w.CustomerID == "" {
				w.CustomerID = "0"
			}
		}
	}
	if v := strings.TrimSpace(getenv("SESSION_MAX_MINUTES")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1440 {
			fail("SESSION_MAX_MINUTES", fmt.Errorf("%q is not a whole number of minutes from 1 to 1440", v))
		} else {
			w.SessionMax = time.Duration(n) * time.Minute
		}
	}
	var err error
	if v := getenv("LOG_LEVEL"); v != "" {
		if w.LogLevel, err = parseLevel(v); err != nil {
			fail("LOG_LEVEL", err)
		}
	}
	if ns, err := parseNamespace(getenv("METRICS_NAMESPACE")); err != nil {
		fail("METRICS_NAMESPACE", err)
		w.MetricsNamespace = DefaultMetricsNamespace
	} else {
		w.MetricsNamespace = ns
	}
	return w, errors.Join(errs...)
}

// headerName reports whether s is a plain HTTP header name: letters,
// digits and '-', which API Gateway passes on unchanged (lower-cased).
func headerName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
