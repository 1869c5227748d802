package secret

import (
	"encoding/json"
	"errors"
	"strings"
)

// KeyPrefix starts every Trulience API key.
const KeyPrefix = "tru_"

// ParseKey extracts the API key from a SecretString: either the bare key or a
// JSON object with the key under "api_key". Errors never quote the value.
func ParseKey(s string) (string, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "{") {
		var obj struct {
			APIKey *string `json:"api_key"`
		}
		if err := json.Unmarshal([]byte(s), &obj); err != nil {
			return "", errors.New(`SecretString looks like JSON but does not parse as an object with an "api_key" string`)
		}
		if obj.APIKey == nil {
			return "", errors.New(`SecretString is JSON without an "api_key" field`)
		}
		s = strings.TrimSpace(*obj.APIKey)
	}
	switch {
	case s == "":
		return "", errors.New("SecretString holds an empty API key")
	case !strings.HasPrefix(s, KeyPrefix):
		return "", errors.New(`SecretString does not hold a Trulience API key (it must start with "tru_"): store the key with scripts/put-api-key.sh`)
	case len(s) > 512:
		return "", errors.New("SecretString holds an API key longer than 512 bytes")
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return "", errors.New("SecretString holds an API key with spaces or non-ASCII characters")
		}
	}
	return s, nil
}
