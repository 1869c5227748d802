// Package endpoints names the services the function calls by default, and
// which of them a cold start connects to early. It imports nothing, so any
// package can use it, including those that must be initialized first
// (internal/trulience/earlyconn/tcpstart).
package endpoints

// Trulience is the Trulience API base URL used when TRULIENCE_API_URL is unset.
const Trulience = "https://trulience.com"

// TurnstileVerify is Cloudflare's siteverify endpoint, used when
// TURNSTILE_VERIFY_URL is unset.
const TurnstileVerify = "https://challenges.cloudflare.com/turnstile/v0/siteverify"

// Early are the URLs a cold start opens connections to before it needs
// them, read from the function's environment through getenv: Trulience's
// API, and Cloudflare's siteverify when the bot check is on (BOT_CHECK
// monitor or enforce, in any case, spaces around ignored). A URL that is
// set but not https is returned as it is; the caller skips what it cannot
// use.
func Early(getenv func(string) (string, bool)) []string {
	urls := []string{orDefault(getenv, "TRULIENCE_API_URL", Trulience)}
	if mode, _ := getenv("BOT_CHECK"); botCheckOn(mode) {
		if u := orDefault(getenv, "TURNSTILE_VERIFY_URL", TurnstileVerify); u != urls[0] {
			urls = append(urls, u)
		}
	}
	return urls
}

// orDefault is the variable name, trimmed as package config trims it, or
// def when that is empty.
func orDefault(getenv func(string) (string, bool), name, def string) string {
	if v, _ := getenv(name); trim(v) != "" {
		return trim(v)
	}
	return def
}

// trim drops the spaces, tabs and line ends around s (without package strings).
func trim(s string) string {
	space := func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' }
	for len(s) > 0 && space(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && space(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

// botCheckOn reports whether mode is monitor or enforce, as package config
// reads BOT_CHECK (trimmed, case-insensitive), without package strings.
func botCheckOn(mode string) bool {
	mode = trim(mode)
	b := []byte(mode)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b) == "monitor" || string(b) == "enforce"
}
