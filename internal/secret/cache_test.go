package secret

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"
)

const (
	secretID = "trulience/api-key"
	keyA     = "tru_live_AAAAsecretAAAA"
	keyB     = "tru_live_BBBBsecretBBBB"
)

// getterFunc turns a function into a Getter.
type getterFunc func(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)

func (f getterFunc) GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	return f(ctx, in, opts...)
}

// fakeSM is a Secrets Manager holding one secret: its SecretString, or an
// error every call returns. It counts GetSecretValue calls.
type fakeSM struct {
	t *testing.T

	mu     sync.Mutex
	value  *string
	binary []byte
	err    error
	calls  int
}

func newFakeSM(t *testing.T, value string) *fakeSM {
	t.Helper()
	return &fakeSM{t: t, value: aws.String(value)}
}

func (f *fakeSM) set(value string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.value, f.err = aws.String(value), err
}

func (f *fakeSM) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

func (f *fakeSM) getter() Getter {
	return getterFunc(func(ctx context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.calls++
		if in.SecretId == nil || *in.SecretId != secretID {
			f.t.Errorf("GetSecretValue SecretId = %v, want %q", in.SecretId, secretID)
		}
		if in.VersionId != nil || in.VersionStage != nil {
			f.t.Errorf("GetSecretValue asks for a version (%v, %v); want the current one", in.VersionId, in.VersionStage)
		}
		if f.err != nil {
			return nil, f.err
		}
		return &secretsmanager.GetSecretValueOutput{Name: aws.String(secretID), SecretString: f.value, SecretBinary: f.binary}, nil
	})
}

// clock is a settable time source for Cache.now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// logBuffer collects the JSON log lines of a debug-level logger and checks,
// when the test ends, that no key ever appeared in them.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// records returns the decoded log lines.
func (b *logBuffer) records(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		out = append(out, m)
	}
	return out
}

// newCache returns a cache over sm with a fake clock and a captured
// debug-level log, and asserts at cleanup that neither key was logged.
func newCache(t *testing.T, sm *fakeSM, ttl time.Duration) (*Cache, *clock, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	clk := &clock{t: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}
	c := New(sm.getter(), secretID, ttl, slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	c.now = clk.now
	t.Cleanup(func() {
		for _, k := range []string{keyA, keyB, "AAAAsecret", "BBBBsecret"} {
			if strings.Contains(logs.String(), k) {
				t.Errorf("the log contains key material %q:\n%s", k, logs.String())
			}
		}
	})
	return c, clk, logs
}

// mustKey calls Key and fails the test unless it returns want.
func mustKey(t *testing.T, c *Cache, want string) {
	t.Helper()
	got, err := c.Key(context.Background())
	if err != nil {
		t.Fatalf("Key: %v", err)
	}
	if got != want {
		t.Fatalf("Key = %q, want %q", got, want)
	}
}

// wantCalls fails the test unless sm was called n times.
func wantCalls(t *testing.T, sm *fakeSM, n int) {
	t.Helper()
	if got := sm.count(); got != n {
		t.Fatalf("GetSecretValue called %d times, want %d", got, n)
	}
}

// assertNoKey fails the test if err's message holds a key.
func assertNoKey(t *testing.T, err error) {
	t.Helper()
	for _, k := range []string{keyA, keyB, "AAAAsecret", "BBBBsecret"} {
		if err != nil && strings.Contains(err.Error(), k) {
			t.Errorf("error %q contains key material", err)
		}
	}
}

func TestKeyBothSecretForms(t *testing.T) {
	tests := []struct {
		name, value string
	}{
		{"bare", keyA},
		{"bare with newline", keyA + "\n"},
		{"json", `{"api_key":"` + keyA + `"}`},
		{"json with whitespace", "{ \"api_key\" : \" " + keyA + " \" }\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sm := newFakeSM(t, tt.value)
			c, _, _ := newCache(t, sm, time.Minute)
			mustKey(t, c, keyA)
			wantCalls(t, sm, 1)
		})
	}
}

func TestKeyUnusableSecretIsUnavailable(t *testing.T) {
	tests := []struct {
		name   string
		value  *string
		binary []byte
		want   string // in the error message
	}{
		{"placeholder", aws.String(`{"api_key":"REPLACE_ME: run scripts/put-api-key.sh"}`), nil, "tru_"},
		{"json without api_key", aws.String(`{"apiKey":"` + keyA + `"}`), nil, "api_key"},
		{"empty", aws.String(""), nil, "empty"},
		{"not a trulience key", aws.String("sk_live_AAAAsecretAAAA"), nil, "tru_"},
		{"binary secret", nil, []byte(keyA), "binary"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sm := &fakeSM{t: t, value: tt.value, binary: tt.binary}
			c, _, _ := newCache(t, sm, time.Minute)
			key, err := c.Key(context.Background())
			if !errors.Is(err, ErrUnavailable) {
				t.Fatalf("Key = %q, %v; want ErrUnavailable", key, err)
			}
			if key != "" {
				t.Errorf("Key returned %q with an error", key)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), secretID) {
				t.Errorf("error %q should name the secret and mention %q", err, tt.want)
			}
			assertNoKey(t, err)
			if strings.Contains(err.Error(), "REPLACE_ME") {
				t.Errorf("error %q quotes the secret value", err)
			}
		})
	}
}

func TestKeyAWSErrorsAreUnavailable(t *testing.T) {
	tests := []struct {
		code  string
		fault smithy.ErrorFault
	}{
		{"ResourceNotFoundException", smithy.FaultClient},
		{"AccessDeniedException", smithy.FaultClient},
		{"ThrottlingException", smithy.FaultClient},
		{"InternalServiceError", smithy.FaultServer},
		{"DecryptionFailure", smithy.FaultClient},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			sm := newFakeSM(t, keyA)
			sm.set("", &smithy.GenericAPIError{Code: tt.code, Message: "the service said no", Fault: tt.fault})
			c, _, _ := newCache(t, sm, time.Minute)
			_, err := c.Key(context.Background())
			if !errors.Is(err, ErrUnavailable) {
				t.Fatalf("Key error = %v, want ErrUnavailable", err)
			}
			if !strings.Contains(err.Error(), tt.code) {
				t.Errorf("error %q does not name the AWS error code %s", err, tt.code)
			}
		})
	}
}

func TestKeyWrappedAWSErrorIsUnavailable(t *testing.T) {
	// The SDK wraps API errors in *smithy.OperationError; the code must still be found.
	sm := newFakeSM(t, keyA)
	sm.set("", &smithy.OperationError{
		ServiceID:     "Secrets Manager",
		OperationName: "GetSecretValue",
		Err:           &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not authorized"},
	})
	c, _, _ := newCache(t, sm, time.Minute)
	_, err := c.Key(context.Background())
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "AccessDeniedException") {
		t.Fatalf("Key error = %v, want ErrUnavailable naming AccessDeniedException", err)
	}
}

func TestKeyTimeoutIsUnavailable(t *testing.T) {
	var deadline time.Time
	var hasDeadline bool
	sm := newFakeSM(t, keyA)
	get := sm.getter()
	c, _, _ := newCache(t, sm, time.Minute)
	c.client = getterFunc(func(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
		deadline, hasDeadline = ctx.Deadline()
		if _, err := get.GetSecretValue(ctx, in, opts...); err != nil {
			return nil, err
		}
		<-ctx.Done()
		return nil, fmt.Errorf("operation error Secrets Manager: GetSecretValue, %w", ctx.Err())
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Key(ctx)
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("Key error = %v, want ErrUnavailable saying it timed out", err)
	}
	if !hasDeadline || deadline.Sub(start) > 20*time.Millisecond+time.Second {
		t.Errorf("GetSecretValue ran with deadline %v (set: %v), want the caller's", deadline.Sub(start), hasDeadline)
	}
}

func TestKeyFetchIsBoundedWithoutCallerDeadline(t *testing.T) {
	sm := newFakeSM(t, keyA)
	get := sm.getter()
	c, _, _ := newCache(t, sm, time.Minute)
	c.client = getterFunc(func(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
		dl, ok := ctx.Deadline()
		if !ok || time.Until(dl) > fetchTimeout {
			t.Errorf("GetSecretValue ran without a bound (deadline in %v, set: %v)", time.Until(dl), ok)
		}
		return get.GetSecretValue(ctx, in, opts...)
	})
	mustKey(t, c, keyA)
}

func TestKeyIsCachedForTTL(t *testing.T) {
	sm := newFakeSM(t, keyA)
	c, clk, _ := newCache(t, sm, 5*time.Minute)

	mustKey(t, c, keyA)
	wantCalls(t, sm, 1)
	for range 100 {
		mustKey(t, c, keyA)
	}
	wantCalls(t, sm, 1)

	sm.set(keyB, nil) // rotated in Secrets Manager
	clk.advance(5*time.Minute - time.Nanosecond)
	mustKey(t, c, keyA)
	wantCalls(t, sm, 1)

	clk.advance(time.Nanosecond) // the TTL is over
	mustKey(t, c, keyB)
	wantCalls(t, sm, 2)

	clk.advance(time.Minute)
	mustKey(t, c, keyB)
	wantCalls(t, sm, 2)
}

func TestKeyZeroTTLAlwaysFetches(t *testing.T) {
	sm := newFakeSM(t, keyA)
	c, _, _ := newCache(t, sm, 0)
	for range 3 {
		mustKey(t, c, keyA)
	}
	wantCalls(t, sm, 3)
}

func TestKeyStaleOnError(t *testing.T) {
	tests := []struct {
		name       string
		ttl, retry time.Duration
	}{
		{"long ttl retries after 30s", 5 * time.Minute, 30 * time.Second},
		{"short ttl retries after the ttl", 10 * time.Second, 10 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sm := newFakeSM(t, keyA)
			c, clk, logs := newCache(t, sm, tt.ttl)
			mustKey(t, c, keyA)

			clk.advance(tt.ttl)
			sm.set("", &smithy.GenericAPIError{Code: "InternalServiceError", Message: "boom", Fault: smithy.FaultServer})
			mustKey(t, c, keyA) // the refresh fails: the old key is served
			wantCalls(t, sm, 2)

			var warned bool
			for _, r := range logs.records(t) {
				if r["level"] == "WARN" {
					warned = true
					if r["secret_id"] != secretID || !strings.Contains(fmt.Sprint(r["error"]), "InternalServiceError") {
						t.Errorf("the warning does not name the secret and the cause: %v", r)
					}
				}
			}
			if !warned {
				t.Errorf("no warning logged for the failed refresh:\n%s", logs.String())
			}

			clk.advance(tt.retry - time.Nanosecond)
			mustKey(t, c, keyA) // still backing off: no call
			wantCalls(t, sm, 2)

			clk.advance(time.Nanosecond)
			mustKey(t, c, keyA) // tries again, fails again, still stale
			wantCalls(t, sm, 3)

			sm.set(keyB, nil) // Secrets Manager recovers
			clk.advance(tt.retry)
			mustKey(t, c, keyB)
			wantCalls(t, sm, 4)
		})
	}
}

func TestKeyStaleOnUnusableSecret(t *testing.T) {
	// An operator overwriting the secret with a placeholder must not take the function down either.
	sm := newFakeSM(t, keyA)
	c, clk, _ := newCache(t, sm, time.Minute)
	mustKey(t, c, keyA)
	sm.set(`{"api_key":"REPLACE_ME: run scripts/put-api-key.sh"}`, nil)
	clk.advance(time.Minute)
	mustKey(t, c, keyA)
	wantCalls(t, sm, 2)
}

func TestKeyColdStartFailureRetriesNextCall(t *testing.T) {
	sm := newFakeSM(t, keyA)
	sm.set("", &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"})
	c, _, _ := newCache(t, sm, time.Minute)

	for i := 1; i <= 2; i++ {
		key, err := c.Key(context.Background())
		if !errors.Is(err, ErrUnavailable) || key != "" {
			t.Fatalf("call %d: Key = %q, %v; want ErrUnavailable", i, key, err)
		}
		wantCalls(t, sm, i) // no back-off without a key to fall back on
	}

	sm.set(keyA, nil)
	mustKey(t, c, keyA)
	wantCalls(t, sm, 3)
	mustKey(t, c, keyA)
	wantCalls(t, sm, 3)
}

func TestRefreshBypassesCache(t *testing.T) {
	sm := newFakeSM(t, keyA)
	c, _, logs := newCache(t, sm, 5*time.Minute)
	mustKey(t, c, keyA)

	sm.set(keyB, nil) // rotated; the cache is still fresh
	got, err := c.Refresh(context.Background(), keyA)
	if err != nil || got != keyB {
		t.Fatalf("Refresh = %q, %v; want the new key", got, err)
	}
	wantCalls(t, sm, 2)

	mustKey(t, c, keyB) // the new key is cached from now on
	wantCalls(t, sm, 2)
	if !strings.Contains(logs.String(), "changed") {
		t.Errorf("the rotation is not logged:\n%s", logs.String())
	}
}

func TestRefreshWhenCacheHoldsAnotherKey(t *testing.T) {
	// Another request already picked up the rotated key: the rejected one is
	// stale, so no call is needed.
	sm := newFakeSM(t, keyB)
	c, _, _ := newCache(t, sm, 5*time.Minute)
	mustKey(t, c, keyB)

	got, err := c.Refresh(context.Background(), keyA)
	if err != nil || got != keyB {
		t.Fatalf("Refresh = %q, %v; want the cached key", got, err)
	}
	wantCalls(t, sm, 1)
}

func TestRefreshOnColdCache(t *testing.T) {
	sm := newFakeSM(t, keyB)
	c, _, _ := newCache(t, sm, 5*time.Minute)
	got, err := c.Refresh(context.Background(), keyA)
	if err != nil || got != keyB {
		t.Fatalf("Refresh = %q, %v; want %q", got, err, keyB)
	}
	wantCalls(t, sm, 1)
	mustKey(t, c, keyB)
	wantCalls(t, sm, 1)
}

func TestRefreshIsRateLimited(t *testing.T) {
	sm := newFakeSM(t, keyA) // Trulience refuses keyA but the secret was not rotated
	c, clk, _ := newCache(t, sm, 5*time.Minute)
	mustKey(t, c, keyA)

	refresh := func(wantTotal int) {
		t.Helper()
		got, err := c.Refresh(context.Background(), keyA)
		if err != nil || got != keyA {
			t.Fatalf("Refresh = %q, %v; want the unchanged key", got, err)
		}
		wantCalls(t, sm, wantTotal)
	}
	refresh(2)
	clk.advance(5 * time.Second)
	refresh(2) // second forced refresh within 10 s: no call
	clk.advance(5*time.Second - time.Nanosecond)
	refresh(2)
	clk.advance(time.Nanosecond)
	refresh(3) // 10 s after the first forced refresh
}

func TestRefreshFailure(t *testing.T) {
	sm := newFakeSM(t, keyA)
	c, _, _ := newCache(t, sm, 5*time.Minute)
	mustKey(t, c, keyA)

	sm.set("", &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"})
	got, err := c.Refresh(context.Background(), keyA)
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Refresh = %q, %v; want ErrUnavailable", got, err)
	}
	if got != "" {
		t.Errorf("Refresh returned %q with an error", got)
	}
	assertNoKey(t, err)
	wantCalls(t, sm, 2)
	mustKey(t, c, keyA) // a transient failure: the cached key is still there for Key
	wantCalls(t, sm, 2)
}

func TestErrorsAndLogsNeverHoldTheKey(t *testing.T) {
	// Walk every path of the cache with a debug logger; newCache's cleanup
	// checks the captured log, and each error is checked here.
	sm := newFakeSM(t, `{"api_key":"`+keyA+`"}`)
	c, clk, _ := newCache(t, sm, time.Minute)
	ctx := context.Background()
	var errs []error
	keep := func(_ string, err error) { errs = append(errs, err) }

	keep(c.Key(ctx))
	sm.set("", &smithy.GenericAPIError{Code: "InternalServiceError", Message: "boom"})
	clk.advance(time.Minute)
	keep(c.Key(ctx))
	keep(c.Refresh(ctx, keyA))
	sm.set(keyB+" "+keyA, nil) // unusable: contains a space
	clk.advance(time.Minute)
	keep(c.Key(ctx))
	keep(c.Refresh(ctx, keyA))
	sm.set(`{"api_key":"`+keyB+`"`, nil) // truncated JSON
	clk.advance(time.Minute)
	keep(c.Refresh(ctx, keyA))
	sm.set(keyB, nil)
	clk.advance(time.Minute)
	keep(c.Refresh(ctx, keyA))
	keep(c.Key(ctx))

	var failed int
	for _, err := range errs {
		if err != nil {
			failed++
			assertNoKey(t, err)
		}
	}
	if failed == 0 {
		t.Fatal("no path failed: the test does not exercise the error messages")
	}
}

func TestKeyConcurrent(t *testing.T) {
	sm := newFakeSM(t, keyA)
	c, _, _ := newCache(t, sm, time.Minute)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			if k, err := c.Key(context.Background()); err != nil || k != keyA {
				t.Errorf("Key = %q, %v", k, err)
			}
			if k, err := c.Refresh(context.Background(), keyB); err != nil || k != keyA {
				t.Errorf("Refresh = %q, %v", k, err)
			}
		})
	}
	wg.Wait()
	wantCalls(t, sm, 1)
}

func TestKeyNetworkErrorIsUnavailable(t *testing.T) {
	sm := newFakeSM(t, keyA)
	sm.set("", errors.New("dial tcp 127.0.0.1:4566: connect: connection refused"))
	c, _, _ := newCache(t, sm, time.Minute)
	_, err := c.Key(context.Background())
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("Key error = %v, want ErrUnavailable with the cause", err)
	}
}

// A slow Secrets Manager during a TTL refresh must not cost the request its
// deadline: the refresh gives up after refreshTimeout and the stale key serves.
func TestKeySlowRefreshFallsBackToStaleKeyQuickly(t *testing.T) {
	calls := 0
	g := getterFunc(func(ctx context.Context, _ *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
		calls++
		if calls == 1 {
			return &secretsmanager.GetSecretValueOutput{SecretString: aws.String("tru_live_first")}, nil
		}
		<-ctx.Done() // hangs until the cache gives up
		return nil, ctx.Err()
	})
	c := New(g, "id", time.Millisecond, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if _, err := c.Key(context.Background()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Millisecond) // past the TTL
	start := time.Now()
	key, err := c.Key(context.Background())
	if err != nil || key != "tru_live_first" {
		t.Fatalf("Key = %q, %v; want the stale key", key, err)
	}
	if took := time.Since(start); took < refreshTimeout || took > refreshTimeout+time.Second {
		t.Errorf("refresh gave up after %v, want about %v (not the cold-start limit %v)", took, refreshTimeout, fetchTimeout)
	}
}
