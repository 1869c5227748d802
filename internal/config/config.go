// Package config reads the token function's settings from its environment.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"time"
)

// DefaultAPIURL is the Trulience API base URL used when TRULIENCE_API_URL is unset.
const DefaultAPIURL = "https://trulience.com"

// Config is the function's validated configuration.
type Config struct {
	// SecretID names the Secrets Manager secret holding the Trulience API key.
	SecretID string
	// APIURL is the Trulience API base URL, without a trailing slash.
	APIURL string
	// Avatars is the avatar allowlist; Avatars.Default is used when a request names none.
	Avatars Avatars
	// Origins is the browser origin allowlist.
	Origins Origins
	// SecretTTL is how long a fetched key is reused.
	SecretTTL time.Duration
	// UpstreamTimeout bounds one call to Trulience.
	UpstreamTimeout time.Duration
	// LogLevel is the minimum level logged.
	LogLevel slog.Level
	// AvatarClaim names the JWT claim listing the avatars a signed-in
	// user may get; "" when requests are not limited by a claim.
	AvatarClaim string
	// MaxExpireAt is the longest token lifetime (seconds) a request may
	// ask for; 0 means the endpoint's own limit (see ExpireAtCap).
	MaxExpireAt int
	// BotCheck is the Turnstile bot check (BOT_CHECK and friends).
	BotCheck BotCheck
	// MaxKeyStaleness bounds how long after the last successful read the
	// cached API key is still served while Secrets Manager fails transiently.
	MaxKeyStaleness time.Duration
	// Limits are the per-visitor and daily limits (CLIENT_TOKEN_LIMIT and friends).
	Limits Limits
	// Sessions are the caps on avatar sessions (MAX_LIVE_SESSIONS and friends).
	Sessions Sessions
	// MetricsNamespace is the CloudWatch namespace of the metrics records.
	MetricsNamespace string
}

// Load builds a Config from getenv (os.Getenv in production). All problems are
// reported together, one per variable, so a misconfigured deployment is fixed in one go.
func Load(getenv func(string) string) (Config, error) {
	c := Config{SecretTTL: 5 * time.Minute, UpstreamTimeout: 3 * time.Second, LogLevel: slog.LevelInfo, MaxKeyStaleness: time.Hour}
	var errs []error
	fail := func(name string, err error) { errs = append(errs, fmt.Errorf("%s: %w", name, err)) }

	if c.SecretID = strings.TrimSpace(getenv("TRULIENCE_SECRET_ID")); c.SecretID == "" {
		fail("TRULIENCE_SECRET_ID", errors.New("is required (name or ARN of the secret holding the Trulience API key)"))
	}
	var err error
	if c.APIURL, err = parseAPIURL(getenv("TRULIENCE_API_URL")); err != nil {
		fail("TRULIENCE_API_URL", err)
	}
	if c.Avatars, err = ParseAvatars(getenv("ALLOWED_AVATAR_IDS")); err != nil {
		fail("ALLOWED_AVATAR_IDS", err)
	}
	if c.Origins, err = ParseOrigins(getenv("ALLOWED_ORIGINS")); err != nil {
		fail("ALLOWED_ORIGINS", err)
	}
	if v := getenv("SECRET_TTL"); v != "" {
		if c.SecretTTL, err = parseDuration(v, 0); err != nil {
			fail("SECRET_TTL", err)
		}
	}
	if v := getenv("UPSTREAM_TIMEOUT"); v != "" {
		if c.UpstreamTimeout, err = parseDuration(v, time.Millisecond); err != nil {
			fail("UPSTREAM_TIMEOUT", err)
		}
	}
	c.BotCheck = loadBotCheck(getenv, c.Origins, fail)
	if v := getenv("MAX_KEY_STALENESS"); v != "" {
		if c.MaxKeyStaleness, err = parseDuration(v, 0); err != nil {
			fail("MAX_KEY_STALENESS", err)
		}
	}
	if v := getenv("LOG_LEVEL"); v != "" {
		if c.LogLevel, err = parseLevel(v); err != nil {
			fail("LOG_LEVEL", err)
		}
	}
	loadSignedIn(getenv, &c, fail)
	c.Limits = loadLimits(getenv, fail)
	c.Sessions = loadSessions(getenv, fail)
	if c.MetricsNamespace, err = parseNamespace(getenv("METRICS_NAMESPACE")); err != nil {
		fail("METRICS_NAMESPACE", err)
	}
	return c, errors.Join(errs...)
}

func parseDuration(v string, min time.Duration) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil {
		return 0, fmt.Errorf("%q is not a Go duration such as 30s or 5m", v)
	}
	if d < min || d < 0 {
		return 0, fmt.Errorf("%q is too short (at least %v)", v, min)
	}
	return d, nil
}

// parseAPIURL accepts an https URL, or plain http for loopback hosts used in local runs.
func parseAPIURL(v string) (string, error) { return parseServiceURL(v, DefaultAPIURL) }

// parseServiceURL is parseAPIURL for any service: empty means def.
func parseServiceURL(v, def string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return def, nil
	}
	// Errors name the scheme and host only: a mistaken value could hold credentials.
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.ContainsAny(v, "?#") {
		return "", fmt.Errorf("is not a URL such as %s (no credentials, query or fragment)", def)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && IsLoopback(u.Hostname()):
	default:
		return "", fmt.Errorf("%s://%s must use https:// (plain http:// is allowed only for 127.0.0.1, localhost and [::1])", u.Scheme, u.Host)
	}
	// The host in lower case, once: net/http dials it as written, and
	// earlyconn's early connection is found by that address (a zone of
	// an IPv6 literal names an interface and keeps its case).
	host, zone, _ := strings.Cut(u.Host, "%")
	u.Host = strings.ToLower(host)
	if zone != "" {
		u.Host += "%" + zone
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// IsLoopback reports whether host (without port) names the local machine.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func parseLevel(v string) (slog.Level, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return slog.LevelInfo, fmt.Errorf("%q is not one of debug, info, warn, error", v)
}
