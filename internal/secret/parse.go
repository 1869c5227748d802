package secret

import (
	"encoding/json"
	"errors"
	"strings"
)

// KeyPrefix starts every Trulience API key.
const KeyPrefix = "tru_"

// Value is what the secret holds: the Trulience API key and, for the bot
// check, the Turnstile secret key.
type Value struct {
	// APIKey is the Trulience API key.
	APIKey string
	// TurnstileSecret is the Turnstile secret key, "" when the secret has none.
	TurnstileSecret string
}

// ParseKey extracts the API key from a SecretString: either the bare key or a
// JSON object with the key under "api_key". Errors never quote the value.
func ParseKey(s string) (string, error) {
	v, err := Parse(s)
	return v.APIKey, err
}

// Parse reads a SecretString: the bare API key, or a JSON object with the
// key under "api_key" and, optionally, the Turnstile secret key under
// "turnstile_secret". Errors never quote the value.
func Parse(s string) (Value, error) {
	var v Value
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "{") {
		var obj struct {
			APIKey          *string         `json:"api_key"`
			TurnstileSecret json.RawMessage `json:"turnstile_secret"`
		}
		if err := json.Unmarshal([]byte(s), &obj); err != nil {
			return v, errors.New(`SecretString looks like JSON but does not parse as an object with an "api_key" string`)
		}
		if obj.APIKey == nil {
			return v, errors.New(`SecretString is JSON without an "api_key" field`)
		}
		s = strings.TrimSpace(*obj.APIKey)
		if len(obj.TurnstileSecret) > 0 && string(obj.TurnstileSecret) != "null" {
			var ts string
			if json.Unmarshal(obj.TurnstileSecret, &ts) != nil {
				return v, errors.New(`SecretString's "turnstile_secret" is not a string`)
			}
			if ts = strings.TrimSpace(ts); ts != "" {
				if err := checkToken(ts, "Turnstile secret key"); err != nil {
					return v, err
				}
			}
			v.TurnstileSecret = ts
		}
	}
	switch {
	case s == "":
		return v, errors.New("SecretString holds an empty API key")
	case !strings.HasPrefix(s, KeyPrefix):
		return v, errors.New(`SecretString does not hold a Trulience API key (it must start with "tru_"): store the key with scripts/put-api-key.sh`)
	}
	if err := checkToken(s, "API key"); err != nil {
		return v, err
	}
	v.APIKey = s
	return v, nil
}

// checkToken refuses a credential that is too long or holds spaces or
// non-ASCII characters; what names it in the error.
func checkToken(s, what string) error {
	if len(s) > 512 {
		return errors.New("SecretString holds " + article(what) + " longer than 512 bytes")
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return errors.New("SecretString holds " + article(what) + " with spaces or non-ASCII characters")
		}
	}
	return nil
}

func article(what string) string {
	if strings.HasPrefix(what, "A") {
		return "an " + what
	}
	return "a " + what
}
