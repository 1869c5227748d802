package secret

import (
	"strings"
	"testing"
)

func TestParseKeyAccepted(t *testing.T) {
	const key = "tru_live_9f8e7d6c5b4a"
	tests := []struct {
		name, in string
	}{
		{"bare", key},
		{"bare with newline", key + "\n"},
		{"bare with spaces and tabs", " \t" + key + " \r\n"},
		{"json", `{"api_key":"` + key + `"}`},
		{"json pretty", "{\n  \"api_key\": \"" + key + "\"\n}\n"},
		{"json with leading space", `  {"api_key":"` + key + `"}`},
		{"json value padded", `{"api_key":"  ` + key + `\n"}`},
		{"json with other fields", `{"note":"rotated 2026-11-01","api_key":"` + key + `","owner":"web"}`},
		{"test key", "tru_test_abc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseKey(tt.in)
			if err != nil {
				t.Fatalf("ParseKey: %v", err)
			}
			want := key
			if tt.name == "test key" {
				want = "tru_test_abc"
			}
			if got != want {
				t.Errorf("ParseKey = %q, want %q", got, want)
			}
		})
	}
}

func TestParseKeyRefused(t *testing.T) {
	tests := []struct {
		name, in string
		secret   string // a value that must not appear in the error, "" for none
	}{
		{"empty", "", ""},
		{"whitespace", " \n\t ", ""},
		{"placeholder json", `{"api_key":"REPLACE_ME: run scripts/put-api-key.sh"}`, "REPLACE_ME"},
		{"placeholder bare", "REPLACE_ME", "REPLACE_ME"},
		{"json without api_key", `{"key":"tru_live_abcdef"}`, "tru_live_abcdef"},
		{"json api_key null", `{"api_key":null}`, ""},
		{"json api_key empty", `{"api_key":""}`, ""},
		{"json api_key blank", `{"api_key":"   "}`, ""},
		{"json api_key number", `{"api_key":12345}`, "12345"},
		{"json api_key object", `{"api_key":{"value":"tru_live_nested"}}`, "tru_live_nested"},
		{"malformed json", `{"api_key":"tru_live_broken`, "tru_live_broken"},
		{"json array", `["tru_live_inarray"]`, "tru_live_inarray"},
		{"json string", `"tru_live_quoted"`, "tru_live_quoted"},
		{"other vendor key", "sk_live_0123456789", "sk_live_0123456789"},
		{"upper-case prefix", "TRU_LIVE_0123456789", "TRU_LIVE_0123456789"},
		{"inner space", "tru_live_abc def", "tru_live_abc"},
		{"inner newline", "tru_live_abc\ndef", "tru_live_abc"},
		{"non-ascii", "tru_live_clé", "tru_live_cl"},
		{"too long", "tru_" + strings.Repeat("x", 509), "xxxxxxxx"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseKey(tt.in)
			if err == nil {
				t.Fatalf("ParseKey(%q) = %q, want an error", tt.in, got)
			}
			if tt.secret != "" && strings.Contains(err.Error(), tt.secret) {
				t.Errorf("error %q quotes the secret value", err)
			}
		})
	}
}

func TestParseKeyLengthLimit(t *testing.T) {
	ok := "tru_" + strings.Repeat("x", 508) // 512 bytes
	if _, err := ParseKey(ok); err != nil {
		t.Errorf("a 512-byte key is refused: %v", err)
	}
}

func TestParseKeyPlaceholderExplainsTheFix(t *testing.T) {
	_, err := ParseKey(`{"api_key":"REPLACE_ME: run scripts/put-api-key.sh"}`)
	if err == nil || !strings.Contains(err.Error(), "put-api-key.sh") {
		t.Errorf("error %v does not point at scripts/put-api-key.sh", err)
	}
}
