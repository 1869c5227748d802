package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"
)

// DefaultTurnstileVerifyURL is Cloudflare's siteverify endpoint, used when
// TURNSTILE_VERIFY_URL is unset.
const DefaultTurnstileVerifyURL = "https://challenges.cloudflare.com/turnstile/v0/siteverify"

// BotCheckMode is BOT_CHECK: whether the Turnstile bot check runs, and
// whether it refuses.
type BotCheckMode string

const (
	// BotCheckOff skips the check (the default); a turnstile_token is
	// accepted and ignored.
	BotCheckOff BotCheckMode = "off"
	// BotCheckMonitor verifies and logs the outcome but never refuses.
	BotCheckMonitor BotCheckMode = "monitor"
	// BotCheckEnforce refuses requests without a valid Turnstile token.
	BotCheckEnforce BotCheckMode = "enforce"
)

// BotCheck is the Turnstile bot check's configuration.
type BotCheck struct {
	// Mode is off, monitor or enforce.
	Mode BotCheckMode
	// VerifyURL is the siteverify endpoint.
	VerifyURL string
	// Hostnames are the hostnames a verified token must name: those of
	// TURNSTILE_HOSTNAMES when set, else the hosts (without port) of the
	// allowed origins.
	Hostnames []string
	// Action, when set, is the widget action a verified token must carry.
	Action string
	// Timeout bounds one call to siteverify (there is at most one retry).
	Timeout time.Duration
}

// On reports whether the check runs (monitor or enforce).
func (b BotCheck) On() bool { return b.Mode == BotCheckMonitor || b.Mode == BotCheckEnforce }

// loadBotCheck reads BOT_CHECK, TURNSTILE_VERIFY_URL, TURNSTILE_HOSTNAMES,
// TURNSTILE_ACTION and BOT_CHECK_TIMEOUT, reporting problems through fail.
func loadBotCheck(getenv func(string) string, origins Origins, fail func(string, error)) BotCheck {
	b := BotCheck{Mode: BotCheckOff, VerifyURL: DefaultTurnstileVerifyURL, Timeout: 2 * time.Second}
	switch m := BotCheckMode(strings.ToLower(strings.TrimSpace(getenv("BOT_CHECK")))); m {
	case "":
	case BotCheckOff, BotCheckMonitor, BotCheckEnforce:
		b.Mode = m
	default:
		fail("BOT_CHECK", fmt.Errorf("%q is not one of off, monitor, enforce", getenv("BOT_CHECK")))
	}
	var err error
	if b.VerifyURL, err = parseServiceURL(getenv("TURNSTILE_VERIFY_URL"), DefaultTurnstileVerifyURL); err != nil {
		fail("TURNSTILE_VERIFY_URL", err)
	}
	if v := getenv("BOT_CHECK_TIMEOUT"); v != "" {
		if b.Timeout, err = parseDuration(v, time.Millisecond); err != nil {
			fail("BOT_CHECK_TIMEOUT", err)
		}
	}
	if b.Action, err = parseTurnstileAction(getenv("TURNSTILE_ACTION")); err != nil {
		fail("TURNSTILE_ACTION", err)
	}
	hosts, err := ParseHostnames(getenv("TURNSTILE_HOSTNAMES"))
	if err != nil {
		fail("TURNSTILE_HOSTNAMES", err)
		return b
	}
	if len(hosts) == 0 && b.On() {
		hosts = originHosts(origins)
		if b.On() && (origins.Any || len(hosts) == 0) {
			fail("TURNSTILE_HOSTNAMES", errors.New("is required when BOT_CHECK is on and ALLOWED_ORIGINS is * or empty: list the hostnames your Turnstile widget runs on"))
		}
	}
	b.Hostnames = hosts
	return b
}

// ParseHostnames parses TURNSTILE_HOSTNAMES: comma-separated DNS names such
// as www.example.com (no scheme, port or wildcard). Empty means none.
func ParseHostnames(v string) ([]string, error) {
	var out []string
	for item := range strings.SplitSeq(v, ",") {
		h := strings.ToLower(strings.TrimSpace(item))
		if h == "" {
			continue
		}
		if !validHostname(h) {
			return nil, fmt.Errorf("%q is not a hostname such as www.example.com (no scheme, port, path or wildcard)", strings.TrimSpace(item))
		}
		if !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	return out, nil
}

// parseTurnstileAction accepts what Cloudflare allows as a widget action:
// up to 32 letters, digits, '_' and '-'.
func parseTurnstileAction(v string) (string, error) {
	v = strings.TrimSpace(v)
	if len(v) > 32 {
		return "", errors.New("is longer than 32 characters (Turnstile's limit for an action)")
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return "", fmt.Errorf("%q may hold only letters, digits, '_' and '-'", v)
		}
	}
	return v, nil
}

// originHosts is the hosts of the allowed origins, without scheme or port.
func originHosts(o Origins) []string {
	var out []string
	for _, origin := range o.List {
		u, err := url.Parse(origin)
		if err != nil {
			continue
		}
		h := u.Hostname()
		if ip := net.ParseIP(h); ip != nil && ip.To4() == nil {
			h = ip.String()
		}
		if !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	return out
}
