package secret

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
)

const turnstileSecret = "0x4AAAAAAAsecretSECRETsecret"

func TestParseTurnstileSecret(t *testing.T) {
	tests := []struct {
		name, in string
		want     Value
	}{
		{"bare key has none", keyA, Value{APIKey: keyA}},
		{"api_key only", `{"api_key":"` + keyA + `"}`, Value{APIKey: keyA}},
		{"both", `{"api_key":"` + keyA + `","turnstile_secret":"` + turnstileSecret + `"}`, Value{APIKey: keyA, TurnstileSecret: turnstileSecret}},
		{"both, padded", `{"turnstile_secret":" ` + turnstileSecret + "\\n\",\"api_key\":\"" + keyA + `"}`, Value{APIKey: keyA, TurnstileSecret: turnstileSecret}},
		{"empty turnstile_secret is none", `{"api_key":"` + keyA + `","turnstile_secret":""}`, Value{APIKey: keyA}},
		{"null turnstile_secret is none", `{"api_key":"` + keyA + `","turnstile_secret":null}`, Value{APIKey: keyA}},
		{"test secret key", `{"api_key":"` + keyA + `","turnstile_secret":"1x0000000000000000000000000000000AA"}`, Value{APIKey: keyA, TurnstileSecret: "1x0000000000000000000000000000000AA"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got != tt.want {
				t.Errorf("Parse = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseTurnstileSecretRefused(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"number", `{"api_key":"` + keyA + `","turnstile_secret":42}`, `"turnstile_secret" is not a string`},
		{"object", `{"api_key":"` + keyA + `","turnstile_secret":{"v":"` + turnstileSecret + `"}}`, `"turnstile_secret" is not a string`},
		{"spaces inside", `{"api_key":"` + keyA + `","turnstile_secret":"0x4AAA AAAA"}`, "Turnstile secret key with spaces"},
		{"too long", `{"api_key":"` + keyA + `","turnstile_secret":"` + strings.Repeat("x", 513) + `"}`, "Turnstile secret key longer than 512"},
		{"turnstile only", `{"turnstile_secret":"` + turnstileSecret + `"}`, `without an "api_key"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse error = %v, want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "0x4AAA") {
				t.Errorf("the error quotes the secret: %v", err)
			}
		})
	}
}

func TestTurnstileSecretSharesTheCachedRead(t *testing.T) {
	sm := newFakeSM(t, `{"api_key":"`+keyA+`","turnstile_secret":"`+turnstileSecret+`"}`)
	c := New(sm.getter(), secretID, time.Minute, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx := context.Background()
	ts, err := c.TurnstileSecret(ctx)
	if err != nil || ts != turnstileSecret {
		t.Fatalf("TurnstileSecret = %q, %v", ts, err)
	}
	if k, err := c.Key(ctx); err != nil || k != keyA {
		t.Fatalf("Key = %q, %v", k, err)
	}
	if ts, _ := c.TurnstileSecret(ctx); ts != turnstileSecret {
		t.Fatalf("TurnstileSecret again = %q", ts)
	}
	if n := sm.count(); n != 1 {
		t.Errorf("GetSecretValue called %d times, want 1 for the key and the Turnstile secret together", n)
	}
}

func TestTurnstileSecretMissing(t *testing.T) {
	sm := newFakeSM(t, `{"api_key":"`+keyA+`"}`)
	c := New(sm.getter(), secretID, time.Minute, slog.New(slog.NewTextHandler(io.Discard, nil)))
	_, err := c.TurnstileSecret(context.Background())
	if !errors.Is(err, ErrNoTurnstileSecret) || errors.Is(err, ErrUnavailable) {
		t.Fatalf("TurnstileSecret error = %v, want ErrNoTurnstileSecret", err)
	}
	if k, err := c.Key(context.Background()); err != nil || k != keyA {
		t.Fatalf("Key = %q, %v: a secret without turnstile_secret still serves the API key", k, err)
	}
}

func TestTurnstileSecretUnreadable(t *testing.T) {
	sm := newFakeSM(t, "")
	sm.set("", errors.New("connection refused"))
	c := New(sm.getter(), secretID, time.Minute, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if _, err := c.TurnstileSecret(context.Background()); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("TurnstileSecret error = %v, want ErrUnavailable", err)
	}
}
