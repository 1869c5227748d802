package frontdoor

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

const (
	testIssuer   = "https://issuer.example.com/"
	testAudience = "token-endpoint"
)

var (
	authOnce sync.Once
	testAuth *JWTAuth
)

// auth is one authorizer for the package's tests (an RSA key takes a while
// to make), at a fixed clock.
func auth(t *testing.T) *JWTAuth {
	t.Helper()
	authOnce.Do(func() {
		a, err := NewJWTAuth(testIssuer, testAudience, "second-audience")
		if err != nil {
			t.Fatal(err)
		}
		a.Now = func() time.Time { return time.Unix(1_800_000_000, 0) }
		testAuth = a
	})
	return testAuth
}

// TestJWTRefusals: every token API Gateway refuses gets its 401 answer,
// and the function is never invoked.
func TestJWTRefusals(t *testing.T) {
	a := auth(t)
	now := a.now().Unix()
	good := map[string]any{"iss": testIssuer, "aud": testAudience, "sub": "u1", "iat": now - 10, "exp": now + 300}
	with := func(changes map[string]any) map[string]any {
		c := map[string]any{}
		for k, v := range good {
			c[k] = v
		}
		for k, v := range changes {
			if v == nil {
				delete(c, k)
			} else {
				c[k] = v
			}
		}
		return c
	}
	rs256 := map[string]any{"alg": "RS256", "kid": a.KeyID}
	sign := func(header, claims map[string]any) string {
		tok, err := a.Sign(header, claims)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	valid := sign(rs256, good)

	// A token signed by another key, with the right kid.
	other, err := NewJWTAuth(testIssuer, testAudience)
	if err != nil {
		t.Fatal(err)
	}
	other.KeyID = a.KeyID
	forged, _ := other.Sign(rs256, good)

	// alg none: no signature at all.
	unsigned := b64([]byte(`{"alg":"none","kid":"`+a.KeyID+`"}`)) + "." + b64(mustJSON(good)) + "."
	// HS256 keyed with the public key: the classic algorithm confusion.
	pub, _ := x509.MarshalPKIXPublicKey(a.PublicKey())
	hsInput := b64([]byte(`{"alg":"HS256","kid":"`+a.KeyID+`"}`)) + "." + b64(mustJSON(good))
	mac := hmac.New(sha256.New, pub)
	mac.Write([]byte(hsInput))
	hs256 := hsInput + "." + b64(mac.Sum(nil))

	parts := strings.Split(valid, ".")
	tampered := parts[0] + "." + b64(mustJSON(with(map[string]any{"sub": "admin"}))) + "." + parts[2]

	cases := map[string]string{
		"no header":                "",
		"empty bearer":             "Bearer ",
		"not a JWT":                "Bearer abc",
		"bad signature":            "Bearer " + forged,
		"tampered claims":          "Bearer " + tampered,
		"alg none":                 "Bearer " + unsigned,
		"alg HS256":                "Bearer " + hs256,
		"unknown kid":              "Bearer " + sign(map[string]any{"alg": "RS256", "kid": "other"}, good),
		"no kid":                   "Bearer " + sign(map[string]any{"alg": "RS256"}, good),
		"wrong issuer":             "Bearer " + sign(rs256, with(map[string]any{"iss": "https://evil.example.com/"})),
		"issuer without slash":     "Bearer " + sign(rs256, with(map[string]any{"iss": strings.TrimSuffix(testIssuer, "/")})),
		"no issuer":                "Bearer " + sign(rs256, with(map[string]any{"iss": nil})),
		"wrong audience":           "Bearer " + sign(rs256, with(map[string]any{"aud": "other-app"})),
		"wrong audiences":          "Bearer " + sign(rs256, with(map[string]any{"aud": []string{"a", "b"}})),
		"aud wrong, client_id ok":  "Bearer " + sign(rs256, with(map[string]any{"aud": "other", "client_id": testAudience})),
		"no audience":              "Bearer " + sign(rs256, with(map[string]any{"aud": nil})),
		"expired":                  "Bearer " + sign(rs256, with(map[string]any{"exp": now - 1})),
		"expires now":              "Bearer " + sign(rs256, with(map[string]any{"exp": now})),
		"no exp":                   "Bearer " + sign(rs256, with(map[string]any{"exp": nil})),
		"exp as string":            "Bearer " + sign(rs256, with(map[string]any{"exp": "9999999999"})),
		"nbf in the future":        "Bearer " + sign(rs256, with(map[string]any{"nbf": now + 60})),
		"iat in the future":        "Bearer " + sign(rs256, with(map[string]any{"iat": now + 60})),
		"another scheme":           "Basic " + valid,
		"two Authorization values": "Bearer " + valid + ",Bearer " + valid,
	}
	calls := 0
	inv := invokerFunc(func(_ context.Context, _ []byte) ([]byte, error) {
		calls++
		return []byte(`{"statusCode":200,"body":"{}"}`), nil
	})
	const site = "https://www.example.com"
	h := &Handler{Function: inv, Routes: []string{"POST /token"}, JWT: a, CORS: TemplateCORS([]string{site}, "content-type", "authorization")}
	for name, authz := range cases {
		t.Run(name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/token", strings.NewReader(`{}`))
			r.Header.Set("Origin", site)
			if authz != "" {
				r.Header.Set("Authorization", authz)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if rec.Code != http.StatusUnauthorized || rec.Body.String() != `{"message":"Unauthorized"}` {
				t.Errorf("%d %s, want 401 {\"message\":\"Unauthorized\"}", rec.Code, rec.Body)
			}
			if got := rec.Header().Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type %q", got)
			}
			if got := rec.Header().Get("Access-Control-Allow-Origin"); got != site {
				t.Errorf("ACAO %q: the page could not read the 401", got)
			}
		})
	}
	if calls != 0 {
		t.Errorf("refused tokens invoked the function %d times", calls)
	}
}

// TestJWTClaimsReachTheFunction: an accepted token's claims reach the
// function as strings, as API Gateway renders them.
func TestJWTClaimsReachTheFunction(t *testing.T) {
	a := auth(t)
	now := a.now().Unix()
	inv, last := capture(`{"statusCode":200,"body":"{}"}`, nil)
	h := &Handler{Function: inv, Routes: []string{"POST /token"}, JWT: a}
	tokens := map[string]map[string]any{
		"bearer": {"sub": "user-42", "avatars": []any{"42", "43"}, "n": 7, "admin": true, "scope": "read write", "nbf": now},
		// Cognito access tokens carry client_id and no aud.
		"client_id": {"sub": "user-42", "aud": nil, "client_id": "second-audience", "avatars": "42,43"},
		"aud list":  {"sub": "user-42", "aud": []any{"other", testAudience}},
	}
	for name, claims := range tokens {
		t.Run(name, func(t *testing.T) {
			c := map[string]any{}
			for k, v := range claims {
				if v != nil {
					c[k] = v
				}
			}
			tok, err := a.Mint(c, 5*time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if _, drop := claims["aud"]; drop && claims["aud"] == nil {
				// Re-sign without aud.
				delete(c, "aud")
				c["iss"], c["exp"] = testIssuer, now+300
				tok, _ = a.Sign(map[string]any{"alg": "RS256", "kid": a.KeyID}, c)
			}
			prefix := "Bearer "
			if name == "client_id" {
				prefix = "" // the token alone is accepted too
			}
			r := httptest.NewRequest("POST", "/token", strings.NewReader(`{}`))
			r.Header.Set("Authorization", prefix+tok)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if rec.Code != 200 {
				t.Fatalf("status %d %s", rec.Code, rec.Body)
			}
			var e events.APIGatewayV2HTTPRequest
			if err := json.Unmarshal(*last, &e); err != nil {
				t.Fatal(err)
			}
			if e.RequestContext.Authorizer == nil || e.RequestContext.Authorizer.JWT == nil {
				t.Fatalf("no requestContext.authorizer.jwt in %s", *last)
			}
			got := e.RequestContext.Authorizer.JWT.Claims
			if got["sub"] != "user-42" || got["iss"] != testIssuer {
				t.Errorf("claims %v", got)
			}
			switch name {
			case "bearer":
				want := map[string]string{"avatars": "[42 43]", "n": "7", "admin": "true", "nbf": itoa(int(now)), "aud": testAudience}
				for k, v := range want {
					if got[k] != v {
						t.Errorf("claim %s = %q, want %q", k, got[k], v)
					}
				}
				if s := e.RequestContext.Authorizer.JWT.Scopes; len(s) != 2 || s[0] != "read" || s[1] != "write" {
					t.Errorf("scopes %q", s)
				}
			case "client_id":
				if got["avatars"] != "42,43" || got["client_id"] != "second-audience" {
					t.Errorf("claims %v", got)
				}
			case "aud list":
				if got["aud"] != "[other "+testAudience+"]" {
					t.Errorf("aud %q", got["aud"])
				}
			}
			// The function still gets the header, as from API Gateway.
			if e.Headers["authorization"] != prefix+tok {
				t.Errorf("authorization header not passed on")
			}
		})
	}
}

// TestNoJWTNoAuthorizer: without signed-in mode the event has no authorizer.
func TestNoJWTNoAuthorizer(t *testing.T) {
	inv, last := capture(`{"statusCode":200,"body":"{}"}`, nil)
	h := &Handler{Function: inv, Routes: []string{"POST /token"}}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/token", nil))
	if rec.Code != 200 || strings.Contains(string(*last), `"authorizer"`) {
		t.Errorf("%d, event %s", rec.Code, *last)
	}
}

// TestJWTRefusalOrder: unknown routes stay 404 and
// preflights are answered without a token.
func TestJWTRefusalOrder(t *testing.T) {
	inv, _ := capture(`{"statusCode":200,"body":"{}"}`, nil)
	h := &Handler{Function: inv, Routes: []string{"POST /token"}, JWT: auth(t), CORS: TemplateCORS([]string{"https://a.example"}, "content-type", "authorization")}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/other", nil))
	if rec.Code != 404 {
		t.Errorf("unknown route: %d", rec.Code)
	}
	r := httptest.NewRequest("OPTIONS", "/token", nil)
	r.Header.Set("Origin", "https://a.example")
	r.Header.Set("Access-Control-Request-Method", "POST")
	r.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != 204 || rec.Header().Get("Access-Control-Allow-Headers") != "content-type,authorization" {
		t.Errorf("preflight: %d %q", rec.Code, rec.Header().Get("Access-Control-Allow-Headers"))
	}
}

func TestNewJWTAuthNeedsIssuerAndAudience(t *testing.T) {
	if _, err := NewJWTAuth("", "a"); err == nil {
		t.Error("no issuer accepted")
	}
	if _, err := NewJWTAuth("https://i.example/"); err == nil {
		t.Error("no audience accepted")
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
