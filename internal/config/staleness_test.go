package config

import (
	"strings"
	"testing"
	"time"
)

func TestLoadMaxKeyStaleness(t *testing.T) {
	good := map[string]time.Duration{"2h": 2 * time.Hour, " 90s ": 90 * time.Second, "0s": 0}
	for v, want := range good {
		c, err := Load(env(t, map[string]string{"MAX_KEY_STALENESS": v}))
		if err != nil || c.MaxKeyStaleness != want {
			t.Errorf("MAX_KEY_STALENESS=%q: got %v, %v; want %v", v, c.MaxKeyStaleness, err, want)
		}
	}
	for _, v := range []string{"1", "-1m", "an hour"} {
		_, err := Load(env(t, map[string]string{"MAX_KEY_STALENESS": v}))
		if err == nil || !strings.HasPrefix(err.Error(), "MAX_KEY_STALENESS: ") || !strings.Contains(err.Error(), v) {
			t.Errorf("MAX_KEY_STALENESS=%q: error %v, want one naming the variable and the value", v, err)
		}
	}
}
