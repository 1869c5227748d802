package limits

import (
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadOffByDefault(t *testing.T) {
	s, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if s.On() || !s.FailOpen || s.Timeout != DefaultTimeout {
		t.Errorf("defaults: %+v", s)
	}
}

func TestLoad(t *testing.T) {
	s, err := Load(env(map[string]string{
		"CLIENT_TOKEN_LIMIT": "5/10m", "DAILY_TOKEN_LIMIT": "1000", "LIMITS_TABLE": "stack-limits",
		"LIMITS_TIMEOUT": "250ms", "LIMITS_FAIL_MODE": "closed", "LIMITS_HASH_KEY": "k",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := Settings{Client: Rate{5, 10 * time.Minute}, Daily: 1000, Table: "stack-limits", Timeout: 250 * time.Millisecond, HashKey: "k"}
	if s != want {
		t.Errorf("got %+v, want %+v", s, want)
	}
}

func TestLoadRefused(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want []string // each variable named in the error
	}{
		{map[string]string{"CLIENT_TOKEN_LIMIT": "5"}, []string{"CLIENT_TOKEN_LIMIT"}},
		{map[string]string{"CLIENT_TOKEN_LIMIT": "5/10m"}, []string{"LIMITS_TABLE"}},
		{map[string]string{"DAILY_TOKEN_LIMIT": "0", "LIMITS_TABLE": "t"}, []string{"DAILY_TOKEN_LIMIT"}},
		{map[string]string{"DAILY_TOKEN_LIMIT": "lots", "LIMITS_TIMEOUT": "fast", "LIMITS_FAIL_MODE": "maybe"}, []string{"DAILY_TOKEN_LIMIT", "LIMITS_TIMEOUT", "LIMITS_FAIL_MODE"}},
		{map[string]string{"LIMITS_TIMEOUT": "1ms"}, []string{"LIMITS_TIMEOUT"}},
	}
	for _, tt := range tests {
		_, err := Load(env(tt.env))
		if err == nil {
			t.Errorf("%v: accepted", tt.env)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%v: error %q does not name %s", tt.env, err, w)
			}
		}
	}
}

func TestParseRate(t *testing.T) {
	good := map[string]Rate{"5/10m": {5, 10 * time.Minute}, "1/1s": {1, time.Second}, "100/24h": {100, 24 * time.Hour}, " 3 / 1h ": {3, time.Hour}, "2/90s": {2, 90 * time.Second}}
	for in, want := range good {
		if got, err := ParseRate(in); err != nil || got != want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "5", "0/10m", "-1/10m", "5/", "5/7m", "5/48h", "5/1500ms", "5/0s", "x/10m", "5/10"} {
		if r, err := ParseRate(in); err == nil {
			t.Errorf("ParseRate(%q) = %v, want an error", in, r)
		}
	}
}

func TestWindowsAlignToTheClock(t *testing.T) {
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	tests := []struct {
		now        string
		window     time.Duration
		start, end string
	}{
		{"2025-03-04T10:17:42Z", 10 * time.Minute, "2025-03-04T10:10:00Z", "2025-03-04T10:20:00Z"},
		{"2025-03-04T10:10:00Z", 10 * time.Minute, "2025-03-04T10:10:00Z", "2025-03-04T10:20:00Z"},
		{"2025-03-04T10:09:59.999Z", 10 * time.Minute, "2025-03-04T10:00:00Z", "2025-03-04T10:10:00Z"},
		{"2025-03-04T23:59:59Z", time.Hour, "2025-03-04T23:00:00Z", "2025-03-05T00:00:00Z"},
		{"2025-03-04T10:17:42+02:00", time.Hour, "2025-03-04T08:00:00Z", "2025-03-04T09:00:00Z"},
		{"2025-03-04T10:17:42Z", 24 * time.Hour, "2025-03-04T00:00:00Z", "2025-03-05T00:00:00Z"},
		{"2025-03-04T10:17:42Z", 90 * time.Second, "2025-03-04T10:16:30Z", "2025-03-04T10:18:00Z"},
	}
	for _, tt := range tests {
		start, end := windowOf(at(tt.now), tt.window)
		if !start.Equal(at(tt.start)) || !end.Equal(at(tt.end)) {
			t.Errorf("%s in %v windows: %v to %v, want %s to %s", tt.now, tt.window, start, end, tt.start, tt.end)
		}
	}
	start, end := dayOf(at("2025-12-31T23:30:00-05:00"))
	if !start.Equal(at("2026-01-01T00:00:00Z")) || !end.Equal(at("2026-01-02T00:00:00Z")) {
		t.Errorf("UTC day: %v to %v", start, end)
	}
}
