package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trulience-token/trulience-token/dev/devstack"
	"github.com/trulience-token/trulience-token/dev/emf"
	"github.com/trulience-token/trulience-token/dev/moto"
	"github.com/trulience-token/trulience-token/dev/proc"
)

// limitStacks starts n stacks (n function processes under their own RIE)
// sharing one moto_server and one limits table.
func limitStacks(t *testing.T, n int, l devstack.Limits, env map[string]string) []*harness {
	t.Helper()
	devstack.NeedTools(t, true)
	mt := moto.ForTest(t)
	l.Table = "e2e-" + strconv.FormatInt(time.Now().UnixNano(), 36) + "-limits"
	hs := make([]*harness, n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []string
	for i := range hs {
		wg.Go(func() {
			limits := l
			s, err := devstack.Start(context.Background(), devstack.Options{
				Moto: mt, SecretID: fmt.Sprintf("e2e/limits/%d", i), Limits: &limits, Env: env,
				Log: &proc.Buffer{}, Verbose: true,
			})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err.Error())
				return
			}
			hs[i] = &harness{Stack: s}
		})
	}
	wg.Wait()
	t.Cleanup(func() {
		for _, h := range hs {
			if h != nil {
				if t.Failed() {
					t.Logf("function log:\n%s", h.Function.Logs())
				}
				h.Close()
			}
		}
	})
	if len(errs) > 0 {
		t.Fatalf("starting the stacks: %s", strings.Join(errs, "; "))
	}
	return hs
}

// burst sends perStack token requests to each stack, all at once, and
// returns the replies.
func burst(t *testing.T, hs []*harness, perStack int) []reply {
	t.Helper()
	var mu sync.Mutex
	var out []reply
	var wg sync.WaitGroup
	for _, h := range hs {
		for range perStack {
			wg.Go(func() {
				r := h.do(t, http.MethodPost, h.SiteURL, `{}`)
				mu.Lock()
				out = append(out, r)
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	return out
}

// sameWindow runs fn until it starts and ends in the same window of
// length d (at most twice: a run that straddles a window's end would see
// the counts of two windows).
func sameWindow(t *testing.T, d time.Duration, fn func() bool) {
	t.Helper()
	for range 2 {
		start := time.Now().UTC().Truncate(d)
		if fn() && time.Now().UTC().Truncate(d).Equal(start) {
			return
		}
		t.Logf("the run straddled the end of a %v window; running it again", d)
	}
	t.Fatal("two runs straddled a window's end")
}

// checkLimited checks replies: exactly want tokens, and 429
// limit_exceeded with a Retry-After of at most window for the rest.
func checkLimited(t *testing.T, rs []reply, want int, window time.Duration) {
	t.Helper()
	tokens := 0
	for _, r := range rs {
		switch {
		case r.status == http.StatusOK:
			tokens++
		case r.status == http.StatusTooManyRequests && r.code() == "limit_exceeded":
			ra, err := strconv.Atoi(r.header.Get("Retry-After"))
			if err != nil || ra < 1 || time.Duration(ra)*time.Second > window {
				t.Errorf("Retry-After %q, want 1 to %v seconds", r.header.Get("Retry-After"), window.Seconds())
			}
		default:
			t.Errorf("unexpected answer %d %s", r.status, r.body)
		}
	}
	if tokens != want {
		t.Errorf("%d tokens issued, want exactly %d", tokens, want)
	}
}

// minted is how many tokens the stacks' Trulience stand-ins issued.
func minted(hs []*harness) int {
	n := 0
	for _, h := range hs {
		n += len(h.StandIn.Minted())
	}
	return n
}

// checkRecords validates every EMF record the stacks' functions wrote and
// returns them.
func checkRecords(t *testing.T, hs []*harness, forbidden ...string) []emf.Record {
	t.Helper()
	var all []emf.Record
	for _, h := range hs {
		recs, err := emf.Records(h.Function.Logs(), append(forbidden, h.APIKey)...)
		if err != nil {
			t.Error(err)
		}
		all = append(all, recs...)
	}
	return all
}

// TestClientLimitUnderConcurrency: 15 requests at once from one visitor
// (the front door's 127.0.0.1), spread over three function processes, get
// exactly 5 tokens.
func TestClientLimitUnderConcurrency(t *testing.T) {
	hs := limitStacks(t, 3, devstack.Limits{Client: "5/24h"}, nil)
	sameWindow(t, 24*time.Hour, func() bool {
		rs := burst(t, hs, 5)
		checkLimited(t, rs, 5, 24*time.Hour)
		return true
	})
	if n := minted(hs); n != 5 {
		t.Errorf("Trulience was called for %d tokens, want 5", n)
	}
	calls := 0
	for _, h := range hs {
		calls += h.DynamoDB.Calls("UpdateItem")
	}
	if calls != 15 {
		t.Errorf("%d UpdateItem calls, want one per request (15)", calls)
	}
	recs := checkRecords(t, hs, jwtsOf(hs)...)
	if emf.Sum(recs, "TokensIssued") != 5 || emf.Sum(recs, "LimitExceeded") != 10 {
		t.Errorf("records count %v tokens and %v over the limit, want 5 and 10", emf.Sum(recs, "TokensIssued"), emf.Sum(recs, "LimitExceeded"))
	}
}

// TestDailyLimitAcrossTwoProcesses: two function processes share the day's count.
func TestDailyLimitAcrossTwoProcesses(t *testing.T) {
	hs := limitStacks(t, 2, devstack.Limits{Daily: "3"}, nil)
	sameWindow(t, 24*time.Hour, func() bool {
		checkLimited(t, burst(t, hs, 4), 3, 24*time.Hour)
		return true
	})
	if n := minted(hs); n != 3 {
		t.Errorf("Trulience was called for %d tokens, want 3", n)
	}
	items, err := hs[0].LimitItems(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || !strings.HasPrefix(items[0].Key, "d#") || items[0].Count != 3 {
		t.Errorf("items %+v, want one day counter at 3", items)
	}
	checkRecords(t, hs, jwtsOf(hs)...)
}

func jwtsOf(hs []*harness) []string {
	var out []string
	for _, h := range hs {
		for _, tok := range h.StandIn.Minted() {
			out = append(out, tok.JWT)
		}
	}
	return out
}

// TestLimitsFailModes: DynamoDB refusing connections or answering after
// LIMITS_TIMEOUT; open serves, closed answers 503 limits_unavailable
// without calling Trulience; both count LimitsUnavailable once.
func TestLimitsFailModes(t *testing.T) {
	for _, mode := range []string{"open", "closed"} {
		for _, fault := range []string{"refused", "slow"} {
			t.Run(mode+"/"+fault, func(t *testing.T) {
				hs := limitStacks(t, 1, devstack.Limits{Client: "5/10m", Daily: "100"}, map[string]string{"LIMITS_FAIL_MODE": mode, "LIMITS_TIMEOUT": "300ms"})
				h := hs[0]
				if fault == "refused" {
					h.DynamoDB.Refuse()
				} else {
					h.DynamoDB.SetFault("UpdateItem", &devstack.Fault{Delay: 3 * time.Second})
				}
				r := h.do(t, http.MethodPost, h.SiteURL, `{}`)
				if mode == "open" {
					if r.status != http.StatusOK {
						t.Fatalf("open: %d %s, want a token", r.status, r.body)
					}
				} else {
					if r.status != http.StatusServiceUnavailable || r.code() != "limits_unavailable" {
						t.Fatalf("closed: %d %s, want 503 limits_unavailable", r.status, r.body)
					}
					if n := minted(hs); n != 0 {
						t.Errorf("Trulience was called (%d tokens)", n)
					}
				}
				logs := h.Function.Logs()
				if !strings.Contains(logs, `"limits":"unavailable"`) {
					t.Errorf("the request's log line does not say the limits were unavailable")
				}
				if fault == "slow" && !strings.Contains(logs, "no answer within LIMITS_TIMEOUT") {
					t.Errorf("the log does not name the timeout")
				}
				recs := checkRecords(t, hs, jwtsOf(hs)...)
				if got := emf.Sum(recs, "LimitsUnavailable"); got != 1 {
					t.Errorf("LimitsUnavailable %v, want 1", got)
				}
			})
		}
	}
}

// httpAPIEvent is an HTTP API token request from sourceIP, with the JWT
// authorizer's claims when claims is not nil.
func httpAPIEvent(sourceIP string, claims map[string]string) []byte {
	rc := map[string]any{
		"domainName": "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com", "requestId": "r-1",
		"http": map[string]string{"method": "POST", "path": "/token", "sourceIp": sourceIP},
	}
	if claims != nil {
		rc["authorizer"] = map[string]any{"jwt": map[string]any{"claims": claims}}
	}
	b, _ := json.Marshal(map[string]any{
		"version": "2.0", "routeKey": "POST /token", "rawPath": "/token",
		"headers": map[string]string{"content-type": "application/json"}, "body": "{}", "requestContext": rc,
	})
	return b
}

// TestLimitsStoreNoRawIdentity: the table holds keyed hashes, never the
// address or the user's sub, and every item expires.
func TestLimitsStoreNoRawIdentity(t *testing.T) {
	hs := limitStacks(t, 1, devstack.Limits{Client: "5/10m", Daily: "100"}, nil)
	h := hs[0]
	const ip, sub = "198.51.100.23", "auth0|6543210fedcba"
	for _, claims := range []map[string]string{nil, {"sub": sub}} {
		out, err := h.Function.Invoke(context.Background(), httpAPIEvent(ip, claims))
		if err != nil || !strings.Contains(string(out), `"statusCode":200`) {
			t.Fatalf("invoke: %v %s", err, out)
		}
	}
	items, err := h.LimitItems(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	visitors := 0
	now := time.Now().Unix()
	for _, it := range items {
		if strings.HasPrefix(it.Key, "v#") {
			visitors++
		}
		if it.ExpiresAt <= now || it.ExpiresAt > now+24*3600+60 {
			t.Errorf("item %q expires at %d (now %d)", it.Key, it.ExpiresAt, now)
		}
		for k, v := range it.Attributes {
			for _, raw := range []string{ip, sub, "6543210fedcba"} {
				if strings.Contains(k, raw) || strings.Contains(v, raw) {
					t.Errorf("item %q stores %q raw", it.Key, raw)
				}
			}
		}
	}
	if visitors != 2 {
		t.Errorf("%d visitor counters, want 2 (the address and the user): %+v", visitors, items)
	}
	checkRecords(t, hs, append(jwtsOf(hs), ip, sub)...)
}

// TestVisitorAddresses: events from IPv6 sources count per /64 (a host
// cannot get a new window from each address of its block), and an
// IPv4-mapped IPv6 source counts as its IPv4 address.
func TestVisitorAddresses(t *testing.T) {
	hs := limitStacks(t, 1, devstack.Limits{Client: "2/24h"}, nil)
	h := hs[0]
	sameWindow(t, 24*time.Hour, func() bool {
		for _, step := range []struct {
			ip     string
			status int
		}{
			{"2001:db8:77:1::1", 200},
			{"2001:db8:77:1:dead:beef:0:2", 200},
			{"2001:db8:77:1:ffff:ffff:ffff:ffff", 429}, // the same /64
			{"2001:db8:77:2::1", 200},                  // the next /64
			{"::ffff:198.51.100.77", 200},
			{"198.51.100.77", 200},
			{"::ffff:198.51.100.77", 429}, // the same IPv4 visitor
			{"198.51.100.78", 200},
		} {
			out, err := h.Function.Invoke(context.Background(), httpAPIEvent(step.ip, nil))
			if err != nil {
				t.Fatalf("%s: %v", step.ip, err)
			}
			var ans struct {
				StatusCode int `json:"statusCode"`
			}
			if err := json.Unmarshal(out, &ans); err != nil || ans.StatusCode != step.status {
				t.Errorf("%s: status %d, want %d", step.ip, ans.StatusCode, step.status)
			}
		}
		return true
	})
	items, err := h.LimitItems(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 4 {
		t.Errorf("%d visitor counters, want 4 (two /64s, two IPv4 addresses): %+v", len(items), items)
	}
}
