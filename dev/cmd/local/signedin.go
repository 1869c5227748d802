package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/trulience-token/trulience-token/dev/devstack"
)

// sampleUser is the sub of the banner's sample bearer token.
const sampleUser = "local-user"

// sampleTTL is how long the banner's sample token is valid: a working day.
const sampleTTL = 12 * time.Hour

// signedInOptions applies -jwt and -avatar-claim.
func signedInOptions(opts *devstack.Options, jwt bool, avatarClaim string) error {
	if avatarClaim != "" && !jwt {
		return errors.New("-avatar-claim reads a claim of the visitor's JWT: add -jwt")
	}
	opts.SignedIn = jwt
	if avatarClaim != "" {
		opts.Env["AVATAR_CLAIM"] = avatarClaim
	}
	return nil
}

// signedInBanner is the banner's part on signed-in mode: the authorizer
// and a sample bearer token (listing every allowed avatar in -avatar-claim),
// and the curl option that sends the token; both "" without -jwt.
func signedInBanner(s *devstack.Stack, avatarClaim string) (section, curl string, err error) {
	if s.JWT == nil {
		return "", "", nil
	}
	claims := map[string]any{}
	if avatarClaim != "" {
		claims[avatarClaim] = s.AvatarIDs
	}
	tok, err := s.BearerToken(sampleUser, sampleTTL, claims)
	if err != nil {
		return "", "", err
	}
	var w strings.Builder
	fmt.Fprintf(&w, `
Signed-in mode: POST /token needs Authorization: Bearer <jwt> (RS256, key made at start)
  Issuer:   %s   (template: JwtIssuer)
  Audience: %s   (template: JwtAudience)
`, s.JWT.Issuer, strings.Join(s.JWT.Audience, ","))
	if avatarClaim != "" {
		fmt.Fprintf(&w, "  AVATAR_CLAIM: %s (the sample token lists %s)\n", avatarClaim, strings.Join(s.AvatarIDs, ", "))
	}
	fmt.Fprintf(&w, "  Sample token (sub %q, valid %v):\n    %s\n", sampleUser, sampleTTL, tok)
	return w.String(), " -H 'Authorization: Bearer " + tok + "'", nil
}
