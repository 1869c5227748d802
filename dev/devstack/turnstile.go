package devstack

import (
	_ "embed"
	"errors"
	"net/http"
	"net/url"
	"os"

	"github.com/trulience-token/trulience-token/dev/standin/turnstile"
)

// LocalTurnstilePath is where the site server serves the offline stand-in
// for Cloudflare's Turnstile script (the example site loads it with
// ?turnstile=local).
const LocalTurnstilePath = "/dev/turnstile-local.js"

//go:embed turnstile-local.js
var localTurnstileJS []byte

// withLocalTurnstile serves the local Turnstile script beside the site.
func withLocalTurnstile(site http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != LocalTurnstilePath {
			site.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(localTurnstileJS)
	})
}

// botCheckOn reports whether opts ask for the bot check.
func botCheckOn(opts Options) bool { return opts.BotCheck != "" && opts.BotCheck != "off" }

// startTurnstile starts the siteverify stand-in and aims the function at it
// when the bot check is on. With Cloudflare's test secret key (the
// default) Cloudflare names the hostname example.com, so the function is
// told to expect it.
func (s *Stack) startTurnstile(opts Options, env map[string]string) error {
	if !botCheckOn(opts) {
		return nil
	}
	switch opts.BotCheck {
	case "monitor", "enforce":
	default:
		return errors.New("devstack: BotCheck must be off, monitor or enforce")
	}
	s.BotCheck = opts.BotCheck
	env["BOT_CHECK"] = opts.BotCheck
	if opts.Real {
		for _, k := range []string{"TURNSTILE_VERIFY_URL", "TURNSTILE_HOSTNAMES", "TURNSTILE_ACTION", "BOT_CHECK_TIMEOUT"} {
			if v, ok := os.LookupEnv(k); ok {
				env[k] = v
			}
		}
		return nil
	}
	s.TurnstileSecret = opts.TurnstileSecret
	if s.TurnstileSecret == "" {
		s.TurnstileSecret = turnstile.PassSecret
	}
	var err error
	if s.Turnstile, err = turnstile.Start("", s.TurnstileSecret); err != nil {
		return err
	}
	s.closers = append(s.closers, s.Turnstile.Close)
	env["TURNSTILE_VERIFY_URL"] = s.Turnstile.VerifyURL
	if isTestSecret(s.TurnstileSecret) {
		env["TURNSTILE_HOSTNAMES"] = turnstile.TestHostname
	}
	return nil
}

func isTestSecret(secret string) bool {
	return secret == turnstile.PassSecret || secret == turnstile.FailSecret || secret == turnstile.DuplicateSecret
}

// BotCheckPageURL is the address of a page of the example site (index.html,
// sdk.html) with the Turnstile widget on: Cloudflare's always-passing test
// site key and the offline stand-in script. Without the bot check it is
// the plain page address.
func (s *Stack) BotCheckPageURL(page string) string {
	u := s.SiteURL + "/" + page
	if s.BotCheck == "" {
		return u
	}
	q := url.Values{"sitekey": {turnstile.PassSiteKey}, "turnstile": {"local"}}
	return u + "?" + q.Encode()
}
