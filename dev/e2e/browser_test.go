package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/trulience-token/trulience-token/dev/devstack"
	"github.com/trulience-token/trulience-token/dev/proc"
	"github.com/trulience-token/trulience-token/dev/testenv"
)

// siteDir is the example static site, relative to this package.
const siteDir = "../../site"

// avatarPlaceholder answers the iframe's request to www.trulience.com: the
// test runs offline, and a labelled placeholder reads better in the screenshot than
// the browser's error page.
const avatarPlaceholder = `<!doctype html><meta charset="utf-8">` +
	`<body style="margin:0;height:100vh;display:grid;place-content:center;gap:6px;text-align:center;font:15px system-ui,sans-serif;color:#d9d7ff">` +
	`<div style="font-size:17px;font-weight:600">Your avatar appears here</div>` +
	`<div style="opacity:.7;font-size:13px">offline test: a placeholder answers for www.trulience.com</div></body>`

// TestBrowser loads the example site in headless Chromium against the whole
// local stack: the page must get a token the Trulience stand-in minted and
// build the iframe URL from it, and a page on an origin the function does not
// allow must be blocked by the browser before it sees a token.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("the browser test is not part of the quick loop (make test-short); make test runs it")
	}
	chromium := chromiumPath(t)
	st := startStack(t)
	b := startBrowser(t, chromium)

	t.Run("allowed origin gets a token and mounts the avatar", func(t *testing.T) {
		tab := b.newTab(t)
		before := len(st.minted())
		tab.open(t, st.siteURL+"/index.html?endpoint="+url.QueryEscape(st.tokenURL))

		if state := tab.waitSettled(t); state != "ready" {
			t.Fatalf("page state = %q, want ready; error on page: %q", state, tab.text(t, "error-message"))
		}
		jwt := tab.checkAvatarFrame(t, st.defaultAvatar)
		minted := st.minted()[before:]
		if len(minted) != 1 || minted[0] != jwt {
			t.Fatalf("the iframe carries a token the stand-in did not mint for this page load (minted %d since load)", len(minted))
		}
		if got, want := tab.text(t, "token-preview"), redact(jwt); got != want {
			t.Errorf("token preview = %q, want %q", got, want)
		}
		if body := tab.text(t, "app"); strings.Contains(body, jwt) {
			t.Error("the page shows the whole JWT")
		}
		if got := tab.text(t, "iframe-url"); !strings.HasPrefix(got, "https://www.trulience.com/avatar/"+st.defaultAvatar+"?token=") {
			t.Errorf("visible iframe URL = %q", got)
		}
		if got := tab.waitTrulienceRequest(t); got != avatarURL(st.defaultAvatar, jwt) {
			t.Errorf("the browser loaded %q into the iframe, want the URL with the minted token", got)
		}
		b.screenshot(t, tab, "allowed-origin.png", true)

		// Tokens are single-use: "New session" must fetch another one.
		before = len(st.minted())
		tab.click(t, "new-session")
		if state := tab.waitSettled(t); state != "ready" {
			t.Fatalf("after new session: page state = %q, want ready", state)
		}
		jwt2 := tab.checkAvatarFrame(t, st.defaultAvatar)
		if jwt2 == jwt {
			t.Error("new session reused the previous token")
		}
		if minted := st.minted()[before:]; len(minted) != 1 || minted[0] != jwt2 {
			t.Errorf("new session: minted %d tokens, iframe token minted: %v", len(minted), st.wasMinted(jwt2))
		}
	})

	t.Run("origin not allowed is blocked by the browser", func(t *testing.T) {
		// The same files on another port are another origin, not in ALLOWED_ORIGINS.
		other := httptest.NewServer(http.FileServer(http.Dir(siteDir)))
		t.Cleanup(other.Close)

		tab := b.newTab(t)
		before := len(st.minted())
		tab.open(t, other.URL+"/index.html?endpoint="+url.QueryEscape(st.tokenURL))

		if state := tab.waitSettled(t); state != "error" {
			t.Fatalf("page state = %q, want error", state)
		}
		if got := tab.text(t, "error-code"); got != "network_error" {
			t.Errorf("error code = %q, want network_error (the browser withholds the answer)", got)
		}
		if got := tab.text(t, "error-message"); !strings.Contains(got, other.URL) {
			t.Errorf("error message %q does not name the page's origin %s", got, other.URL)
		}
		if n := tab.evalInt(t, `document.querySelectorAll("iframe").length`); n != 0 {
			t.Errorf("%d iframes mounted without a token", n)
		}
		if minted := st.minted()[before:]; len(minted) != 0 {
			t.Errorf("the stand-in minted %d tokens for an origin that is not allowed", len(minted))
		}
		// The POST did reach the function (a simple request needs no
		// preflight), which refused the origin; the browser then withheld
		// the answer from the page.
		refused := fmt.Sprintf(`"origin":%q`, other.URL)
		if !waitFor(5*time.Second, func() bool {
			for line := range strings.Lines(st.log()) {
				if strings.Contains(line, refused) && strings.Contains(line, `"code":"origin_not_allowed"`) {
					return true
				}
			}
			return false
		}) {
			t.Errorf("the function did not log refusing origin %s with origin_not_allowed", other.URL)
		}
		b.screenshot(t, tab, "blocked-origin.png", false)
	})

	t.Run("API error is shown with its code", func(t *testing.T) {
		tab := b.newTab(t)
		before := len(st.minted())
		tab.open(t, st.siteURL+"/index.html?avatar=123&endpoint="+url.QueryEscape(st.tokenURL))

		if state := tab.waitSettled(t); state != "error" {
			t.Fatalf("page state = %q, want error", state)
		}
		if got := tab.text(t, "error-code"); got != "avatar_not_allowed" {
			t.Errorf("error code = %q, want avatar_not_allowed", got)
		}
		if got := tab.text(t, "error-status"); !strings.Contains(got, "403") {
			t.Errorf("error status = %q, want HTTP 403", got)
		}
		if got := tab.text(t, "error-message"); got == "" {
			t.Error("no error message on the page")
		}
		if minted := st.minted()[before:]; len(minted) != 0 {
			t.Errorf("the stand-in minted %d tokens for an avatar that is not allowed", len(minted))
		}
	})

	t.Run("no avatar named: the function's default", func(t *testing.T) {
		tab := b.newTab(t)
		tab.open(t, st.siteURL+"/index.html?avatar=&endpoint="+url.QueryEscape(st.tokenURL))
		if state := tab.waitSettled(t); state != "ready" {
			t.Fatalf("page state = %q, want ready; error on page: %q", state, tab.text(t, "error-message"))
		}
		if jwt := tab.checkAvatarFrame(t, st.defaultAvatar); !st.wasMinted(jwt) {
			t.Error("the iframe carries a token the stand-in did not mint")
		}
	})

	t.Run("URL overrides only on a page served from this machine", func(t *testing.T) {
		tab := b.newTab(t)
		tab.open(t, st.siteURL+"/index.html?endpoint="+url.QueryEscape(st.tokenURL))
		tab.waitSettled(t)
		// pageConfig as the published page runs it, on the site's own host name.
		config := func(search, hostname string) string {
			t.Helper()
			js := fmt.Sprintf(`import("/token.js").then(m => {
				const c = m.pageConfig(%q, %q);
				return [c.endpoint === m.TOKEN_ENDPOINT ? "default" : c.endpoint, c.avatarId === m.AVATAR_ID ? "default" : c.avatarId,
					c.trulience === m.TRULIENCE_URL ? "default" : c.trulience].join(" ");
			})`, search, hostname)
			v, err := chromedp.Run(tab.ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
			if err != nil {
				t.Fatalf("evaluate pageConfig: %v", err)
			}
			return v
		}
		const crafted = "?endpoint=https%3A%2F%2Fevil.example%2Ftoken&avatar=123&trulience=https%3A%2F%2Fevil.example%2Favatar"
		for _, host := range []string{"www.example.com", "example.github.io", "127.0.0.1.evil.example", "localhost.evil.example", ""} {
			if got := config(crafted, host); got != "default default default" {
				t.Errorf("on %q the crafted link gives %q, want the page's own endpoint and avatar", host, got)
			}
		}
		for _, host := range []string{"localhost", "127.0.0.1", "[::1]"} {
			if got := config(crafted, host); got != "https://evil.example/token 123 https://evil.example" {
				t.Errorf("on %q (make local) the overrides give %q, want them honoured", host, got)
			}
		}
		// The page itself, served from 127.0.0.1, took the override.
		if got := tab.text(t, "endpoint"); got != st.tokenURL {
			t.Errorf("the local page shows endpoint %q, want the override %q", got, st.tokenURL)
		}
	})

	t.Run("SDK page shows the token when the SDK cannot load", func(t *testing.T) {
		tab := b.newTab(t)
		before := len(st.minted())
		tab.open(t, st.siteURL+"/sdk.html?endpoint="+url.QueryEscape(st.tokenURL))

		if state := tab.waitSettled(t); state != "ready" {
			t.Fatalf("page state = %q, want ready; error on page: %q", state, tab.text(t, "error-message"))
		}
		if sdk := tab.eval(t, `document.getElementById("app").dataset.sdk`); sdk != "unavailable" {
			t.Errorf("data-sdk = %q, want unavailable (the SDK script is blocked)", sdk)
		}
		minted := st.minted()[before:]
		if len(minted) != 1 {
			t.Fatalf("minted %d tokens, want 1", len(minted))
		}
		if got, want := tab.text(t, "token-preview"), redact(minted[0]); got != want {
			t.Errorf("token preview = %q, want %q", got, want)
		}
		b.screenshot(t, tab, "sdk-offline.png", false)
	})
}

// stack is what the browser test needs from the local stack.
type stack struct {
	siteURL       string // where the example site is served, an allowed origin
	tokenURL      string // the front door's token endpoint
	defaultAvatar string // the avatar the function picks when the page names none
	minted        func() []string
	wasMinted     func(jwt string) bool
	log           func() string // what the front door, site and function logged so far
}

// startStack starts the whole local stack (function under the RIE, local
// Secrets Manager, Trulience stand-in, front door, site server) on free ports,
// serving this checkout's site/, and stops it when the test ends. The stack's
// log is printed when the test fails.
func startStack(t *testing.T) stack {
	t.Helper()
	dir, err := filepath.Abs(siteDir)
	if err != nil {
		t.Fatal(err)
	}
	logs := &proc.Buffer{}
	s, err := devstack.Start(context.Background(), devstack.Options{SiteDir: dir, Log: logs})
	if err != nil {
		t.Fatalf("start the local stack: %v", err)
	}
	t.Cleanup(func() {
		s.Close()
		if t.Failed() {
			t.Logf("local stack log:\n%s", logs.String())
		}
	})
	return stack{
		siteURL:       s.SiteURL,
		tokenURL:      s.TokenURL,
		defaultAvatar: s.AvatarIDs[0],
		minted: func() []string {
			var jwts []string
			for _, m := range s.StandIn.Minted() {
				jwts = append(jwts, m.JWT)
			}
			return jwts
		},
		wasMinted: s.StandIn.WasMinted,
		log:       logs.String,
	}
}

// redact is site/token.js's redact: the part of a token the page may show.
func redact(jwt string) string {
	if len(jwt) <= 20 {
		return "…"
	}
	return jwt[:10] + "…" + jwt[len(jwt)-6:]
}

// avatarURL is site/token.js's avatarURL for the IDs and tokens the stack
// uses (digits, base64url and dots need no escaping).
func avatarURL(avatarID, jwt string) string {
	return "https://www.trulience.com/avatar/" + avatarID + "?token=" + jwt
}

// chromiumPath finds Chromium, or skips the test (fails it when
// REQUIRE_INTEGRATION=1, as in CI).
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	testenv.Missing(t, "Chromium", "make tools installs Debian's chromium; or set CHROMIUM=/path/to/chrome")
	return ""
}

// browser is one headless Chromium for the whole test, with its own profile.
type browser struct {
	ctx     context.Context
	shotDir string
}

// startBrowser starts Chromium and stops it, and checks that no process of it
// is left, when the test ends.
func startBrowser(t *testing.T, path string) *browser {
	t.Helper()
	profile := t.TempDir()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(profile),
		chromedp.Headless,
		chromedp.NoSandbox, // root in a container has no user namespaces for the sandbox
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1200, 760),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
		if pids := processesUsing(profile); len(pids) > 0 {
			t.Errorf("Chromium processes left running: %v", pids)
			for _, pid := range pids {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		cancel()
		t.Fatalf("start Chromium %s: %v", path, err)
	}
	return &browser{ctx: ctx, shotDir: t.TempDir()}
}

// processesUsing lists the processes whose command line names dir, that is
// the browser and its helpers started with --user-data-dir=dir.
func processesUsing(dir string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		var pid int
		if _, err := fmt.Sscanf(e.Name(), "%d", &pid); err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.Contains(string(cmdline), dir) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// screenshot saves a full-page PNG in the test's temporary folder; with
// UPDATE_SCREENSHOT=1 the one marked readme also replaces site/screenshot.png.
func (b *browser) screenshot(t *testing.T, tab *tab, name string, readme bool) {
	t.Helper()
	png, err := chromedp.Run(tab.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	path := filepath.Join(b.shotDir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
	if readme && os.Getenv("UPDATE_SCREENSHOT") == "1" {
		if err := os.WriteFile(filepath.Join(siteDir, "screenshot.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("updated %s", filepath.Join(siteDir, "screenshot.png"))
	}
}

// tab is one browser tab whose requests to trulience.com never leave the
// machine: the avatar page gets a placeholder, anything else (the SDK
// script) fails as if offline.
type tab struct {
	ctx context.Context

	mu        sync.Mutex
	trulience []string // URLs of the documents requested from trulience.com
	console   []string
}

func (b *browser) newTab(t *testing.T) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open tab: %v", err)
	}
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancelTimeout)
	tb := &tab{ctx: ctx}

	paused := chromedp.Events(ctx, fetch.RequestPaused)
	go func() {
		for ev, err := range paused {
			if err != nil {
				return
			}
			tb.answer(ev)
		}
	}()
	console := chromedp.Console(ctx)
	go func() {
		for msg, err := range console {
			if err != nil {
				return
			}
			tb.mu.Lock()
			tb.console = append(tb.console, msg.String())
			tb.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		if t.Failed() {
			tb.mu.Lock()
			defer tb.mu.Unlock()
			for _, line := range tb.console {
				t.Logf("browser console: %s", line)
			}
		}
	})

	_, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{
		Patterns: []*fetch.RequestPattern{{URLPattern: "*://*.trulience.com/*"}, {URLPattern: "*://trulience.com/*"}},
	})
	if err != nil {
		t.Fatalf("intercept trulience.com: %v", err)
	}
	return tb
}

// answer settles one intercepted request to trulience.com.
func (tb *tab) answer(ev fetch.EventRequestPaused) {
	if ev.ResourceType == network.ResourceTypeDocument {
		tb.mu.Lock()
		tb.trulience = append(tb.trulience, ev.Request.URL)
		tb.mu.Unlock()
		_, _ = chromedp.Call(tb.ctx, fetch.FulfillRequest, fetch.FulfillRequestParams{
			RequestID:       ev.RequestID,
			ResponseCode:    200,
			ResponseHeaders: []*fetch.HeaderEntry{{Name: "Content-Type", Value: "text/html; charset=utf-8"}},
			Body:            []byte(avatarPlaceholder),
		})
		return
	}
	_, _ = chromedp.Call(tb.ctx, fetch.FailRequest, fetch.FailRequestParams{
		RequestID:   ev.RequestID,
		ErrorReason: network.ErrorReasonInternetDisconnected,
	})
}

func (tb *tab) open(t *testing.T, u string) {
	t.Helper()
	if err := chromedp.Do(tb.ctx, chromedp.Navigate(u)); err != nil {
		t.Fatalf("open %s: %v", u, err)
	}
}

// waitSettled waits for the page to leave its loading state and returns the
// state it reached.
func (tb *tab) waitSettled(t *testing.T) string {
	t.Helper()
	state, err := chromedp.Run(tb.ctx, chromedp.Poll[string](
		`(s => s !== "loading" && s)(document.getElementById("app").dataset.state)`,
		chromedp.WithPollingTimeout(30*time.Second)))
	if err != nil {
		t.Fatalf("wait for the page to settle: %v", err)
	}
	return state
}

// checkAvatarFrame checks the mounted iframe and returns the token it carries.
func (tb *tab) checkAvatarFrame(t *testing.T, avatarID string) string {
	t.Helper()
	src := tb.eval(t, `document.getElementById("avatar-frame").src`)
	u, err := url.Parse(src)
	if err != nil {
		t.Fatalf("iframe src %q: %v", src, err)
	}
	jwt := u.Query().Get("token")
	if u.Scheme != "https" || u.Host != "www.trulience.com" || u.Path != "/avatar/"+avatarID || jwt == "" {
		t.Fatalf("iframe src = %q, want https://www.trulience.com/avatar/%s?token=<jwt>", src, avatarID)
	}
	if src != avatarURL(avatarID, jwt) {
		t.Errorf("iframe src = %q, want exactly %q", src, avatarURL(avatarID, jwt))
	}
	if strings.Count(jwt, ".") != 2 {
		t.Errorf("iframe token %q is not a JWT", redact(jwt))
	}
	if allow := tb.eval(t, `document.getElementById("avatar-frame").getAttribute("allow")`); allow != "camera; microphone; autoplay" {
		t.Errorf("iframe allow = %q", allow)
	}
	return jwt
}

// waitTrulienceRequest waits for the iframe's request to trulience.com and
// returns its URL.
func (tb *tab) waitTrulienceRequest(t *testing.T) string {
	t.Helper()
	var last string
	if !waitFor(10*time.Second, func() bool {
		tb.mu.Lock()
		defer tb.mu.Unlock()
		if len(tb.trulience) > 0 {
			last = tb.trulience[len(tb.trulience)-1]
		}
		return last != ""
	}) {
		t.Fatal("the iframe never requested www.trulience.com")
	}
	return last
}

// waitFor polls cond until it holds or d has passed.
func waitFor(d time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(d); ; time.Sleep(20 * time.Millisecond) {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

func (tb *tab) click(t *testing.T, id string) {
	t.Helper()
	if err := chromedp.Do(tb.ctx, chromedp.Click(chromedp.ID(id))); err != nil {
		t.Fatalf("click #%s: %v", id, err)
	}
}

// text is the visible text of the element with this id.
func (tb *tab) text(t *testing.T, id string) string {
	t.Helper()
	return tb.eval(t, fmt.Sprintf(`(document.getElementById(%q) || {}).innerText || ""`, id))
}

func (tb *tab) eval(t *testing.T, js string) string {
	t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

func (tb *tab) evalInt(t *testing.T, js string) int {
	t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[int](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}
