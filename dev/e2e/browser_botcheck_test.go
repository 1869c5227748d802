package e2e

import (
	"context"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trulience-token/trulience-token/dev/devstack"
	"github.com/trulience-token/trulience-token/dev/proc"
	"github.com/trulience-token/trulience-token/dev/standin/turnstile"
)

// TestBrowserBotCheck drives the example site through the Turnstile widget
// with BOT_CHECK=enforce: the offline widget script hands out Cloudflare's
// dummy token, the function verifies it with the siteverify stand-in (the
// test secret key), and the page passes, recovers from one
// bot_check_failed by resetting the widget, and shows bot_check_unavailable.
func TestBrowserBotCheck(t *testing.T) {
	chromium := chromiumPath(t)
	dir, err := filepath.Abs(siteDir)
	if err != nil {
		t.Fatal(err)
	}
	logs := &proc.Buffer{}
	s, err := devstack.Start(context.Background(), devstack.Options{SiteDir: dir, Log: logs, BotCheck: "enforce"})
	if err != nil {
		t.Fatalf("start the local stack: %v", err)
	}
	t.Cleanup(func() {
		s.Close()
		if t.Failed() {
			t.Logf("local stack log:\n%s", logs.String())
		}
	})
	b := startBrowser(t, chromium)
	page := s.BotCheckPageURL("index.html") + "&endpoint=" + url.QueryEscape(s.TokenURL)
	minted := func() int { return len(s.StandIn.Minted()) }

	t.Run("pass", func(t *testing.T) {
		tab := b.newTab(t)
		before, calls := minted(), s.Turnstile.Count()
		tab.open(t, page)
		if state := tab.waitSettled(t); state != "ready" {
			t.Fatalf("page state = %q, want ready; error on page: %q", state, tab.text(t, "error-message"))
		}
		if n := tab.evalInt(t, `window.turnstile.local.renders`); n != 1 {
			t.Errorf("widget rendered %d times", n)
		}
		if hidden := tab.eval(t, `String(document.getElementById("bot-check").hidden)`); hidden != "false" {
			t.Error("the widget's container is hidden")
		}
		if got := s.Turnstile.Count() - calls; got != 1 {
			t.Fatalf("siteverify called %d times, want 1", got)
		}
		if c := s.Turnstile.Calls(); c[len(c)-1].Response != turnstile.DummyToken {
			t.Errorf("the function verified %q, want the widget's dummy token", c[len(c)-1].Response)
		}
		if minted()-before != 1 {
			t.Errorf("minted %d tokens", minted()-before)
		}
		tab.checkAvatarFrame(t, s.AvatarIDs[0])
		b.screenshot(t, tab, "bot-check-pass.png", false)

		// A new session needs a new Turnstile token: the widget is reset.
		tab.click(t, "new-session")
		if state := tab.waitSettled(t); state != "ready" {
			t.Fatalf("new session: page state = %q", state)
		}
		if n := tab.evalInt(t, `window.turnstile.local.resets`); n != 1 {
			t.Errorf("widget reset %d times for a second session, want 1", n)
		}
	})

	t.Run("the site address make local prints, opened as a new visitor would", func(t *testing.T) {
		tab := b.newTab(t) // a fresh tab: nothing typed but the address
		before := minted()
		tab.open(t, s.SiteURL+"/")
		if state := tab.waitSettled(t); state != "ready" {
			t.Fatalf("page state = %q, want ready; error on page: %q (%s)", state, tab.text(t, "error-message"), tab.text(t, "error-code"))
		}
		if hidden := tab.eval(t, `String(document.getElementById("bot-check").hidden)`); hidden != "false" {
			t.Error("the plain address shows no widget")
		}
		if minted()-before != 1 {
			t.Errorf("minted %d tokens, want 1", minted()-before)
		}
		if loc := tab.eval(t, `location.search`); !strings.Contains(loc, "sitekey=") || !strings.Contains(loc, "turnstile=local") {
			t.Errorf("the page's address %q does not show the widget's settings", loc)
		}
	})

	t.Run("fail, reset, pass", func(t *testing.T) {
		s.Turnstile.Enqueue(turnstile.RefuseTokens("timeout-or-duplicate"))
		tab := b.newTab(t)
		before, calls := minted(), s.Turnstile.Count()
		tab.open(t, page)
		if state := tab.waitSettled(t); state != "ready" {
			t.Fatalf("page state = %q, want ready after one retry; error on page: %q", state, tab.text(t, "error-code"))
		}
		if n := tab.evalInt(t, `window.turnstile.local.resets`); n != 1 {
			t.Errorf("widget reset %d times after bot_check_failed, want 1", n)
		}
		if got := s.Turnstile.Count() - calls; got != 2 {
			t.Errorf("siteverify called %d times, want 2 (refused, then the fresh token)", got)
		}
		if minted()-before != 1 {
			t.Errorf("minted %d tokens, want 1", minted()-before)
		}
	})

	t.Run("fails twice: the error is shown", func(t *testing.T) {
		s.Turnstile.Enqueue(turnstile.RefuseTokens("invalid-input-response"), turnstile.RefuseTokens("invalid-input-response"))
		t.Cleanup(func() { s.Turnstile.DropFaults() })
		tab := b.newTab(t)
		before := minted()
		tab.open(t, page)
		if state := tab.waitSettled(t); state != "error" {
			t.Fatalf("page state = %q, want error", state)
		}
		if got := tab.text(t, "error-code"); got != "bot_check_failed" {
			t.Errorf("error code %q, want bot_check_failed", got)
		}
		if minted() != before {
			t.Error("a token was minted for a refused bot check")
		}
	})

	t.Run("unavailable", func(t *testing.T) {
		s.Turnstile.SetFault(&turnstile.ServerError)
		t.Cleanup(func() { s.Turnstile.SetFault(nil) })
		tab := b.newTab(t)
		before := minted()
		tab.open(t, page)
		if state := tab.waitSettled(t); state != "error" {
			t.Fatalf("page state = %q, want error", state)
		}
		if got := tab.text(t, "error-code"); got != "bot_check_unavailable" {
			t.Errorf("error code %q, want bot_check_unavailable", got)
		}
		if got := tab.text(t, "error-status"); got != " · HTTP 503" {
			t.Errorf("error status %q", got)
		}
		if minted() != before {
			t.Error("a token was minted while the bot check was unavailable")
		}
		b.screenshot(t, tab, "bot-check-unavailable.png", false)
	})
}
