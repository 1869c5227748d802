package hardening

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trulience-token/trulience-token/dev/devstack"
	"github.com/trulience-token/trulience-token/dev/standin/trulience"
)

// smCase is one way reading the key from Secrets Manager can fail.
type smCase struct {
	name   string
	fault  *devstack.Fault
	refuse bool // the endpoint is unreachable (connection refused)
}

func smCases() []smCase {
	return []smCase{
		{name: "throttled", fault: devstack.Throttled},
		{name: "internal-error", fault: devstack.Internal},
		{name: "access-denied", fault: devstack.Denied},
		{name: "not-found", fault: devstack.NotFound},
		{name: "decryption-failure", fault: devstack.Decrypt},
		{name: "connection-dropped", fault: &devstack.Fault{Drop: true}},
		{name: "unreachable", refuse: true},
		{name: "empty-secret", fault: devstack.SecretString("")},
		{name: "blank-secret", fault: devstack.SecretString(" \n")},
		{name: "json-without-api_key", fault: devstack.SecretString(`{"apiKey":"tru_live_wrong_field_0000"}`)},
		{name: "json-api_key-not-string", fault: devstack.SecretString(`{"api_key":12345}`)},
		{name: "json-broken", fault: devstack.SecretString(`{"api_key":"tru_live_`)},
		{name: "placeholder", fault: devstack.SecretString("REPLACE_ME")},
		{name: "binary-secret", fault: devstack.SecretBinary},
	}
}

// concurrently runs fn for each case as a subtest, up to n at once. The
// subtests are not t.Parallel: they wait on sockets, not CPUs, so they
// are not held to -parallel (GOMAXPROCS).
func concurrently[C any](t *testing.T, n int, cases []C, name func(C) string, fn func(*testing.T, C)) {
	t.Helper()
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for _, c := range cases {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			t.Run(name(c), func(t *testing.T) { fn(t, c) })
		}()
	}
	wg.Wait()
}

// TestSecretsManagerFaultsAtColdStart: the key cannot be read during init nor
// at the first request. The answer is 503 secret_unavailable without calling
// Trulience and without AWS error text; once Secrets Manager recovers, the
// same process serves tokens (no crash, no restart).
func TestSecretsManagerFaultsAtColdStart(t *testing.T) {
	t.Parallel()
	concurrently(t, 5, smCases(), func(c smCase) string { return c.name }, func(t *testing.T, c smCase) {
		f := newFixture(t, opts{smFault: c.fault, smRefused: c.refuse, timeout: 10 * time.Second})
		a := f.post(`{}`)
		want(t, a, 503, "secret_unavailable")
		if a.Headers["Access-Control-Allow-Origin"] != site {
			t.Errorf("no Access-Control-Allow-Origin on the 503: a browser could not read it")
		}
		// Init (up to 3s) and the request's own read (up to 3s) are both bounded.
		if a.elapsed > 7*time.Second {
			t.Errorf("first answer after %v", a.elapsed)
		}
		a = f.post(`{}`) // still failing: tried again, still 503, still bounded
		want(t, a, 503, "secret_unavailable")
		if a.elapsed > 3500*time.Millisecond {
			t.Errorf("second answer after %v, want within the 3s read limit", a.elapsed)
		}
		if f.sin.Calls() != 0 {
			t.Errorf("Trulience called %d times without a key", f.sin.Calls())
		}
		gets := f.sm.Calls("GetSecretValue")
		if !c.refuse && (gets < 2 || gets > 9) {
			t.Errorf("%d GetSecretValue calls for init and two requests, want 2 to 9 (3 attempts each at most)", gets)
		}

		if c.refuse {
			f.restoreSM()
		}
		f.sm.SetFault("GetSecretValue", nil)
		f.wantToken(t, f.post(`{}`))
		if r, _ := f.sin.LastRequest(); r.Header.Get("X-Api-Key") != f.key() {
			t.Error("Trulience did not get the key from Secrets Manager")
		}
		if n := len(f.emu.InitDurations()); n != 1 {
			t.Errorf("%d inits: the function restarted", n)
		}
		if !strings.Contains(f.emu.Logs(), `"code":"secret_unavailable"`) {
			t.Error("the 503 was not logged with its code")
		}
		t.Logf("503 after %v (init included), %d GetSecretValue calls while failing", a.elapsed.Round(time.Millisecond), gets)
	})
}

// TestSecretsManagerFaultsOnRefresh: the key was read, SECRET_TTL passed and
// the refresh fails transiently. The stale key keeps working (stale on error)
// with one bounded read per TTL, and once Secrets Manager recovers the next
// refresh picks up a rotated key. (Failures that mean access was taken away
// stop the key instead: TestKillSwitch.)
func TestSecretsManagerFaultsOnRefresh(t *testing.T) {
	t.Parallel()
	const ttl = 300 * time.Millisecond
	cases := append(transientSMCases(), smCase{name: "slow", fault: &devstack.Fault{Delay: 10 * time.Second}})
	concurrently(t, 5, cases, func(c smCase) string { return c.name }, func(t *testing.T, c smCase) {
		f := newFixture(t, opts{env: map[string]string{"SECRET_TTL": ttl.String()}})
		f.wantToken(t, f.post(`{}`))
		oldKey := f.key()

		f.sm.SetFault("GetSecretValue", c.fault)
		if c.refuse {
			f.sm.Refuse()
		}
		time.Sleep(ttl + 50*time.Millisecond)
		before := f.sm.Calls("GetSecretValue")
		a := f.post(`{}`)
		f.wantToken(t, a)
		if r, _ := f.sin.LastRequest(); r.Header.Get("X-Api-Key") != oldKey {
			t.Error("the stale key was not used")
		}
		if a.elapsed > 3500*time.Millisecond {
			t.Errorf("answered after %v, want the failed refresh bounded by 3s", a.elapsed)
		}
		if n := f.sm.Calls("GetSecretValue") - before; n > 3 {
			t.Errorf("%d GetSecretValue calls for one refresh, want at most 3 (SDK attempts)", n)
		}
		// Right after a failed refresh the stale key is used without asking again.
		before = f.sm.Calls("GetSecretValue")
		f.wantToken(t, f.post(`{}`))
		if n := f.sm.Calls("GetSecretValue") - before; n != 0 {
			t.Errorf("%d GetSecretValue calls right after a failed refresh, want 0", n)
		}
		if !strings.Contains(f.emu.Logs(), "secret refresh failed; using the previously read key") {
			t.Error("the failed refresh was not logged")
		}

		// Secrets Manager recovers with a rotated key: the next refresh reads it.
		if c.refuse {
			f.restoreSM()
		}
		f.sm.SetFault("GetSecretValue", nil)
		newKey := f.rotate()
		f.sin.SetKeys(map[string]trulience.Key{oldKey: {}, newKey: {}})
		time.Sleep(ttl + 50*time.Millisecond)
		f.wantToken(t, f.post(`{}`))
		if r, _ := f.sin.LastRequest(); r.Header.Get("X-Api-Key") != newKey {
			t.Error("the refresh after recovery did not pick up the rotated key")
		}
		t.Logf("stale key served in %v", a.elapsed.Round(time.Millisecond))
	})
}
