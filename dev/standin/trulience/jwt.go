package trulience

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// Claims are the claims of a token minted by the stand-in.
type Claims struct {
	Issuer   string `json:"iss"`
	Subject  string `json:"sub"`
	AvatarID string `json:"avatar_id"`
	IssuedAt int64  `json:"iat"`
	Expires  int64  `json:"exp"`
	ID       string `json:"jti"`
}

var b64 = base64.RawURLEncoding

// mint signs a new HS256 JWT for avatarID valid for lifetime seconds.
func (s *Server) mint(avatarID string, lifetime int) string {
	now := time.Now()
	jti := make([]byte, 16)
	_, _ = rand.Read(jti)
	c := Claims{
		Issuer:   "https://trulience.com",
		Subject:  avatarID,
		AvatarID: avatarID,
		IssuedAt: now.Unix(),
		Expires:  now.Add(time.Duration(lifetime) * time.Second).Unix(),
		ID:       hex.EncodeToString(jti),
	}
	header := b64.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	payload, _ := json.Marshal(c)
	signing := header + "." + b64.EncodeToString(payload)
	return signing + "." + b64.EncodeToString(s.sign(signing))
}

func (s *Server) sign(signing string) []byte {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte(signing))
	return m.Sum(nil)
}

// Verify checks that jwt was signed by this server and returns its claims.
func (s *Server) Verify(jwt string) (Claims, error) {
	var c Claims
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return c, errors.New("standin: not a JWT")
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil || !hmac.Equal(sig, s.sign(parts[0]+"."+parts[1])) {
		return c, errors.New("standin: bad JWT signature")
	}
	payload, err := b64.DecodeString(parts[1])
	if err != nil {
		return c, err
	}
	err = json.Unmarshal(payload, &c)
	return c, err
}
