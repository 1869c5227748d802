package e2e

import (
	"context"
	"testing"

	"github.com/trulience-token/trulience-token/dev/devstack"
	"github.com/trulience-token/trulience-token/dev/standin/trulience"
)

// TestKeyRotation: the key changes in Secrets Manager (PutSecretValue) and at
// Trulience; the next request meets 401 with the cached key, refetches the
// secret bypassing the cache, retries once with the new key and succeeds.
func TestKeyRotation(t *testing.T) {
	h := newHarness(t, devstack.Options{})
	h.token(t, `{}`)
	oldKey, newKey := h.APIKey, "tru_live_rotated_e2e_0123456789"
	reads := h.SecretsCalls("GetSecretValue")

	if err := h.PutAPIKey(context.Background(), newKey); err != nil {
		t.Fatal(err)
	}
	h.StandIn.SetKeys(map[string]trulience.Key{newKey: {}})
	before := h.StandIn.Calls()
	tok := h.token(t, `{}`)
	if !h.StandIn.WasMinted(tok.JWT) {
		t.Error("token not minted by the stand-in")
	}
	reqs := h.StandIn.Requests()[before:]
	if len(reqs) != 2 || reqs[0].Header.Get("X-Api-Key") != oldKey || reqs[1].Header.Get("X-Api-Key") != newKey {
		keys := []string{}
		for _, r := range reqs {
			keys = append(keys, mask(r.Header.Get("X-Api-Key")))
		}
		t.Errorf("upstream keys %v, want [old new]", keys)
	}
	if got := h.SecretsCalls("GetSecretValue") - reads; got != 1 {
		t.Errorf("%d secret reads for the rotation, want 1", got)
	}

	// The new key is cached now: no more reads, one call per request.
	reads, before = h.SecretsCalls("GetSecretValue"), h.StandIn.Calls()
	h.token(t, `{}`)
	if h.SecretsCalls("GetSecretValue") != reads || h.StandIn.Calls() != before+1 {
		t.Error("the rotated key was not cached")
	}

	// A key Trulience no longer accepts while the secret still holds it:
	// 502 upstream_error, and the same key is never sent twice.
	h.StandIn.SetKeys(map[string]trulience.Key{"tru_live_unknown": {}})
	before, reads = h.StandIn.Calls(), h.SecretsCalls("GetSecretValue")
	if r := h.do(t, "POST", h.SiteURL, `{}`); r.status != 502 || r.code() != "upstream_error" {
		t.Errorf("revoked key: %d %s", r.status, r.body)
	}
	n := h.StandIn.Calls() - before
	if n < 1 || n > 2 {
		t.Errorf("%d upstream calls with a revoked key, want 1 or 2", n)
	}
	t.Logf("revoked key: %d upstream call(s), %d secret read(s) (forced refreshes are rate-limited)", n, h.SecretsCalls("GetSecretValue")-reads)
}

// mask shows a key's shape without the key.
func mask(k string) string {
	if len(k) < 12 {
		return "…"
	}
	return k[:9] + "…"
}
