package hardening

import (
	"testing"

	"github.com/trulience-token/trulience-token/dev/standin/trulience"
)

// TestKeyRotationWhileWarm: the key changes in Secrets Manager and at
// Trulience while the function holds the old one (SECRET_TTL=5m). The next
// request meets 401, reads the secret once bypassing the cache, retries once
// and succeeds; later requests use the new key without reading it again.
// Then Trulience refuses every key (revoked, not rotated): each request
// calls Trulience once and Secrets Manager is not hammered.
func TestKeyRotationWhileWarm(t *testing.T) {
	t.Parallel()
	f := newFixture(t, opts{})
	f.wantToken(t, f.post(`{}`))
	oldKey := f.key()
	gets, calls := f.sm.Calls("GetSecretValue"), f.sin.Calls()

	newKey := f.rotate()
	f.sin.SetKeys(map[string]trulience.Key{newKey: {}})
	f.wantToken(t, f.post(`{}`))
	reqs := f.sin.Requests()[calls:]
	if len(reqs) != 2 || reqs[0].Header.Get("X-Api-Key") != oldKey || reqs[1].Header.Get("X-Api-Key") != newKey {
		t.Fatalf("%d Trulience calls for the rotation, want 2: old key (401) then new key", len(reqs))
	}
	if n := f.sm.Calls("GetSecretValue") - gets; n != 1 {
		t.Errorf("%d GetSecretValue calls for the rotation, want 1", n)
	}

	gets, calls = f.sm.Calls("GetSecretValue"), f.sin.Calls()
	const warm = 20
	for range warm {
		f.wantToken(t, f.post(`{}`))
	}
	if n := f.sm.Calls("GetSecretValue") - gets; n != 0 {
		t.Errorf("%d GetSecretValue calls over %d warm requests after the rotation, want 0", n, warm)
	}
	if n := f.sin.Calls() - calls; n != warm {
		t.Errorf("%d Trulience calls for %d requests, want one each", n, warm)
	}

	// Revoked at Trulience, unchanged in Secrets Manager: no loop, no storm.
	f.sin.SetKeys(map[string]trulience.Key{"tru_live_someone_else": {}})
	gets, calls = f.sm.Calls("GetSecretValue"), f.sin.Calls()
	const revoked = 30
	for range revoked {
		want(t, f.post(`{}`), 502, "upstream_error")
	}
	if n := f.sin.Calls() - calls; n != revoked {
		t.Errorf("%d Trulience calls for %d requests with a revoked key, want exactly one each", n, revoked)
	}
	if n := f.sm.Calls("GetSecretValue") - gets; n > 1 {
		t.Errorf("%d GetSecretValue calls for %d requests with a revoked key, want at most 1 (forced refreshes are spaced)", n, revoked)
	}
	t.Logf("rotation: 2 Trulience calls, 1 secret read; revoked key: %d Trulience calls and %d secret reads for %d requests",
		f.sin.Calls()-calls, f.sm.Calls("GetSecretValue")-gets, revoked)
}
