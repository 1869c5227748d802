package endpoints

import (
	"slices"
	"testing"
)

func TestEarly(t *testing.T) {
	for _, tt := range []struct {
		env  map[string]string
		want []string
	}{
		{nil, []string{Trulience}},
		{map[string]string{"TRULIENCE_API_URL": "https://api.example"}, []string{"https://api.example"}},
		{map[string]string{"BOT_CHECK": "off"}, []string{Trulience}},
		{map[string]string{"BOT_CHECK": "bogus"}, []string{Trulience}},
		{map[string]string{"BOT_CHECK": " Enforce "}, []string{Trulience, TurnstileVerify}},
		{map[string]string{"BOT_CHECK": "monitor", "TURNSTILE_VERIFY_URL": "https://verify.example/x"}, []string{Trulience, "https://verify.example/x"}},
		{map[string]string{"TRULIENCE_API_URL": "  ", "BOT_CHECK": "enforce", "TURNSTILE_VERIFY_URL": " https://verify.example\n"}, []string{Trulience, "https://verify.example"}},
		{map[string]string{"TRULIENCE_API_URL": "https://one.example", "BOT_CHECK": "enforce", "TURNSTILE_VERIFY_URL": "https://one.example"}, []string{"https://one.example"}},
	} {
		getenv := func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok }
		if got := Early(getenv); !slices.Equal(got, tt.want) {
			t.Errorf("Early(%v) = %v, want %v", tt.env, got, tt.want)
		}
	}
}
