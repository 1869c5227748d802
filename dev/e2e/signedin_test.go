package e2e

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/trulience-token/trulience-token/dev/devstack"
	"github.com/trulience-token/trulience-token/dev/frontdoor"
)

// doBearer is do with an Authorization header ("" sends none).
func (h *harness) doBearer(t *testing.T, origin, authorization, body string) reply {
	t.Helper()
	return h.send(t, http.MethodPost, map[string]string{"Origin": origin, "Authorization": authorization, "Content-Type": "application/json"}, body)
}

// TestSignedIn: with signed-in mode on, the front door refuses requests
// without a valid bearer JWT as API Gateway does (the function never runs),
// the function enforces AVATAR_CLAIM and MAX_EXPIRE_AT on the ones it
// lets through, and the user's sub reaches the log only as its hash.
func TestSignedIn(t *testing.T) {
	const (
		claim  = "custom:avatars"
		second = "1111111111111111111"
		sub    = "user-7f3a9c-signed-in"
	)
	h := newHarness(t, devstack.Options{
		SignedIn:  true,
		AvatarIDs: []string{devstack.DemoAvatarID, second},
		Env:       map[string]string{"AVATAR_CLAIM": claim, "MAX_EXPIRE_AT": "600", "LOG_LEVEL": "debug"},
	})
	mint := func(claims map[string]any, ttl time.Duration) string {
		t.Helper()
		tok, err := h.BearerToken(sub, ttl, claims)
		if err != nil {
			t.Fatal(err)
		}
		return "Bearer " + tok
	}
	demoOnly := mint(map[string]any{claim: []string{devstack.DemoAvatarID}}, time.Hour)  // an array claim
	both := mint(map[string]any{claim: devstack.DemoAvatarID + "," + second}, time.Hour) // a comma-separated one
	noClaim := mint(nil, time.Hour)
	expired := mint(map[string]any{claim: devstack.DemoAvatarID, "iat": time.Now().Add(-2 * time.Hour).Unix()}, -time.Hour)
	stranger, err := frontdoor.NewJWTAuth(devstack.JWTIssuer, devstack.JWTAudience)
	if err != nil {
		t.Fatal(err)
	}
	stranger.KeyID = h.JWT.KeyID
	forgedTok, _ := stranger.Mint(map[string]any{"sub": sub, claim: devstack.DemoAvatarID}, time.Hour)
	forged := "Bearer " + forgedTok

	site := h.SiteURL
	unauthorized := map[string]string{"no token": "", "expired": expired, "forged": forged, "not a JWT": "Bearer nonsense"}
	for name, authz := range unauthorized {
		r := h.doBearer(t, site, authz, `{}`)
		if r.status != http.StatusUnauthorized || string(r.body) != `{"message":"Unauthorized"}` {
			t.Errorf("%s: %d %s, want 401 {\"message\":\"Unauthorized\"}", name, r.status, r.body)
		}
		if got := r.header.Get("Access-Control-Allow-Origin"); got != site {
			t.Errorf("%s: the page cannot read the 401 (ACAO %q)", name, got)
		}
	}
	if n := strings.Count(h.Function.Logs(), `"msg":"request"`); n != 0 {
		t.Errorf("refused tokens invoked the function %d times", n)
	}

	cases := []struct {
		name, origin, authz, body string
		status                    int
		code, avatar              string
	}{
		{"default avatar listed", site, demoOnly, `{}`, 200, "", devstack.DemoAvatarID},
		{"avatar not listed", site, demoOnly, `{"avatar_id":"` + second + `"}`, 403, "avatar_not_allowed", ""},
		{"no claim", site, noClaim, `{}`, 403, "avatar_not_allowed", ""},
		{"listed in a comma-separated claim", site, both, `{"avatar_id":"` + second + `"}`, 200, "", second},
		{"beyond the lifetime cap", site, both, `{"expire_at":900}`, 400, "invalid_request", ""},
		{"at the lifetime cap", site, both, `{"expire_at":600}`, 200, "", devstack.DemoAvatarID},
		{"server to server: no Origin, a JWT", "", both, `{}`, 200, "", devstack.DemoAvatarID},
	}
	minted := 0
	for _, c := range cases {
		r := h.doBearer(t, c.origin, c.authz, c.body)
		if r.status != c.status {
			t.Errorf("%s: %d %s, want %d", c.name, r.status, r.body, c.status)
			continue
		}
		if c.status != 200 {
			if r.code() != c.code {
				t.Errorf("%s: code %q, want %q", c.name, r.code(), c.code)
			}
			if c.code == "invalid_request" && !strings.Contains(string(r.body), "600") {
				t.Errorf("%s: the message does not name the cap: %s", c.name, r.body)
			}
			continue
		}
		minted++
		var tok tokenBody
		if err := json.Unmarshal(r.body, &tok); err != nil || tok.AvatarID != c.avatar || !h.StandIn.WasMinted(tok.JWT) {
			t.Errorf("%s: %s, want a token for %s from Trulience", c.name, r.body, c.avatar)
		}
	}
	if calls := h.StandIn.Calls(); calls != minted {
		t.Errorf("Trulience was called %d times for %d tokens: a refused request reached it", calls, minted)
	}

	// A browser's preflight may ask for the authorization header.
	pre := h.send(t, http.MethodOptions, map[string]string{"Origin": site, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type"}, "")
	if got := pre.header.Get("Access-Control-Allow-Headers"); !strings.Contains(got, "authorization") {
		t.Errorf("preflight Access-Control-Allow-Headers %q lacks authorization", got)
	}

	// The log holds the sub's keyed hash on every signed-in request, never
	// the sub nor a bearer token. Without LIMITS_HASH_KEY the key comes
	// from the API key; the sub's plain SHA-256 appears nowhere.
	k := hmac.New(sha256.New, []byte(h.APIKey))
	k.Write([]byte("trulience-token sub_hash"))
	m := hmac.New(sha256.New, k.Sum(nil))
	m.Write([]byte(sub))
	hash := hex.EncodeToString(m.Sum(nil))[:12]
	hashed := func() int { return strings.Count(h.Function.Logs(), `"sub_hash":"`+hash+`"`) }
	waitFor(5*time.Second, func() bool { return hashed() >= len(cases) }) // the RIE copies the function's output as it comes
	if n := hashed(); n != len(cases) {
		t.Errorf("%d log lines carry sub_hash %s, want %d (one per request the function saw)", n, hash, len(cases))
	}
	plain := sha256.Sum256([]byte(sub))
	if strings.Contains(h.Function.Logs(), hex.EncodeToString(plain[:])[:12]) {
		t.Error("the log holds the unkeyed SHA-256 of sub")
	}
	fnLogs := h.Function.Logs()
	logs := h.log.String() + fnLogs
	for what, secret := range map[string]string{"sub": sub, "demo-only token": demoOnly[len("Bearer "):], "token": both[len("Bearer "):], "forged token": forgedTok} {
		if strings.Contains(logs, secret) {
			t.Errorf("the %s appears in the logs", what)
		}
		if parts := strings.Split(secret, "."); len(parts) == 3 && strings.Contains(logs, parts[2]) {
			t.Errorf("the %s's signature appears in the logs", what)
		}
	}
}
