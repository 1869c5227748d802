package webhook

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"
)

// getter answers GetSecretValue with value, or err.
type getter struct {
	value string
	err   error
	calls int
}

func (g *getter) GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	g.calls++
	if g.err != nil {
		return nil, g.err
	}
	return &secretsmanager.GetSecretValueOutput{SecretString: aws.String(g.value)}, nil
}

func newSecret(g *getter, log *bytes.Buffer) (*Secret, *time.Time) {
	s := NewSecret(g, "stack-webhook-key", slog.New(slog.NewJSONHandler(log, nil)))
	clock := now
	s.now = func() time.Time { return clock }
	return s, &clock
}

func TestSecretMatches(t *testing.T) {
	g := &getter{value: hookSecret + "\n"}
	s, _ := newSecret(g, &bytes.Buffer{})
	for got, want := range map[string]bool{hookSecret: true, hookSecret[:39]: false, hookSecret + "x": false, strings.ToLower(hookSecret): false, "": false} {
		if ok, err := s.Matches(context.Background(), got); err != nil || ok != want {
			t.Errorf("Matches(%d chars) = %v, %v; want %v", len(got), ok, err, want)
		}
	}
	if g.calls != 1 {
		t.Errorf("%d reads, want 1 (cached)", g.calls)
	}
}

func TestSecretCacheAndRefresh(t *testing.T) {
	var log bytes.Buffer
	g := &getter{value: hookSecret}
	s, clock := newSecret(g, &log)
	if ok, _ := s.Matches(context.Background(), hookSecret); !ok {
		t.Fatal("no match")
	}
	*clock = clock.Add(4 * time.Minute)
	g.value = "rotated0123456789"
	if ok, _ := s.Matches(context.Background(), hookSecret); !ok || g.calls != 1 {
		t.Errorf("within the TTL: match %v after %d reads", ok, g.calls)
	}
	*clock = clock.Add(2 * time.Minute)
	if ok, _ := s.Matches(context.Background(), "rotated0123456789"); !ok || g.calls != 2 {
		t.Errorf("after the TTL: match %v after %d reads", ok, g.calls)
	}
	// Throttled: the value read before serves, for up to an hour.
	g.err = &smithy.GenericAPIError{Code: "ThrottlingException", Message: "slow down"}
	*clock = clock.Add(10 * time.Minute)
	if ok, err := s.Matches(context.Background(), "rotated0123456789"); !ok || err != nil {
		t.Errorf("stale: %v, %v", ok, err)
	}
	*clock = clock.Add(time.Hour)
	if _, err := s.Matches(context.Background(), "rotated0123456789"); err == nil {
		t.Error("a value older than an hour served")
	}
	if strings.Contains(log.String(), "rotated0123456789") || strings.Contains(log.String(), hookSecret) {
		t.Errorf("the value is in the log: %s", log.String())
	}
}

func TestSecretRevoked(t *testing.T) {
	g := &getter{value: hookSecret}
	s, clock := newSecret(g, &bytes.Buffer{})
	if _, err := s.Value(context.Background()); err != nil {
		t.Fatal(err)
	}
	g.err = &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "no"}
	*clock = clock.Add(6 * time.Minute)
	if _, err := s.Matches(context.Background(), hookSecret); err == nil {
		t.Error("a revoked secret still matches")
	}
	g.err = nil
	*clock = clock.Add(failureHold)
	if ok, _ := s.Matches(context.Background(), hookSecret); !ok {
		t.Error("no match once access is back")
	}
}

// While no value is held, a failure answers the calls of the next
// failureHold without reading again; after it, a read.
func TestSecretFailureHeld(t *testing.T) {
	g := &getter{value: hookSecret, err: &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "no"}}
	s, clock := newSecret(g, &bytes.Buffer{})
	for i := range 50 {
		if _, err := s.Matches(context.Background(), hookSecret); !errors.Is(err, errSecret) {
			t.Fatalf("call %d: %v, want errSecret", i, err)
		}
	}
	if g.calls != 1 {
		t.Errorf("%d reads for 50 calls, want 1", g.calls)
	}
	*clock = clock.Add(failureHold - time.Millisecond)
	_, _ = s.Value(context.Background())
	if g.calls != 1 {
		t.Errorf("%d reads within failureHold, want 1", g.calls)
	}
	g.err = nil
	*clock = clock.Add(time.Millisecond)
	if ok, err := s.Matches(context.Background(), hookSecret); !ok || err != nil || g.calls != 2 {
		t.Errorf("after failureHold: %v, %v after %d reads", ok, err, g.calls)
	}
}

// A read cut short by the caller's context is not held: the next call reads.
func TestSecretCallerGaveUpNotHeld(t *testing.T) {
	g := &getter{err: context.Canceled}
	s, _ := newSecret(g, &bytes.Buffer{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Value(ctx); err == nil {
		t.Fatal("no error")
	}
	g.err = nil
	g.value = hookSecret
	if v, err := s.Value(context.Background()); v != hookSecret || err != nil {
		t.Errorf("after a cancelled read: %q, %v", v, err)
	}
}

func TestSecretRefusesUnusableValues(t *testing.T) {
	for _, v := range []string{"", "   ", "two words", "caf\u00e9", strings.Repeat("a", 513), "a\x00b"} {
		s, _ := newSecret(&getter{value: v}, &bytes.Buffer{})
		_, err := s.Value(context.Background())
		if !errors.Is(err, errSecret) {
			t.Errorf("%q: %v", v, err)
		}
		if v != "" && strings.TrimSpace(v) != "" && err != nil && strings.Contains(err.Error(), v) {
			t.Errorf("the error quotes the value: %v", err)
		}
	}
}
