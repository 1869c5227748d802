package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Lifetimes (seconds) a request's expire_at may ask for.
const (
	// MinExpireAt is the shortest token lifetime a request may ask for.
	MinExpireAt = 60
	// MaxExpireAtLimit is the longest lifetime ever allowed, and the cap
	// when MAX_EXPIRE_AT is unset.
	MaxExpireAtLimit = 3600
	// TrulienceDefaultLifetime is the lifetime Trulience gives a token
	// asked for without expire_at.
	TrulienceDefaultLifetime = 120
)

// maxClaimName bounds AVATAR_CLAIM; namespaced claims (Auth0 requires a
// URL such as https://example.com/avatars) are the longest in use.
const maxClaimName = 256

// loadSignedIn reads the settings of signed-in mode and the lifetime cap:
// AVATAR_CLAIM and MAX_EXPIRE_AT.
func loadSignedIn(getenv func(string) string, c *Config, fail func(string, error)) {
	var err error
	if c.AvatarClaim, err = ParseAvatarClaim(getenv("AVATAR_CLAIM")); err != nil {
		fail("AVATAR_CLAIM", err)
	}
	if c.MaxExpireAt, err = ParseMaxExpireAt(getenv("MAX_EXPIRE_AT")); err != nil {
		fail("MAX_EXPIRE_AT", err)
	}
}

// ParseAvatarClaim parses AVATAR_CLAIM: the name of the JWT claim listing
// the avatars a signed-in user may get ("" when the claim is not used).
func ParseAvatarClaim(v string) (string, error) {
	v = strings.TrimSpace(v)
	if len(v) > maxClaimName {
		return "", fmt.Errorf("is longer than %d characters: it must be the name of a claim, such as avatars or custom:avatars", maxClaimName)
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c <= ' ' || c >= 0x7f || c == ',' || c == '"' {
			return "", errors.New("must be the name of one claim, such as avatars, custom:avatars or https://example.com/avatars (printable ASCII, no spaces, commas or quotes)")
		}
	}
	return v, nil
}

// ParseMaxExpireAt parses MAX_EXPIRE_AT: the longest token lifetime, in
// seconds, a request may ask for with expire_at (60 to 3600). 0, when the
// variable is unset, means the endpoint's own limit of 3600.
func ParseMaxExpireAt(v string) (int, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < MinExpireAt || n > MaxExpireAtLimit {
		return 0, fmt.Errorf("%q is not a whole number of seconds from %d to %d", v, MinExpireAt, MaxExpireAtLimit)
	}
	return n, nil
}

// ExpireAtCap is the longest lifetime a request may ask for.
func (c Config) ExpireAtCap() int {
	if c.MaxExpireAt == 0 {
		return MaxExpireAtLimit
	}
	return c.MaxExpireAt
}
