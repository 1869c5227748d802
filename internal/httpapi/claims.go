package httpapi

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/trulience-token/trulience-token/internal/config"
)

// problemAvatarClaim refuses an avatar the signed-in user's avatar claim
// does not list (or a request carrying no such claim).
var problemAvatarClaim = &Problem{Status: http.StatusForbidden, Code: "avatar_not_allowed", Message: "This account may not use that avatar."}

// checkAvatarClaim applies AVATAR_CLAIM: when it is set, the avatar must be
// listed in that claim of the verified JWT. A request without claims (no
// authorizer in front of the function) or without that claim lists no
// avatar, so it is refused: the operator asked for the check, and a
// missing claim must not open the endpoint.
func (h *Handler) checkAvatarClaim(claims map[string]string, avatar string) *Problem {
	if h.cfg.AvatarClaim == "" {
		return nil
	}
	v, ok := claims[h.cfg.AvatarClaim]
	if !ok || !slices.Contains(ClaimAvatars(v), avatar) {
		return problemAvatarClaim
	}
	return nil
}

// ClaimAvatars reads the avatar IDs a claim value lists, in whichever form
// it arrives: one ID ("42"), comma-separated ("42,43" or "42, 43"), a JSON
// array of strings or numbers (`["42","43"]`, `[42,43]`, as an issuer that
// can put only strings in a token writes it), or API Gateway's rendering
// of an array claim (`[42 43]`: bracketed, space-separated). Items that are
// not avatar IDs are dropped: they can match no avatar.
func ClaimAvatars(v string) []string {
	v = strings.TrimSpace(v)
	var items []string
	if strings.HasPrefix(v, "[") && strings.HasSuffix(v, "]") {
		var arr []json.RawMessage
		if json.Unmarshal([]byte(v), &arr) == nil {
			for _, raw := range arr {
				var s string
				if json.Unmarshal(raw, &s) != nil {
					s = string(raw) // a number keeps its digits exactly
				}
				items = append(items, s)
			}
		} else {
			items = strings.FieldsFunc(v[1:len(v)-1], func(r rune) bool { return r == ' ' || r == ',' })
		}
	} else {
		items = strings.Split(v, ",")
	}
	out := items[:0]
	for _, s := range items {
		if s = strings.TrimSpace(s); config.ValidAvatarID(s) && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// subHashLen is how many hex digits of SHA-256(sub) the log keeps: enough
// to tell users apart and to find a known user's requests, not the sub.
const subHashLen = 12

// subHash is the log's stand-in for a signed-in user's sub claim: the first
// 12 hex digits of its SHA-256 (printf %s "$sub" | sha256sum | cut -c1-12).
func subHash(sub string) string {
	sum := sha256.Sum256([]byte(sub))
	return hex.EncodeToString(sum[:])[:subHashLen]
}

// claimsLog is what a request's log line says about its signed-in user:
// the hash of sub, never the sub itself nor the bearer token.
func claimsLog(claims map[string]string) []slog.Attr {
	sub, ok := claims["sub"]
	if !ok || sub == "" {
		return nil
	}
	return []slog.Attr{slog.String("sub_hash", subHash(sub))}
}
