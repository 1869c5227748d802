package httpapi

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/trulience-token/trulience-token/internal/config"
	"github.com/trulience-token/trulience-token/internal/idhash"
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

// subHashLen is how many hex digits of the keyed hash of sub the log
// keeps: enough to tell users apart and to find a known user's requests,
// not the sub.
const subHashLen = 12

// SubHashLabel names the sub_hash's use of the per-deployment secret
// (package idhash).
const SubHashLabel = "trulience-token sub_hash"

// WithSubHash keys the log's sub_hash with the per-deployment secret s
// (LIMITS_HASH_KEY, else the API key). Without it, signed-in requests are
// logged without sub_hash.
func (h *Handler) WithSubHash(s idhash.Secret) *Handler {
	h.subSecret = &s
	return h
}

// subHash is the log's stand-in for a signed-in user's sub claim: the first
// 12 hex digits of HMAC-SHA256(key, sub). Unlike a plain hash, whoever reads
// the log cannot confirm a guessed user ID without the key.
func subHash(key []byte, sub string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(sub))
	return hex.EncodeToString(m.Sum(nil))[:subHashLen]
}

// claimsLog is what a request's log line says about its signed-in user:
// the keyed hash of sub, never the sub itself nor the bearer token.
// sub_hash is "unavailable" when the key's secret cannot be read.
func (h *Handler) claimsLog(ctx context.Context, claims map[string]string) []slog.Attr {
	sub, ok := claims["sub"]
	if !ok || sub == "" || h.subSecret == nil {
		return nil
	}
	secret, err := h.subSecret.Get(ctx)
	if err != nil {
		return []slog.Attr{slog.String("sub_hash", "unavailable")}
	}
	return []slog.Attr{slog.String("sub_hash", subHash(idhash.Key(secret, SubHashLabel), sub))}
}
