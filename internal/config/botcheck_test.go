package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestBotCheckDefaultsOff(t *testing.T) {
	c, err := Load(env(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.BotCheck.On() || c.BotCheck.Mode != BotCheckOff {
		t.Errorf("BotCheck = %+v, want off by default", c.BotCheck)
	}
	if c.BotCheck.VerifyURL != "https://challenges.cloudflare.com/turnstile/v0/siteverify" || c.BotCheck.Timeout != 2*time.Second {
		t.Errorf("BotCheck = %+v, want Cloudflare's siteverify and 2s", c.BotCheck)
	}
}

func TestBotCheckEveryVariable(t *testing.T) {
	c, err := Load(env(t, map[string]string{
		"BOT_CHECK":            " Enforce ",
		"TURNSTILE_VERIFY_URL": "http://127.0.0.1:9000/turnstile/v0/siteverify",
		"TURNSTILE_HOSTNAMES":  "www.Example.com, example.com,www.example.com",
		"TURNSTILE_ACTION":     "get-token",
		"BOT_CHECK_TIMEOUT":    "750ms",
		"ALLOWED_ORIGINS":      "https://app.example.org",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := BotCheck{
		Mode:      BotCheckEnforce,
		VerifyURL: "http://127.0.0.1:9000/turnstile/v0/siteverify",
		Hostnames: []string{"www.example.com", "example.com"},
		Action:    "get-token",
		Timeout:   750 * time.Millisecond,
	}
	if !reflect.DeepEqual(c.BotCheck, want) {
		t.Errorf("BotCheck = %+v\nwant       %+v", c.BotCheck, want)
	}
}

func TestBotCheckHostnamesFromOrigins(t *testing.T) {
	c, err := Load(env(t, map[string]string{
		"BOT_CHECK":       "monitor",
		"ALLOWED_ORIGINS": "https://www.example.com, http://localhost:8000, https://www.example.com:8443, http://[::1]:3000",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"www.example.com", "localhost", "::1"}; !reflect.DeepEqual(c.BotCheck.Hostnames, want) {
		t.Errorf("Hostnames = %q, want %q", c.BotCheck.Hostnames, want)
	}
	if !c.BotCheck.On() {
		t.Error("monitor is not on")
	}
}

func TestBotCheckRefused(t *testing.T) {
	tests := []struct {
		name string
		vars map[string]string
		want string // in the error
	}{
		{"unknown mode", map[string]string{"BOT_CHECK": "strict"}, `BOT_CHECK: "strict" is not one of off, monitor, enforce`},
		{"plain http elsewhere", map[string]string{"TURNSTILE_VERIFY_URL": "http://challenges.cloudflare.com/turnstile/v0/siteverify"}, "TURNSTILE_VERIFY_URL: http://challenges.cloudflare.com must use https://"},
		{"url with credentials", map[string]string{"TURNSTILE_VERIFY_URL": "https://user:pw@example.com/x"}, "TURNSTILE_VERIFY_URL: is not a URL such as https://challenges.cloudflare.com"},
		{"bad timeout", map[string]string{"BOT_CHECK_TIMEOUT": "2"}, "BOT_CHECK_TIMEOUT:"},
		{"zero timeout", map[string]string{"BOT_CHECK_TIMEOUT": "0s"}, "BOT_CHECK_TIMEOUT:"},
		{"hostname with scheme", map[string]string{"TURNSTILE_HOSTNAMES": "https://www.example.com"}, "TURNSTILE_HOSTNAMES:"},
		{"hostname wildcard", map[string]string{"TURNSTILE_HOSTNAMES": "*.example.com"}, "TURNSTILE_HOSTNAMES:"},
		{"action with spaces", map[string]string{"TURNSTILE_ACTION": "get token"}, "TURNSTILE_ACTION:"},
		{"action too long", map[string]string{"TURNSTILE_ACTION": strings.Repeat("a", 33)}, "TURNSTILE_ACTION: is longer than 32"},
		{"on with any origin and no hostnames", map[string]string{"BOT_CHECK": "enforce", "ALLOWED_ORIGINS": "*"}, "TURNSTILE_HOSTNAMES: is required"},
		{"on with no origin and no hostnames", map[string]string{"BOT_CHECK": "monitor"}, "TURNSTILE_HOSTNAMES: is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(env(t, tt.vars))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Load error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestBotCheckOffNeedsNoHostnames(t *testing.T) {
	if _, err := Load(env(t, map[string]string{"BOT_CHECK": "off", "ALLOWED_ORIGINS": "*"})); err != nil {
		t.Fatalf("Load: %v", err)
	}
	c, err := Load(env(t, map[string]string{"BOT_CHECK": "enforce", "ALLOWED_ORIGINS": "*", "TURNSTILE_HOSTNAMES": "example.com"}))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if want := []string{"example.com"}; !reflect.DeepEqual(c.BotCheck.Hostnames, want) {
		t.Errorf("Hostnames = %q, want %q", c.BotCheck.Hostnames, want)
	}
}
