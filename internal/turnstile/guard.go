package turnstile

import (
	"context"
	"errors"
	"log/slog"

	"github.com/trulience-token/trulience-token/internal/config"
	"github.com/trulience-token/trulience-token/internal/httpapi"
	"github.com/trulience-token/trulience-token/internal/secret"
)

// Secrets supplies the Turnstile secret key; *secret.Cache satisfies it
// from the read that also gives the API key.
type Secrets interface {
	TurnstileSecret(ctx context.Context) (string, error)
}

// Verifier verifies one token; *Client satisfies it.
type Verifier interface {
	Verify(ctx context.Context, secret, token, remoteIP string) Result
}

// Guard is the bot check as an httpapi.Guard. In enforce mode it refuses
// visitors without a token Cloudflare vouches for; in monitor mode it
// verifies and logs the same way but never refuses.
type Guard struct {
	Mode    config.BotCheckMode
	Verify  Verifier
	Secrets Secrets
	Log     *slog.Logger
}

// FailedMetric is the count (metrics.BotCheckFailed) noted for a request
// whose Turnstile token did not pass.
const FailedMetric = "BotCheckFailed"

// Check runs the bot check for one visitor. The request's log line gets
// bot_check (passed, failed, missing, unavailable) and Cloudflare's error
// codes, never the token or the secret.
func (g *Guard) Check(ctx context.Context, v httpapi.Visitor) httpapi.Verdict {
	enforce := g.Mode == config.BotCheckEnforce
	attrs := []slog.Attr{slog.String("bot_check_mode", string(g.Mode))}
	verdict := func(outcome string, refuse *httpapi.Problem, more ...slog.Attr) httpapi.Verdict {
		vd := httpapi.Verdict{Log: append(append(attrs, slog.String("bot_check", outcome)), more...)}
		if enforce {
			vd.Refuse = refuse
		}
		// The BotCheckFailed metric counts every token that did not pass,
		// whether Cloudflare said no or could not be asked, in both modes;
		// an enforced "no" is counted from its error code already.
		if outcome == "unavailable" || outcome == "failed" && !enforce {
			httpapi.Note(ctx, FailedMetric)
		}
		return vd
	}

	if v.TurnstileToken == "" {
		return verdict("missing", httpapi.ProblemBotCheckRequired)
	}
	sec, err := g.Secrets.TurnstileSecret(ctx)
	if err != nil {
		cause := "secret_unreadable"
		if errors.Is(err, secret.ErrNoTurnstileSecret) {
			cause = "no_turnstile_secret"
		}
		g.couldNotRun(ctx, enforce, err.Error())
		return verdict("unavailable", httpapi.ProblemSecretUnavailable, slog.String("bot_check_cause", cause))
	}

	r := g.Verify.Verify(ctx, sec, v.TurnstileToken, v.SourceIP)
	more := []slog.Attr{slog.Int("bot_check_attempts", r.Attempts)}
	if len(r.Errors) > 0 {
		more = append(more, slog.Any("bot_check_errors", r.Errors))
	}
	switch r.Outcome {
	case Passed:
		return verdict("passed", nil, more...)
	case Failed:
		if r.Mismatch != "" {
			more = append(more, slog.String("bot_check_mismatch", r.Mismatch), slog.String("bot_check_hostname", r.Hostname))
		}
		return verdict("failed", httpapi.ProblemBotCheckFailed, more...)
	case SecretRejected:
		g.Log.LogAttrs(ctx, slog.LevelError,
			"bot check: Cloudflare refused the Turnstile secret key; store the widget's secret key with scripts/put-api-key.sh --turnstile-secret",
			slog.Any("bot_check_errors", r.Errors), slog.String("bot_check_mode", string(g.Mode)))
		return verdict("unavailable", httpapi.ProblemBotCheckUnavailable, append(more, slog.String("bot_check_cause", "secret_rejected"))...)
	default:
		return verdict("unavailable", httpapi.ProblemBotCheckUnavailable, append(more, slog.String("bot_check_cause", r.Detail))...)
	}
}

// couldNotRun logs that the check could not run because the secret could
// not give the Turnstile secret key: an error when it refuses requests, a
// warning in monitor mode, where the request is served anyway.
func (g *Guard) couldNotRun(ctx context.Context, enforce bool, cause string) {
	if enforce {
		g.Log.LogAttrs(ctx, slog.LevelError, "bot check could not run: requests are refused with secret_unavailable until the secret holds turnstile_secret",
			slog.String("cause", cause))
		return
	}
	g.Log.LogAttrs(ctx, slog.LevelWarn, "bot check could not run (monitor mode: the request is served without it)",
		slog.String("cause", cause))
}
