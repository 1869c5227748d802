package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/trulience-token/trulience-token/internal/idhash"
)

// signedIn builds the HTTP API event API Gateway sends after its JWT
// authorizer verified the bearer token: the claims as strings.
func signedIn(body string, claims map[string]string) []byte {
	e := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "POST /token", RawPath: "/token",
		Headers: map[string]string{"content-type": "application/json", "origin": site, "authorization": "Bearer " + bearerSample},
		Body:    body,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RequestID: "req-1", DomainName: httpAPIDomain,
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", Path: "/token", SourceIP: "203.0.113.7"},
		},
	}
	if claims != nil {
		e.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims},
		}
	}
	b, _ := json.Marshal(e)
	return b
}

// bearerSample stands for the visitor's bearer token, which must never be logged.
const bearerSample = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJ1c2VyLTQyIn0.c2lnbmVk"

func TestClaimAvatars(t *testing.T) {
	cases := map[string][]string{
		avatarA:                                 {avatarA},
		" " + avatarA + " ":                     {avatarA},
		avatarA + "," + avatarB:                 {avatarA, avatarB},
		avatarA + ", " + avatarB:                {avatarA, avatarB},
		`["` + avatarA + `","` + avatarB + `"]`: {avatarA, avatarB},
		`[` + avatarA + `, ` + avatarB + `]`:    {avatarA, avatarB}, // JSON numbers keep every digit
		`[` + avatarA + ` ` + avatarB + `]`:     {avatarA, avatarB}, // API Gateway's rendering of an array
		`[` + avatarA + `]`:                     {avatarA},
		`[]`:                                    {},
		``:                                      {},
		`[admin ` + avatarA + `]`:               {avatarA},
		`["admin", null, {"x":1}, "` + avatarB + `"]`: {avatarB},
		avatarA + "," + avatarA:                       {avatarA},
		"*":                                           {},
		"4386676996480451678x":                        {},
		`"` + avatarA + `"`:                           {},
		// Items are taken whole: what is not a bare ID grants nothing.
		`["x,` + avatarA + `"]`:               {},
		`["x ` + avatarA + `"]`:               {},
		`[" ` + avatarA + `"]`:                {},
		`["` + avatarA + `,` + avatarB + `"]`: {},
		`[x,` + avatarA + `]`:                 {}, // API Gateway's form is split on spaces only
		`[x,` + avatarA + ` ` + avatarB + `]`: {avatarB},
		`[` + avatarA + `,` + avatarB + `]`:   {avatarA, avatarB}, // a JSON array of numbers
		`[` + avatarA + `  ` + avatarB + `]`:  {avatarA, avatarB},
		avatarA + " " + avatarB:               {}, // a plain string is split on commas only
		"x " + avatarA + "," + avatarB:        {avatarB},
		"[" + avatarA + "," + avatarB:         {avatarB}, // no closing bracket: a plain string
		`[[` + avatarA + `]]`:                 {},
	}
	for in, want := range cases {
		if got := ClaimAvatars(in); !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Errorf("ClaimAvatars(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAvatarClaim(t *testing.T) {
	env := map[string]string{"AVATAR_CLAIM": "custom:avatars"}
	cases := []struct {
		name   string
		body   string
		claims map[string]string
		status int
		avatar string // minted for, on 200
	}{
		{"listed", `{"avatar_id":"` + avatarB + `"}`, map[string]string{"sub": "u1", "custom:avatars": avatarA + "," + avatarB}, 200, avatarB},
		{"listed, API Gateway array form", `{"avatar_id":"` + avatarB + `"}`, map[string]string{"custom:avatars": "[" + avatarB + "]"}, 200, avatarB},
		{"listed, JSON array", `{"avatar_id":"` + avatarB + `"}`, map[string]string{"custom:avatars": `["` + avatarB + `"]`}, 200, avatarB},
		{"default avatar listed", `{}`, map[string]string{"custom:avatars": avatarA}, 200, avatarA},
		{"default avatar not listed", ``, map[string]string{"custom:avatars": avatarB}, 403, ""},
		{"not listed", `{"avatar_id":"` + avatarB + `"}`, map[string]string{"custom:avatars": avatarA}, 403, ""},
		{"claim empty", `{}`, map[string]string{"custom:avatars": ""}, 403, ""},
		{"claim absent", `{}`, map[string]string{"sub": "u1"}, 403, ""},
		{"no authorizer", `{}`, nil, 403, ""},
		// The claim narrows ALLOWED_AVATAR_IDS, never widens it.
		{"listed but not allowed", `{"avatar_id":"2222"}`, map[string]string{"custom:avatars": "2222"}, 403, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := &fakeMinter{}
			h, _ := newTestHandler(t, env, m)
			a := invoke(t, h, signedIn(c.body, c.claims))
			if a.StatusCode != c.status {
				t.Fatalf("status %d (%s), want %d", a.StatusCode, a.Body, c.status)
			}
			if c.status == 200 {
				if len(m.calls) != 1 || m.calls[0].AvatarID != c.avatar {
					t.Errorf("minted %+v, want one for %s", m.calls, c.avatar)
				}
				return
			}
			if a.errCode != "avatar_not_allowed" || len(m.calls) != 0 {
				t.Errorf("code %q, %d mints; want avatar_not_allowed and none", a.errCode, len(m.calls))
			}
		})
	}
}

// TestNoAvatarClaimIgnoresClaims: without AVATAR_CLAIM, claims change nothing.
func TestNoAvatarClaimIgnoresClaims(t *testing.T) {
	m := &fakeMinter{}
	h, _ := newTestHandler(t, nil, m)
	if a := invoke(t, h, signedIn(`{"avatar_id":"`+avatarB+`"}`, map[string]string{"avatars": avatarA})); a.StatusCode != 200 {
		t.Fatalf("status %d: %s", a.StatusCode, a.Body)
	}
}

// TestAvatarClaimRefusalSkipsGuards: the claim is a cheap check, made
// before any guard runs.
func TestAvatarClaimRefusalSkipsGuards(t *testing.T) {
	g := &fakeGuard{attr: slog.String("g", "x")}
	h, _ := newTestHandler(t, map[string]string{"AVATAR_CLAIM": "avatars"}, &fakeMinter{})
	h.guards = []Guard{g}
	if a := invoke(t, h, signedIn(`{}`, map[string]string{"avatars": avatarB})); a.StatusCode != 403 {
		t.Fatalf("status %d", a.StatusCode)
	}
	if len(g.seen) != 0 {
		t.Errorf("the guard ran for a request the claim refused")
	}
	if a := invoke(t, h, signedIn(`{}`, map[string]string{"avatars": avatarA, "sub": "u9"})); a.StatusCode != 200 {
		t.Fatalf("status %d", a.StatusCode)
	}
	if len(g.seen) != 1 || g.seen[0].Subject() != "u9" || g.seen[0].Claims["avatars"] != avatarA {
		t.Errorf("the guard saw %+v, want the claims", g.seen)
	}
}

// TestSubIsLoggedHashed: the log line carries sub_hash, never the sub or
// the bearer token.
func TestSubIsLoggedHashed(t *testing.T) {
	const sub = "auth0|65f1c0ffee42"
	const apiKey = "tru_live_0123456789abcdef"
	h, logs := newTestHandler(t, map[string]string{"LOG_LEVEL": "debug"}, &fakeMinter{})
	h.WithSubHash(idhash.Secret{Read: func(context.Context) (string, error) { return apiKey, nil }})
	if a := invoke(t, h, signedIn(`{}`, map[string]string{"sub": sub, "email": "ada@example.com"})); a.StatusCode != 200 {
		t.Fatalf("status %d", a.StatusCode)
	}
	var line map[string]any
	if err := json.Unmarshal(bytes.TrimSpace(logs.Bytes()), &line); err != nil {
		t.Fatalf("not one JSON line: %q", logs.String())
	}
	// k=$(printf %s 'trulience-token sub_hash' | openssl dgst -sha256 -hmac tru_live_0123456789abcdef | cut -d' ' -f2)
	// printf %s 'auth0|65f1c0ffee42' | openssl dgst -sha256 -mac HMAC -macopt hexkey:$k | cut -d' ' -f2 | cut -c1-12
	if got := line["sub_hash"]; got != "9e1db16d9cf4" {
		t.Errorf("sub_hash = %v, want 9e1db16d9cf4, the keyed hash", got)
	}
	// The plain SHA-256 of a guessed sub no longer finds the user's lines.
	plain := sha256.Sum256([]byte(sub))
	if strings.Contains(logs.String(), hex.EncodeToString(plain[:])[:12]) {
		t.Error("the log holds the unkeyed SHA-256 of sub")
	}
	for _, secret := range []string{sub, "65f1c0ffee42", bearerSample, "ada@example.com", "Bearer"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log holds %q: %s", secret, logs.String())
		}
	}

	logs.Reset()
	invoke(t, h, signedIn(`{}`, nil))
	if strings.Contains(logs.String(), "sub_hash") {
		t.Errorf("sub_hash logged without claims: %s", logs.String())
	}
}

// TestSubHashKeyed: the hash follows the key (rotation starts new
// pseudonyms); without a readable key the line says so.
func TestSubHashKeyed(t *testing.T) {
	claims := map[string]string{"sub": "u1"}
	hashWith := func(s idhash.Secret) string {
		h, _ := newTestHandler(t, nil, &fakeMinter{})
		attrs := h.WithSubHash(s).claimsLog(context.Background(), claims)
		if len(attrs) != 1 {
			t.Fatalf("attrs %v", attrs)
		}
		return attrs[0].Value.String()
	}
	a, b := hashWith(idhash.Secret{Fixed: "one"}), hashWith(idhash.Secret{Fixed: "two"})
	if a == b || len(a) != 12 {
		t.Errorf("hashes %q and %q under two keys", a, b)
	}
	if got := hashWith(idhash.Secret{Read: func(context.Context) (string, error) { return "", errors.New("down") }}); got != "unavailable" {
		t.Errorf("sub_hash %q with the key unreadable, want unavailable", got)
	}
}

func TestLifetimeCap(t *testing.T) {
	cases := []struct {
		cap, body string
		status    int
		expireAt  int // asked of Trulience, on 200
	}{
		{"600", `{"expire_at":600}`, 200, 600},
		{"600", `{"expire_at":60}`, 200, 60},
		{"600", `{"expire_at":601}`, 400, 0},
		{"600", `{"expire_at":3600}`, 400, 0},
		{"600", `{}`, 200, 0}, // Trulience's default, not the cap
		{"", `{"expire_at":3600}`, 200, 3600},
		{"3600", `{"expire_at":3600}`, 200, 3600},
		{"60", `{"expire_at":61}`, 400, 0},
		// A cap below Trulience's default of 120 s is sent as expire_at.
		{"60", `{}`, 200, 60},
		{"90", `{}`, 200, 90},
		{"119", `{}`, 200, 119},
		{"120", `{}`, 200, 0},
		{"90", `{"expire_at":60}`, 200, 60},
	}
	for _, c := range cases {
		m := &fakeMinter{}
		h, _ := newTestHandler(t, map[string]string{"MAX_EXPIRE_AT": c.cap}, m)
		a := invoke(t, h, v2("POST", site, c.body))
		if a.StatusCode != c.status {
			t.Errorf("cap %q body %s: status %d (%s), want %d", c.cap, c.body, a.StatusCode, a.Body, c.status)
			continue
		}
		if c.status == 200 {
			if len(m.calls) != 1 || m.calls[0].ExpireAt != c.expireAt {
				t.Errorf("cap %q body %s: minted %+v, want expire_at %d", c.cap, c.body, m.calls, c.expireAt)
			}
			continue
		}
		if a.errCode != "invalid_request" || !strings.Contains(a.errMsg, c.cap+" seconds") || len(m.calls) != 0 {
			t.Errorf("cap %q body %s: %q %q, %d mints; want invalid_request naming the cap", c.cap, c.body, a.errCode, a.errMsg, len(m.calls))
		}
	}
}

// TestCheckOrder: origin, method, body, avatar (allowlist, then claim),
// lifetime cap, then the guards.
func TestCheckOrder(t *testing.T) {
	env := map[string]string{"AVATAR_CLAIM": "avatars", "MAX_EXPIRE_AT": "120"}
	refuse := &Problem{Status: http.StatusTooManyRequests, Code: "guard", Message: "no"}
	cases := []struct {
		name    string
		payload []byte
		code    string
	}{
		{"avatar not allowed beats claim and cap", signedIn(`{"avatar_id":"2222","expire_at":900}`, map[string]string{"avatars": "1"}), "avatar_not_allowed"},
		{"claim beats cap", signedIn(`{"expire_at":900}`, map[string]string{"avatars": avatarB}), "avatar_not_allowed"},
		{"cap beats guards", signedIn(`{"expire_at":900}`, map[string]string{"avatars": avatarA}), "invalid_request"},
		{"guards last", signedIn(`{"expire_at":120}`, map[string]string{"avatars": avatarA}), "guard"},
		{"body beats cap", signedIn(`{"expire_at":900,"x":1}`, map[string]string{"avatars": avatarA}), "invalid_request"},
	}
	for _, c := range cases {
		g := &fakeGuard{refuse: refuse, attr: slog.String("g", "x")}
		h, _ := newTestHandler(t, env, &fakeMinter{})
		h.guards = []Guard{g}
		a := invoke(t, h, c.payload)
		if a.errCode != c.code {
			t.Errorf("%s: code %q (%s), want %q", c.name, a.errCode, a.errMsg, c.code)
		}
		if ran := len(g.seen) > 0; ran != (c.code == "guard") {
			t.Errorf("%s: guard ran = %v", c.name, ran)
		}
	}
}
