package frontdoor

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
)

// JWTAuth is an HTTP API JWT authorizer on the route, as template.yaml
// configures with JwtIssuer and JwtAudience, verifying tokens against a
// key pair of its own instead of the issuer's JWKS. Like API Gateway it
// takes the token from the Authorization header (alone or after
// "Bearer "), accepts only RSA signatures (RS256, RS384, RS512) by a key
// whose kid it knows, and checks iss (exactly), aud (one of Audience; or
// client_id when the token has no aud), exp (after now), nbf and iat
// (not after now). A request it refuses gets 401 {"message":"Unauthorized"}
// and never reaches the function; one it accepts reaches it with the
// claims, as strings, at requestContext.authorizer.jwt.claims.
type JWTAuth struct {
	// Issuer is the iss tokens must carry.
	Issuer string
	// Audience lists the accepted aud (or client_id) values.
	Audience []string
	// KeyID is the kid of the signing key.
	KeyID string
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	key *rsa.PrivateKey
}

// NewJWTAuth returns an authorizer for issuer and audience with a fresh
// 2048-bit RSA key: the tokens Mint signs with it are the only ones it
// accepts.
func NewJWTAuth(issuer string, audience ...string) (*JWTAuth, error) {
	if issuer == "" || len(audience) == 0 {
		return nil, errors.New("frontdoor: a JWT authorizer needs an issuer and at least one audience")
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	kid := make([]byte, 8)
	_, _ = rand.Read(kid)
	return &JWTAuth{Issuer: issuer, Audience: audience, KeyID: base64.RawURLEncoding.EncodeToString(kid), key: key}, nil
}

// PublicKey is the verification key.
func (a *JWTAuth) PublicKey() *rsa.PublicKey { return &a.key.PublicKey }

func (a *JWTAuth) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// Mint returns a token signed (RS256) by the authorizer's key for a user:
// claims plus, unless claims set them, iss, aud (the first audience), iat,
// and exp ttl from now.
func (a *JWTAuth) Mint(claims map[string]any, ttl time.Duration) (string, error) {
	c := map[string]any{}
	now := a.now()
	c["iss"], c["aud"], c["iat"], c["exp"] = a.Issuer, a.Audience[0], now.Unix(), now.Add(ttl).Unix()
	maps.Copy(c, claims)
	return a.Sign(map[string]any{"alg": "RS256", "typ": "JWT", "kid": a.KeyID}, c)
}

// Sign signs header and claims exactly as given with the authorizer's
// key, hashing as the header's alg says (SHA-256 unless it names RS384 or
// RS512): tests use it to make tokens the authorizer must refuse.
func (a *JWTAuth) Sign(header, claims map[string]any) (string, error) {
	h, err := json.Marshal(header)
	if err != nil {
		return "", err
	}
	c, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	input := b64(h) + "." + b64(c)
	alg, _ := header["alg"].(string)
	hf, ok := rsaHashes[alg]
	if !ok {
		hf = rsaHashes["RS256"]
	}
	sig, err := rsa.SignPKCS1v15(rand.Reader, a.key, hf.id, digest(hf.new, input))
	if err != nil {
		return "", err
	}
	return input + "." + b64(sig), nil
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

type rsaHash struct {
	id  crypto.Hash
	new func() hash.Hash
}

// rsaHashes are the algorithms API Gateway accepts: RSA signatures only.
var rsaHashes = map[string]rsaHash{
	"RS256": {crypto.SHA256, sha256.New},
	"RS384": {crypto.SHA384, sha512.New384},
	"RS512": {crypto.SHA512, sha512.New},
}

func digest(newHash func() hash.Hash, input string) []byte {
	h := newHash()
	h.Write([]byte(input))
	return h.Sum(nil)
}

// Verify checks the Authorization header value and returns the token's
// claims as API Gateway passes them to the function. Its errors say why a
// token was refused, never what it holds.
func (a *JWTAuth) Verify(authorization string) (map[string]string, error) {
	token := strings.TrimSpace(authorization)
	if len(token) > 7 && strings.EqualFold(token[:7], "bearer ") {
		token = strings.TrimSpace(token[7:])
	}
	if token == "" {
		return nil, errors.New("no token in the Authorization header")
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, errors.New("not a signed JWT (three dot-separated parts)")
	}
	var header struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil || json.Unmarshal(hb, &header) != nil {
		return nil, errors.New("malformed header")
	}
	hf, ok := rsaHashes[header.Alg]
	if !ok {
		return nil, fmt.Errorf("signing method %q is not accepted (RSA only)", header.Alg)
	}
	if header.Kid == "" || header.Kid != a.KeyID {
		return nil, errors.New("no key with the token's kid")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, errors.New("malformed signature")
	}
	if rsa.VerifyPKCS1v15(&a.key.PublicKey, hf.id, digest(hf.new, parts[0]+"."+parts[1]), sig) != nil {
		return nil, errors.New("bad signature")
	}
	cb, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, errors.New("malformed claims")
	}
	dec := json.NewDecoder(bytes.NewReader(cb))
	dec.UseNumber()
	var claims map[string]any
	if dec.Decode(&claims) != nil || claims == nil {
		return nil, errors.New("malformed claims")
	}
	if iss, _ := claims["iss"].(string); iss != a.Issuer {
		return nil, errors.New("wrong issuer")
	}
	if !a.audienceOK(claims) {
		return nil, errors.New("wrong audience")
	}
	now := a.now().Unix()
	exp, ok := epoch(claims["exp"])
	switch {
	case !ok:
		return nil, errors.New("no valid exp")
	case now >= exp:
		return nil, errors.New("token expired")
	}
	if v, present := claims["nbf"]; present {
		if nbf, ok := epoch(v); !ok || nbf > now {
			return nil, errors.New("token not valid yet (nbf)")
		}
	}
	if v, present := claims["iat"]; present {
		if iat, ok := epoch(v); !ok || iat > now {
			return nil, errors.New("token issued in the future (iat)")
		}
	}
	out := make(map[string]string, len(claims))
	for k, v := range claims {
		out[k] = claimString(v)
	}
	return out, nil
}

// audienceOK: aud (a string or a list) names an accepted audience; only
// without aud is client_id (Cognito access tokens) checked instead.
func (a *JWTAuth) audienceOK(claims map[string]any) bool {
	var values []any
	switch aud := claims["aud"].(type) {
	case nil:
		values = []any{claims["client_id"]}
	case []any:
		values = aud
	default:
		values = []any{aud}
	}
	for _, v := range values {
		if s, ok := v.(string); ok && slices.Contains(a.Audience, s) {
			return true
		}
	}
	return false
}

// epoch reads a NumericDate claim (seconds, possibly fractional).
func epoch(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	if i, err := n.Int64(); err == nil {
		return i, true
	}
	f, err := n.Float64()
	return int64(f), err == nil
}

// claimString renders a claim as API Gateway passes it: strings as they
// are, numbers as their text, and other values as Go's fmt prints them,
// which is how an array claim arrives: "[admin editors]".
func claimString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}

// JWTAuthorizer is requestContext.authorizer of an event whose token a
// JWT authorizer accepted.
type JWTAuthorizer struct {
	JWT JWTDescription `json:"jwt"`
}

// JWTDescription is requestContext.authorizer.jwt: the token's claims and
// the scopes of its scope claim.
type JWTDescription struct {
	Claims map[string]string `json:"claims"`
	Scopes []string          `json:"scopes"`
}

func newJWTAuthorizer(claims map[string]string) *JWTAuthorizer {
	return &JWTAuthorizer{JWT: JWTDescription{Claims: claims, Scopes: strings.Fields(claims["scope"])}}
}

// unauthorized is API Gateway's answer to a missing or refused token.
func unauthorized(w http.ResponseWriter) int {
	return message(w, http.StatusUnauthorized, "Unauthorized")
}
