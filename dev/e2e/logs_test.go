package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/trulience-token/trulience-token/dev/devstack"
	"github.com/trulience-token/trulience-token/dev/standin/trulience"
)

// TestNoSecretsInLogs runs a varied session at LOG_LEVEL=debug (tokens,
// refusals, upstream failures, a key rotation, a non-API event) and reads
// everything the function, the RIE and the front door printed: neither API
// key nor any minted JWT (nor its signature alone) may appear.
func TestNoSecretsInLogs(t *testing.T) {
	h := newHarness(t, devstack.Options{Env: map[string]string{"LOG_LEVEL": "debug", "UPSTREAM_TIMEOUT": "1s"}})
	ctx := context.Background()
	h.token(t, `{}`)
	h.token(t, `{"avatar_id":"`+devstack.DemoAvatarID+`","expire_at":3600}`)
	h.do(t, "POST", "https://evil.example", `{}`)
	h.do(t, "POST", h.SiteURL, `{"avatar_id":1}`)
	h.StandIn.Enqueue(trulience.ErrInternal.Fault())
	h.do(t, "POST", h.SiteURL, `{}`)
	h.StandIn.Enqueue(trulience.Fault{Status: 200, Body: []byte(`{"jwt":"eyJhbGciOiJIUzI1NiJ9.eyJ4IjoxfQ.bad-body-token-signature","expires_in":"x"}`)})
	h.do(t, "POST", h.SiteURL, `{}`)
	_, _ = h.Function.Invoke(ctx, []byte(`{}`))

	oldKey, newKey := h.APIKey, "tru_live_rotated_logs_abcdef0123"
	if err := h.PutAPIKey(ctx, newKey); err != nil {
		t.Fatal(err)
	}
	h.StandIn.SetKeys(map[string]trulience.Key{newKey: {}})
	h.token(t, `{}`)
	h.StandIn.SetKeys(map[string]trulience.Key{"tru_live_never": {}})
	h.do(t, "POST", h.SiteURL, `{}`)

	logs := h.log.String() + h.Function.Logs()
	if !strings.Contains(logs, `"level":"DEBUG"`) {
		t.Log("note: the function printed no DEBUG line at LOG_LEVEL=debug")
	}
	secrets := map[string]string{"API key": oldKey, "rotated API key": newKey, "API key prefix+body": oldKey[len("tru_live_"):]}
	minted := h.StandIn.Minted()
	if len(minted) < 3 {
		t.Fatalf("only %d tokens minted", len(minted))
	}
	for i, m := range minted {
		parts := strings.Split(m.JWT, ".")
		secrets["JWT "+string(rune('0'+i))] = m.JWT
		secrets["JWT signature "+string(rune('0'+i))] = parts[2]
	}
	secrets["bad-body JWT"] = "bad-body-token-signature"
	for what, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("the %s appears in the logs", what)
		}
	}
	t.Logf("checked %d lines of logs for %d secrets", strings.Count(logs, "\n"), len(secrets))
}
