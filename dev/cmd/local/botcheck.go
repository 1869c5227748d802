package main

import (
	"fmt"

	"github.com/trulience-token/trulience-token/dev/devstack"
)

// botCheckLines is the banner's bot check lines: the mode and where the
// siteverify stand-in runs.
func botCheckLines(s *devstack.Stack) string {
	if s.BotCheck == "" {
		return "  Bot check: off (-bot-check monitor|enforce turns on Turnstile)\n"
	}
	if s.Turnstile == nil {
		return fmt.Sprintf("  Bot check: %s (BOT_CHECK), Cloudflare's real siteverify\n", s.BotCheck)
	}
	return fmt.Sprintf(`  Bot check: %s (BOT_CHECK), Turnstile siteverify stand-in at %s
             (Cloudflare's test secret key; requests need "turnstile_token":"XXXX.DUMMY.TOKEN.XXXX";
             the site shows the widget with Cloudflare's test site key, offline)
`, s.BotCheck, s.Turnstile.VerifyURL)
}

// tryBody is the banner's sample request body.
func tryBody(s *devstack.Stack) string {
	if s.Turnstile != nil {
		return `{"turnstile_token":"XXXX.DUMMY.TOKEN.XXXX"}`
	}
	return "{}"
}
