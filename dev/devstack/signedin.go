package devstack

import (
	"errors"
	"time"

	"github.com/trulience-token/trulience-token/dev/frontdoor"
)

// The JWT authorizer of a signed-in stack (Options.SignedIn), standing for
// template.yaml's JwtIssuer and JwtAudience.
const (
	JWTIssuer   = "https://login.example.com/"
	JWTAudience = "trulience-token-local"
)

// startJWT makes the front door's JWT authorizer for opts.SignedIn.
func (s *Stack) startJWT(opts Options) error {
	if !opts.SignedIn {
		return nil
	}
	var err error
	s.JWT, err = frontdoor.NewJWTAuth(JWTIssuer, JWTAudience)
	return err
}

// cors is the API's CORS configuration: as template.yaml's, it allows the
// authorization header in signed-in mode.
func (s *Stack) cors() *frontdoor.CORS {
	if s.JWT != nil {
		return frontdoor.TemplateCORS(s.AllowedOrigins, "content-type", "authorization")
	}
	return frontdoor.TemplateCORS(s.AllowedOrigins)
}

// BearerToken mints a token the front door accepts for a user sub, valid
// for ttl, with extra claims (AVATAR_CLAIM's, say). Signed-in stacks only.
func (s *Stack) BearerToken(sub string, ttl time.Duration, claims map[string]any) (string, error) {
	if s.JWT == nil {
		return "", errors.New("devstack: not a signed-in stack (Options.SignedIn)")
	}
	c := map[string]any{"sub": sub}
	for k, v := range claims {
		c[k] = v
	}
	return s.JWT.Mint(c, ttl)
}
