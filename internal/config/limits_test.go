package config

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// loadLimitsFrom is loadLimits on m, its problems joined.
func loadLimitsFrom(m map[string]string) (Limits, error) {
	var errs []error
	s := loadLimits(func(k string) string { return m[k] }, func(name string, err error) { errs = append(errs, fmt.Errorf("%s: %w", name, err)) })
	return s, errors.Join(errs...)
}

func TestLimitsOffByDefault(t *testing.T) {
	s, err := loadLimitsFrom(nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.On() || !s.FailOpen || s.Timeout != DefaultLimitsTimeout {
		t.Errorf("defaults: %+v", s)
	}
}

func TestLoadLimits(t *testing.T) {
	s, err := loadLimitsFrom(map[string]string{
		"CLIENT_TOKEN_LIMIT": "5/10m", "DAILY_TOKEN_LIMIT": "1000", "LIMITS_TABLE": "stack-limits",
		"LIMITS_TIMEOUT": "250ms", "LIMITS_FAIL_MODE": "closed", "LIMITS_HASH_KEY": "k",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := Limits{Client: Rate{N: 5, Window: 10 * time.Minute}, Daily: 1000, Table: "stack-limits", Timeout: 250 * time.Millisecond, HashKey: "k"}
	if s != want {
		t.Errorf("got %+v, want %+v", s, want)
	}
}

func TestLimitsRefused(t *testing.T) {
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
		_, err := loadLimitsFrom(tt.env)
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
