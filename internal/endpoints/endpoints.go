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
		urls = append(urls, orDefault(getenv, "TURNSTILE_VERIFY_URL", TurnstileVerify))
	}
	return urls
}

func orDefault(getenv func(string) (string, bool), name, def string) string {
	if v, _ := getenv(name); v != "" {
		return v
	}
	return def
}

// botCheckOn reports whether mode is monitor or enforce, as package config
// reads BOT_CHECK (trimmed, case-insensitive), without package strings.
func botCheckOn(mode string) bool {
	for len(mode) > 0 && (mode[0] == ' ' || mode[0] == '\t') {
		mode = mode[1:]
	}
	for len(mode) > 0 && (mode[len(mode)-1] == ' ' || mode[len(mode)-1] == '\t') {
		mode = mode[:len(mode)-1]
	}
	b := []byte(mode)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b) == "monitor" || string(b) == "enforce"
}
