package config

import (
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"
)

// env returns a getenv over vars, starting from a minimal valid environment.
// A value of "-" removes the variable.
func env(t *testing.T, vars map[string]string) func(string) string {
	t.Helper()
	m := map[string]string{
		"TRULIENCE_SECRET_ID": "trulience/api-key",
		"ALLOWED_AVATAR_IDS":  "4386676996480451678",
	}
	for k, v := range vars {
		if v == "-" {
			delete(m, k)
			continue
		}
		m[k] = v
	}
	return func(k string) string { return m[k] }
}

func TestLoadDefaults(t *testing.T) {
	c, err := Load(env(t, nil))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := Config{
		SecretID: "trulience/api-key",
		APIURL:   "https://trulience.com",
		Avatars: Avatars{
			IDs:     []string{"4386676996480451678"},
			Default: "4386676996480451678",
		},
		SecretTTL:        5 * time.Minute,
		UpstreamTimeout:  3 * time.Second,
		LogLevel:         slog.LevelInfo,
		BotCheck:         BotCheck{Mode: BotCheckOff, VerifyURL: DefaultTurnstileVerifyURL, Timeout: 2 * time.Second},
		MaxKeyStaleness:  time.Hour,
		Limits:           Limits{Timeout: DefaultLimitsTimeout, FailOpen: true},
		MetricsNamespace: DefaultMetricsNamespace,
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("Load() = %+v\nwant     %+v", c, want)
	}
	if c.Origins.Any || len(c.Origins.List) != 0 {
		t.Errorf("Origins = %+v, want none allowed by default", c.Origins)
	}
}

func TestLoadEveryVariable(t *testing.T) {
	c, err := Load(env(t, map[string]string{
		"TRULIENCE_SECRET_ID": " arn:aws:secretsmanager:eu-west-1:123456789012:secret:trulience-AbCdEf ",
		"TRULIENCE_API_URL":   "https://api.example.com/v1/",
		"ALLOWED_AVATAR_IDS":  " 111 , 222,111 ,,333",
		"ALLOWED_ORIGINS":     "https://www.example.com, http://localhost:8000",
		"SECRET_TTL":          "90s",
		"UPSTREAM_TIMEOUT":    "2500ms",
		"LOG_LEVEL":           "debug",
		"MAX_KEY_STALENESS":   "15m",
	}))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := Config{
		SecretID:         "arn:aws:secretsmanager:eu-west-1:123456789012:secret:trulience-AbCdEf",
		APIURL:           "https://api.example.com/v1",
		Avatars:          Avatars{IDs: []string{"111", "222", "333"}, Default: "111"},
		Origins:          Origins{List: []string{"https://www.example.com", "http://localhost:8000"}},
		SecretTTL:        90 * time.Second,
		UpstreamTimeout:  2500 * time.Millisecond,
		LogLevel:         slog.LevelDebug,
		BotCheck:         c.BotCheck, // botcheck_test.go checks it
		MaxKeyStaleness:  15 * time.Minute,
		Limits:           Limits{Timeout: DefaultLimitsTimeout, FailOpen: true},
		MetricsNamespace: DefaultMetricsNamespace,
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("Load() = %+v\nwant     %+v", c, want)
	}
}

func TestLoadRequired(t *testing.T) {
	tests := []struct {
		name string
		vars map[string]string
		want string
	}{
		{"secret id unset", map[string]string{"TRULIENCE_SECRET_ID": "-"}, "TRULIENCE_SECRET_ID"},
		{"secret id blank", map[string]string{"TRULIENCE_SECRET_ID": "   "}, "TRULIENCE_SECRET_ID"},
		{"avatars unset", map[string]string{"ALLOWED_AVATAR_IDS": "-"}, "ALLOWED_AVATAR_IDS"},
		{"avatars only commas", map[string]string{"ALLOWED_AVATAR_IDS": " , ,"}, "ALLOWED_AVATAR_IDS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(env(t, tt.vars))
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "required") {
				t.Errorf("error %q does not say %s is required", err, tt.want)
			}
		})
	}
}

func TestLoadAPIURL(t *testing.T) {
	tests := []struct {
		in, want string // want "" means refused
	}{
		{"", "https://trulience.com"},
		{"  ", "https://trulience.com"},
		{"https://trulience.com", "https://trulience.com"},
		{"https://trulience.com/", "https://trulience.com"},
		{"HTTPS://trulience.com", "https://trulience.com"},
		{"https://trulience.com:8443/base/", "https://trulience.com:8443/base"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"http://127.0.0.1:8080/", "http://127.0.0.1:8080"},
		{"http://localhost:9000/stand-in/", "http://localhost:9000/stand-in"},
		{"http://LOCALHOST:9000", "http://localhost:9000"},
		// The host in lower case, as earlyconn finds its connection by the
		// address net/http dials; the path keeps its case.
		{"https://API.Trulience.COM/Base/", "https://api.trulience.com/Base"},
		{"https://[FE80::1%25Eth0]:8443", "https://[fe80::1%25Eth0]:8443"},
		{"http://[::1]:9000", "http://[::1]:9000"},
		{"http://trulience.com", ""},
		{"http://example.com", ""},
		{"http://localhost.example.com", ""},
		{"http://127.0.0.1.nip.io", ""},
		{"http://10.0.0.1:8080", ""},
		{"https://user:pass@trulience.com", ""},
		{"http://user@127.0.0.1:8080", ""},
		{"https://trulience.com?x=1", ""},
		{"https://trulience.com#frag", ""},
		{"ftp://127.0.0.1", ""},
		{"trulience.com", ""},
		{"localhost:8080", ""},
		{"127.0.0.1:8080", ""},
		{"https://", ""},
		{"://nothing", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			c, err := Load(env(t, map[string]string{"TRULIENCE_API_URL": tt.in}))
			if tt.want == "" {
				if err == nil {
					t.Fatalf("Load accepted %q as %q, want an error", tt.in, c.APIURL)
				}
				if !strings.HasPrefix(err.Error(), "TRULIENCE_API_URL: ") {
					t.Errorf("error %q does not name TRULIENCE_API_URL", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if c.APIURL != tt.want {
				t.Errorf("APIURL = %q, want %q", c.APIURL, tt.want)
			}
		})
	}
}

func TestLoadAPIURLPlainHTTPErrorNamesTheRule(t *testing.T) {
	_, err := Load(env(t, map[string]string{"TRULIENCE_API_URL": "http://example.com"}))
	if err == nil || !strings.Contains(err.Error(), "https://") {
		t.Fatalf("error %v does not explain that https:// is required", err)
	}
}

func TestLoadDurations(t *testing.T) {
	tests := []struct {
		name, value string
		ttl, up     time.Duration // expected when accepted
		ok          bool
	}{
		{"minutes", "10m", 10 * time.Minute, 10 * time.Minute, true},
		{"seconds with spaces", " 30s ", 30 * time.Second, 30 * time.Second, true},
		{"composite", "1m30s", 90 * time.Second, 90 * time.Second, true},
		{"no unit", "5", 0, 0, false},
		{"word", "five minutes", 0, 0, false},
		{"negative", "-1s", 0, 0, false},
		{"garbage", "5x", 0, 0, false},
	}
	for _, tt := range tests {
		for _, name := range []string{"SECRET_TTL", "UPSTREAM_TIMEOUT"} {
			t.Run(name+"/"+tt.name, func(t *testing.T) {
				c, err := Load(env(t, map[string]string{name: tt.value}))
				if !tt.ok {
					if err == nil {
						t.Fatalf("Load accepted %s=%q", name, tt.value)
					}
					if !strings.HasPrefix(err.Error(), name+": ") || !strings.Contains(err.Error(), tt.value) {
						t.Errorf("error %q does not name %s and its value", err, name)
					}
					return
				}
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				got, want := c.SecretTTL, tt.ttl
				if name == "UPSTREAM_TIMEOUT" {
					got, want = c.UpstreamTimeout, tt.up
				}
				if got != want {
					t.Errorf("%s = %v, want %v", name, got, want)
				}
			})
		}
	}
}

func TestLoadZeroDurations(t *testing.T) {
	// SECRET_TTL=0 disables caching, which is a legitimate (if costly) choice;
	// an upstream timeout of zero would fail every call, so it is refused.
	c, err := Load(env(t, map[string]string{"SECRET_TTL": "0s"}))
	if err != nil || c.SecretTTL != 0 {
		t.Errorf("SECRET_TTL=0s: got %v, %v; want 0, nil", c.SecretTTL, err)
	}
	if _, err := Load(env(t, map[string]string{"UPSTREAM_TIMEOUT": "0s"})); err == nil {
		t.Error("UPSTREAM_TIMEOUT=0s accepted, want an error")
	}
}

func TestLoadLogLevel(t *testing.T) {
	tests := []struct {
		in   string
		want slog.Level
		ok   bool
	}{
		{"", slog.LevelInfo, true},
		{"debug", slog.LevelDebug, true},
		{"info", slog.LevelInfo, true},
		{"warn", slog.LevelWarn, true},
		{"error", slog.LevelError, true},
		{"DEBUG", slog.LevelDebug, true},
		{"Warn", slog.LevelWarn, true},
		{"verbose", 0, false},
		{"trace", 0, false},
		{"warning", 0, false},
		{"fatal", 0, false},
		{"0", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			c, err := Load(env(t, map[string]string{"LOG_LEVEL": tt.in}))
			if !tt.ok {
				if err == nil {
					t.Fatalf("LOG_LEVEL=%q accepted as %v", tt.in, c.LogLevel)
				}
				if !strings.HasPrefix(err.Error(), "LOG_LEVEL: ") {
					t.Errorf("error %q does not name LOG_LEVEL", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if c.LogLevel != tt.want {
				t.Errorf("LogLevel = %v, want %v", c.LogLevel, tt.want)
			}
		})
	}
}

func TestLoadReportsEveryProblemTogether(t *testing.T) {
	_, err := Load(env(t, map[string]string{
		"TRULIENCE_SECRET_ID": "-",
		"TRULIENCE_API_URL":   "http://example.com",
		"ALLOWED_AVATAR_IDS":  "abc",
		"ALLOWED_ORIGINS":     "https://example.com/path",
		"SECRET_TTL":          "soon",
		"UPSTREAM_TIMEOUT":    "-5s",
		"LOG_LEVEL":           "loud",
		"DAILY_TOKEN_LIMIT":   "lots",
		"METRICS_NAMESPACE":   "AWS/Lambda",
	}))
	if err == nil {
		t.Fatal("Load succeeded on a broken environment")
	}
	lines := strings.Split(err.Error(), "\n")
	names := []string{"TRULIENCE_SECRET_ID", "TRULIENCE_API_URL", "ALLOWED_AVATAR_IDS", "ALLOWED_ORIGINS", "SECRET_TTL", "UPSTREAM_TIMEOUT", "LOG_LEVEL", "DAILY_TOKEN_LIMIT", "METRICS_NAMESPACE"}
	if len(lines) != len(names) {
		t.Errorf("got %d problems, want %d:\n%v", len(lines), len(names), err)
	}
	for _, n := range names {
		if !strings.Contains(err.Error(), n+": ") {
			t.Errorf("error does not report %s:\n%v", n, err)
		}
	}
}

// The configuration error is logged at start-up. A URL refused because it
// carries credentials (userinfo or a query holding the key) must not be
// echoed, or the log gets the very secret the function never logs.
func TestLoadAPIURLErrorDoesNotEchoCredentials(t *testing.T) {
	for _, v := range []string{
		"https://tru_live_LEAKED@trulience.com",
		"https://user:tru_live_LEAKED@trulience.com",
		"https://trulience.com/?x-api-key=tru_live_LEAKED",
	} {
		t.Run(v, func(t *testing.T) {
			_, err := Load(env(t, map[string]string{"TRULIENCE_API_URL": v}))
			if err == nil {
				t.Fatalf("Load accepted %q", v)
			}
			if strings.Contains(err.Error(), "tru_live_LEAKED") {
				t.Errorf("error quotes the credentials it refuses: %v", err)
			}
		})
	}
}
