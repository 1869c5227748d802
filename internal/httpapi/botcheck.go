package httpapi

import (
	"log/slog"
	"net/http"
	"unicode/utf8"
)

// MaxTurnstileToken is the longest turnstile_token accepted, in characters:
// Turnstile's own limit.
const MaxTurnstileToken = 2048

// The bot check's answers (the guard in package turnstile gives them).
var (
	// ProblemBotCheckRequired: the check is enforced and the body has no turnstile_token.
	ProblemBotCheckRequired = &Problem{Status: http.StatusForbidden, Code: "bot_check_required", Message: "This endpoint needs a Turnstile token (turnstile_token) from the page's bot check."}
	// ProblemBotCheckFailed: Cloudflare did not vouch for the token (invalid,
	// expired, already used, or for another site or action).
	ProblemBotCheckFailed = &Problem{Status: http.StatusForbidden, Code: "bot_check_failed", Message: "The bot check failed. Reset the Turnstile widget and try again with a new token."}
	// ProblemBotCheckUnavailable: Cloudflare could not be asked, or refused
	// the function's Turnstile secret.
	ProblemBotCheckUnavailable = &Problem{Status: http.StatusServiceUnavailable, Code: "bot_check_unavailable", Message: "The bot check cannot be verified right now. Try again shortly."}
	// ProblemSecretUnavailable is the answer when the secret cannot be read
	// or lacks what the function needs.
	ProblemSecretUnavailable = problemSecret
)

// parseTurnstileToken checks the body's turnstile_token: a string of at
// most MaxTurnstileToken characters.
func parseTurnstileToken(v any) (string, *Problem) {
	s, ok := v.(string)
	if !ok || utf8.RuneCountInString(s) > MaxTurnstileToken {
		return "", badTurnstileToken
	}
	return s, nil
}

var badTurnstileToken = invalid("turnstile_token must be a string of at most 2048 characters (the Turnstile widget's token)")

// botCheckSkipped adds bot_check=skipped to a log line that no bot check
// spoke on: the check is off, or a cheaper check refused the request first.
func botCheckSkipped(attrs []slog.Attr) []slog.Attr {
	for _, a := range attrs {
		if a.Key == "bot_check" {
			return attrs
		}
	}
	return append(attrs, slog.String("bot_check", "skipped"))
}
