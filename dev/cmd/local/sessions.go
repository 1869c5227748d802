package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/trulience-token/trulience-token/dev/devstack"
	"github.com/trulience-token/trulience-token/dev/standin/trulience"
)

// sessionFlags are the flags of the session ledger.
type sessionFlags struct {
	on                    bool
	maxLive, dailyMinutes string
	maxDuration           time.Duration
	faults                string
}

// sessionOptions applies the session flags; any of them turns the ledger on.
func sessionOptions(opts *devstack.Options, f sessionFlags) error {
	if !f.on && f.maxLive == "" && f.dailyMinutes == "" && f.maxDuration == 0 && f.faults == "" {
		return nil
	}
	faults, err := trulience.ParseWebhookFaults(f.faults)
	if err != nil {
		return fmt.Errorf("-webhook-faults: %w", err)
	}
	if f.maxDuration < 0 {
		return fmt.Errorf("-max-session-duration %v is negative", f.maxDuration)
	}
	opts.Sessions = &devstack.Sessions{
		MaxLive: f.maxLive, DailyMinutes: f.dailyMinutes,
		MaxSessionDuration: f.maxDuration, Faults: faults,
	}
	return nil
}

// sessionLines is the banner's part on the session ledger: where the
// webhook is and what the caps are; "" without it.
func sessionLines(s *devstack.Stack, o *devstack.Sessions) string {
	if s.Webhook == nil {
		return ""
	}
	limit := "none"
	if o.MaxSessionDuration > 0 {
		limit = o.MaxSessionDuration.String() + " (max_session_duration)"
	}
	return fmt.Sprintf(`
Session ledger: the stand-in's avatar page reports sessions to the webhook function (its own RIE)
  Webhook:  %s   (POST; %s: %s, customer_id %d)
  Ledger:   moto DynamoDB table %q; the webhook's secret %q
  Caps:     MAX_LIVE_SESSIONS %s, DAILY_SESSION_MINUTES %s; the avatar's time limit: %s
`, s.WebhookURL, s.WebhookHeader, s.WebhookSecret, devstack.DemoCustomerID, s.SessionsTable, s.WebhookSecretID,
		orOff(o.MaxLive), orOff(o.DailyMinutes), limit)
}

func orOff(v string) string {
	if v == "" {
		return "off"
	}
	return v
}

// siteLine is the banner's site address, and what its pages add to their
// address in this mode (see devstack.PageParams).
func siteLine(s *devstack.Stack) string {
	q := s.PageParams()
	if len(q) == 0 {
		return s.SiteURL + "/"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(q)) {
		parts = append(parts, k+"="+q.Get(k))
	}
	return s.SiteURL + "/   (opens with ?" + strings.Join(parts, "&") + ")"
}
