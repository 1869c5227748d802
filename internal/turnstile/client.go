// Package turnstile verifies Cloudflare Turnstile tokens (the bot check):
// a siteverify client over a kept-alive connection, and the guard that
// turns its outcome into the endpoint's answer.
package turnstile

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/trulience-token/trulience-token/internal/config"
	"github.com/trulience-token/trulience-token/internal/httpclient"
)

// maxBody bounds how much of siteverify's answer is read.
const maxBody = 16 << 10

// Outcome is what a verification concluded.
type Outcome int

const (
	// Passed: Cloudflare vouched for the token, for an expected hostname
	// and action.
	Passed Outcome = iota + 1
	// Failed: Cloudflare did not vouch for the token (invalid, expired,
	// already used), or vouched for another hostname or action.
	Failed
	// Unavailable: Cloudflare could not be asked (unreachable, timed out,
	// 5xx, internal-error, an answer that is not siteverify's).
	Unavailable
	// SecretRejected: Cloudflare refused the secret key
	// (invalid-input-secret, missing-input-secret): the operator must fix it.
	SecretRejected
)

// String is the outcome as logged in bot_check.
func (o Outcome) String() string {
	switch o {
	case Passed:
		return "passed"
	case Failed:
		return "failed"
	case Unavailable, SecretRejected:
		return "unavailable"
	}
	return "unknown"
}

// Result is a verification's outcome and what the log line says about it.
// It never holds the token or the secret.
type Result struct {
	Outcome Outcome
	// Errors are Cloudflare's error-codes.
	Errors []string
	// Mismatch is "hostname" or "action" when Cloudflare vouched for the
	// token but for another site or action.
	Mismatch string
	// Hostname is the hostname Cloudflare named ("" when it named none).
	Hostname string
	// Detail says why Cloudflare could not be asked (Unavailable).
	Detail string
	// Attempts is how many calls were made (1 or 2).
	Attempts int
}

// Client calls siteverify.
type Client struct {
	http      *http.Client
	url       string
	timeout   time.Duration
	hostnames []string
	action    string
	// newKey makes the idempotency key of a verification; tests replace it.
	newKey func() string
}

// NewClient returns a client for the configured siteverify URL, hostnames,
// action and per-attempt timeout, that sends its calls with hc
// (httpclient.New; nil: one of its own).
func NewClient(cfg config.BotCheck, hc *http.Client) *Client {
	if hc == nil {
		hc = httpclient.New(nil)
	}
	return &Client{
		http:      hc,
		url:       cfg.VerifyURL,
		timeout:   cfg.Timeout,
		hostnames: cfg.Hostnames,
		action:    cfg.Action,
		newKey:    NewUUID,
	}
}

// answer is siteverify's answer.
type answer struct {
	Success    *bool    `json:"success"`
	ErrorCodes []string `json:"error-codes"`
	Hostname   string   `json:"hostname"`
	Action     string   `json:"action"`
}

// attempt is one call's result: the answer, or why there is none and
// whether trying again may help.
type attempt struct {
	ans       answer
	detail    string
	retryable bool
	failed    bool
}

// Verify asks Cloudflare about token (with the visitor's IP, when known)
// and decides. A call that fails for a reason worth retrying (unreachable,
// timeout, 5xx, internal-error) is made once more with the same
// idempotency key, so a token Cloudflare already saw gets the first answer
// again rather than timeout-or-duplicate.
func (c *Client) Verify(ctx context.Context, secret, token, remoteIP string) Result {
	form := url.Values{"secret": {secret}, "response": {token}, "idempotency_key": {c.newKey()}}
	if remoteIP != "" {
		form.Set("remoteip", remoteIP)
	}
	body := form.Encode()
	var a attempt
	var r Result
	for r.Attempts < 2 {
		r.Attempts++
		a = c.call(ctx, body)
		if !a.failed || !a.retryable || ctx.Err() != nil {
			break
		}
	}
	if a.failed {
		r.Outcome, r.Detail, r.Errors = Unavailable, a.detail, a.ans.ErrorCodes
		if r.Attempts > 1 {
			r.Detail += " (after one retry)"
		}
		return r
	}
	return c.decide(a.ans, r)
}

// decide turns siteverify's answer into an outcome.
func (c *Client) decide(ans answer, r Result) Result {
	r.Errors, r.Hostname = ans.ErrorCodes, ans.Hostname
	if *ans.Success {
		switch {
		case !slices.Contains(c.hostnames, strings.ToLower(ans.Hostname)):
			r.Outcome, r.Mismatch = Failed, "hostname"
		case c.action != "" && ans.Action != c.action:
			r.Outcome, r.Mismatch = Failed, "action"
		default:
			r.Outcome = Passed
		}
		return r
	}
	switch {
	case has(ans.ErrorCodes, "invalid-input-secret", "missing-input-secret"):
		r.Outcome = SecretRejected
	case has(ans.ErrorCodes, "internal-error"):
		r.Outcome, r.Detail = Unavailable, "siteverify answered internal-error (after one retry)"
	case has(ans.ErrorCodes, "bad-request"):
		r.Outcome, r.Detail = Unavailable, "siteverify answered bad-request to the function's request"
	default:
		r.Outcome = Failed
	}
	return r
}

// call makes one call to siteverify, limited to the per-attempt timeout.
func (c *Client) call(ctx context.Context, body string) attempt {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, strings.NewReader(body))
	if err != nil {
		return attempt{failed: true, detail: "building the request failed"}
	}
	req.Header["Content-Type"] = []string{"application/x-www-form-urlencoded"}
	req.Header["Accept"] = []string{"application/json"}
	req.Header["User-Agent"] = []string{httpclient.UserAgent}
	resp, err := c.http.Do(req)
	if err != nil {
		return attempt{failed: true, retryable: true, detail: transportDetail(ctx, err)}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return attempt{failed: true, retryable: true, detail: "reading siteverify's answer: " + transportDetail(ctx, err)}
	}
	switch {
	case resp.StatusCode >= 500:
		return attempt{failed: true, retryable: true, detail: fmt.Sprintf("siteverify answered HTTP %d", resp.StatusCode)}
	case resp.StatusCode != http.StatusOK:
		return attempt{failed: true, detail: fmt.Sprintf("siteverify answered HTTP %d", resp.StatusCode)}
	case len(raw) > maxBody:
		return attempt{failed: true, detail: "siteverify's answer is larger than 16 KiB"}
	}
	var ans answer
	if err := json.Unmarshal(raw, &ans); err != nil || ans.Success == nil {
		return attempt{failed: true, detail: fmt.Sprintf("siteverify's answer is not a verification result (%d bytes)", len(raw))}
	}
	if !*ans.Success && has(ans.ErrorCodes, "internal-error") {
		return attempt{ans: ans, failed: true, retryable: true, detail: "siteverify answered internal-error"}
	}
	return attempt{ans: ans}
}

// transportDetail names a failed call's cause without the request.
func transportDetail(ctx context.Context, err error) string {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil || (errors.As(err, &ne) && ne.Timeout()) {
		return "siteverify did not answer in time"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return "siteverify unreachable: " + err.Error()
}

func has(codes []string, want ...string) bool {
	for _, c := range codes {
		if slices.Contains(want, c) {
			return true
		}
	}
	return false
}

// NewUUID returns a random (version 4) UUID, the form Cloudflare expects
// for idempotency_key.
func NewUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
