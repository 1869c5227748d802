package secret

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go"
)

// revocations are the answers that mean access to the secret was taken away,
// worded as Secrets Manager words them.
var revocations = map[string]error{
	"access denied": &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "User: arn:aws:sts::123456789012:assumed-role/r/f is not authorized to perform: secretsmanager:GetSecretValue"},
	"not found":     &smithy.GenericAPIError{Code: "ResourceNotFoundException", Message: "Secrets Manager can't find the specified secret."},
	"kms refused":   &smithy.GenericAPIError{Code: "DecryptionFailure", Message: "Secrets Manager can't decrypt the protected secret text using the provided KMS key."},
	"marked for deletion": &smithy.GenericAPIError{Code: "InvalidRequestException",
		Message: "You can't perform this operation on the secret because it was marked for deletion."},
	"wrapped by the SDK": &smithy.OperationError{ServiceID: "Secrets Manager", OperationName: "GetSecretValue",
		Err: &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not authorized"}},
}

// transients are failures that say nothing about access: Secrets Manager or
// the network is having a bad moment.
var transients = map[string]error{
	"throttled":                 &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"},
	"internal error":            &smithy.GenericAPIError{Code: "InternalServiceError", Message: "boom", Fault: smithy.FaultServer},
	"a code of another service": &smithy.GenericAPIError{Code: "KMSInvalidStateException", Message: "marked for deletion"},
	"timeout":                   fmt.Errorf("operation error Secrets Manager: GetSecretValue, %w", context.DeadlineExceeded),
	"network":                   errors.New("dial tcp 127.0.0.1:4566: connect: connection refused"),
}

func TestRevokedClassifiesErrors(t *testing.T) {
	for name, err := range revocations {
		if !Revoked(err) {
			t.Errorf("%s: Revoked(%v) = false, want true", name, err)
		}
	}
	for name, err := range transients {
		if Revoked(err) {
			t.Errorf("%s: Revoked(%v) = true, want false", name, err)
		}
	}
	if Revoked(nil) {
		t.Error("Revoked(nil) = true")
	}
}

// The kill switch: once a refresh shows that access was taken away, the key
// read earlier is not served again, not even once, and the next successful
// read brings the function back.
func TestKeyRevokedStopsServingAtOnce(t *testing.T) {
	for name, cause := range revocations {
		t.Run(name, func(t *testing.T) {
			sm := newFakeSM(t, keyA)
			c, clk, logs := newCache(t, sm, time.Minute)
			mustKey(t, c, keyA)

			sm.set("", cause)
			clk.advance(time.Minute)
			for i := 0; i < 2; i++ {
				key, err := c.Key(context.Background())
				if key != "" || !errors.Is(err, ErrUnavailable) || !errors.Is(err, ErrRevoked) {
					t.Fatalf("call %d after the revocation: Key = %q, %v; want no key, ErrUnavailable and ErrRevoked", i, key, err)
				}
				assertNoKey(t, err)
			}
			// Each request asks again (nothing to serve meanwhile).
			wantCalls(t, sm, 3)
			if !strings.Contains(logs.String(), "access to the secret was taken away") {
				t.Errorf("the revocation was not logged:\n%s", logs.String())
			}

			sm.set(keyB, nil) // access given back, with a new key
			mustKey(t, c, keyB)
		})
	}
}

// A refresh forced by Trulience rejecting the key meets the revocation:
// the key is dropped for Key too.
func TestRefreshRevokedDropsTheKey(t *testing.T) {
	sm := newFakeSM(t, keyA)
	c, _, _ := newCache(t, sm, 5*time.Minute)
	mustKey(t, c, keyA)
	sm.set("", revocations["not found"])
	if key, err := c.Refresh(context.Background(), keyA); key != "" || !errors.Is(err, ErrRevoked) {
		t.Fatalf("Refresh = %q, %v; want ErrRevoked", key, err)
	}
	if key, err := c.Key(context.Background()); key != "" || !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Key after the revocation = %q, %v; want ErrUnavailable", key, err)
	}
}

// Transient failures keep the key, but only until MaxStaleness has passed
// since the last successful read.
func TestKeyStaleAtMostMaxStaleness(t *testing.T) {
	for name, cause := range transients {
		t.Run(name, func(t *testing.T) {
			sm := newFakeSM(t, keyA)
			c, clk, logs := newCache(t, sm, 5*time.Minute)
			c.MaxStaleness = 20 * time.Minute
			mustKey(t, c, keyA) // read at 0

			sm.set("", cause)
			clk.advance(5 * time.Minute)
			mustKey(t, c, keyA) // 5m: stale, served
			clk.advance(14*time.Minute + 59*time.Second)
			mustKey(t, c, keyA) // 19m59s: still within the bound
			calls := sm.count()

			clk.advance(time.Second) // 20m after the last good read
			key, err := c.Key(context.Background())
			if key != "" || !errors.Is(err, ErrUnavailable) || errors.Is(err, ErrRevoked) {
				t.Fatalf("Key at MaxStaleness = %q, %v; want ErrUnavailable (transient)", key, err)
			}
			if sm.count() != calls+1 {
				t.Errorf("no read was tried at MaxStaleness")
			}
			if !strings.Contains(logs.String(), "MAX_KEY_STALENESS") {
				t.Errorf("dropping the stale key was not logged:\n%s", logs.String())
			}
			key, err = c.Key(context.Background()) // still failing: still nothing
			if key != "" || err == nil {
				t.Fatalf("Key = %q, %v; want an error", key, err)
			}

			sm.set(keyA, nil)
			mustKey(t, c, keyA)
		})
	}
}

// The stale key is retried no later than MaxStaleness: a short bound is not
// overrun by the 30 s pause between failed refreshes.
func TestKeyStaleRetryStopsAtMaxStaleness(t *testing.T) {
	sm := newFakeSM(t, keyA)
	c, clk, _ := newCache(t, sm, time.Minute)
	c.MaxStaleness = 70 * time.Second
	mustKey(t, c, keyA)
	sm.set("", transients["throttled"])
	clk.advance(time.Minute)
	mustKey(t, c, keyA) // stale; next try would be at 1m30s, but the bound is 1m10s
	clk.advance(10 * time.Second)
	if key, err := c.Key(context.Background()); key != "" || err == nil {
		t.Fatalf("Key at 1m10s = %q, %v; want an error", key, err)
	}
}

func TestKeyZeroMaxStalenessServesNothingStale(t *testing.T) {
	sm := newFakeSM(t, keyA)
	c, clk, _ := newCache(t, sm, time.Minute)
	c.MaxStaleness = 0
	mustKey(t, c, keyA)
	sm.set("", transients["internal error"])
	clk.advance(time.Minute)
	if key, err := c.Key(context.Background()); key != "" || err == nil {
		t.Fatalf("Key = %q, %v; want an error", key, err)
	}
}

func TestNewDefaultsMaxStaleness(t *testing.T) {
	if c := New(nil, "id", time.Minute, nil); c.MaxStaleness != time.Hour {
		t.Errorf("MaxStaleness = %v, want 1h", c.MaxStaleness)
	}
}
