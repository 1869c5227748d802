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

// ClaimAvatars reads the avatar IDs a claim value lists. It takes exactly
// three forms, each read on its own, never mixed:
//   - a JSON array of strings or numbers (`["42","43"]`, `[42,43]`: a
//     string claim holding JSON): each item taken whole;
//   - API Gateway's rendering of an array claim, bracketed and separated by
//     single spaces (`[42 43]`);
//   - a plain string: one ID, or IDs separated by commas ("42,43";
//     spaces around an ID are ignored).
//
// An item that is not a bare avatar ID ("x,42", "x 42", "") grants
// nothing. API Gateway renders ["x 42"] and ["x", "42"] alike, so in its
// bracketed form "x 42" reads as two items; nothing else is split.
func ClaimAvatars(v string) []string {
	var items []string
	switch {
	case strings.HasPrefix(v, "[") && strings.HasSuffix(v, "]"):
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
			items = strings.Split(v[1:len(v)-1], " ")
		}
	default:
		for s := range strings.SplitSeq(v, ",") {
			items = append(items, strings.TrimSpace(s))
		}
	}
	var out []string
	for _, s := range items {
		if config.ValidAvatarID(s) && !slices.Contains(out, s) {
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
