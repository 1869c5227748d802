package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/trulience-token/trulience-token/internal/config"
)

// tokenRequest is the parsed request body.
type tokenRequest struct {
	avatarID string // "" when absent
	expireAt int    // 0 when absent
	// turnstileToken is the Turnstile widget's token ("" when absent),
	// accepted even when the bot check is off.
	turnstileToken string
}

// parseBody parses the optional JSON body {"avatar_id": "…", "expire_at": N}.
// It walks tokens instead of unmarshalling so that unknown and duplicate
// fields, numbers for avatar_id and non-integer expire_at are all refused,
// and so that nothing nested is ever descended into.
func parseBody(b []byte) (tokenRequest, *Problem) {
	var tr tokenRequest
	if len(bytes.TrimSpace(b)) == 0 {
		return tr, nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return tr, invalid("the body must be a JSON object such as {\"avatar_id\": \"123\"}")
	}
	seen := map[string]bool{}
	var p *Problem
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return tr, malformed
		}
		name, _ := t.(string)
		if seen[name] {
			return tr, invalid(fmt.Sprintf("field %s appears twice", quoteField(name)))
		}
		seen[name] = true
		v, err := dec.Token()
		if err != nil {
			return tr, malformed
		}
		switch name {
		case "avatar_id":
			s, ok := v.(string)
			if !ok || !config.ValidAvatarID(s) {
				return tr, invalid("avatar_id must be a string of 1 to 32 digits, such as \"4386676996480451678\"")
			}
			tr.avatarID = s
		case "expire_at":
			n, ok := v.(json.Number)
			if !ok || !isDigits(string(n)) || len(n) > 4 {
				return tr, badExpire
			}
			tr.expireAt, _ = strconv.Atoi(string(n))
			if tr.expireAt < 60 || tr.expireAt > 3600 {
				return tr, badExpire
			}
		case "turnstile_token":
			if tr.turnstileToken, p = parseTurnstileToken(v); p != nil {
				return tr, p
			}
		default:
			return tr, invalid(fmt.Sprintf("unknown field %s: the body accepts only avatar_id, expire_at and turnstile_token", quoteField(name)))
		}
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return tr, malformed
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return tr, invalid("the body must hold one JSON object and nothing after it")
	}
	return tr, nil
}

var (
	malformed = invalid("the body is not valid JSON")
	badExpire = invalid("expire_at must be a whole number of seconds from 60 to 3600")
)

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// quoteField quotes a caller's field name for an error message, shortened.
func quoteField(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return strconv.QuoteToASCII(s)
}
