package webhook

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/trulience-token/trulience-token/internal/secret"
)

// Reading the header's value follows package secret's rules for the API
// key: cached for secretTTL; while Secrets Manager fails for a while, the
// value read last serves for up to maxStale; when access was taken away
// (secret.Revoked), it is dropped at once.
const (
	secretTTL      = 5 * time.Minute
	maxStale       = time.Hour
	staleRetry     = 30 * time.Second
	fetchTimeout   = 2 * time.Second
	refreshTimeout = time.Second
	// failureHold is how long a failure to read, while no value is held,
	// answers the calls after it without another GetSecretValue: one read
	// per container every 5 s at most, however many calls (or forged
	// calls carrying the header) come, each refused at once instead of
	// waiting up to fetchTimeout; and a secret fixed or access given back
	// is seen within 5 s, little beside the 5 minutes a rotation waits.
	failureHold = 5 * time.Second
)

// errSecret wraps every failure to get a usable header value.
var errSecret = errors.New("the webhook secret is unavailable")

// Secret is the header's expected value, read from Secrets Manager.
type Secret struct {
	client secret.Getter
	id     string
	log    *slog.Logger
	now    func() time.Time

	mu       sync.Mutex
	value    string
	expires  time.Time
	lastRead time.Time
	// failure, until failedUntil, is the last read's failure, answered
	// while no value is held.
	failure     error
	failedUntil time.Time
}

// NewSecret returns the cached value of secret id (a name or ARN).
func NewSecret(client secret.Getter, id string, log *slog.Logger) *Secret {
	return &Secret{client: client, id: id, log: log, now: time.Now}
}

// Matches reports, in constant time, whether got is the secret's value.
func (s *Secret) Matches(ctx context.Context, got string) (bool, error) {
	want, err := s.Value(ctx)
	if err != nil {
		return false, err
	}
	// Hashes first, so the comparison's time says nothing of the length.
	a, b := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1, nil
}

// Value returns the header's value, from the cache while it is fresh.
func (s *Secret) Value(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if s.value != "" && now.Before(s.expires) {
		return s.value, nil
	}
	if s.value == "" && s.failure != nil && now.Before(s.failedUntil) {
		return "", s.failure
	}
	timeout := fetchTimeout
	if s.value != "" {
		timeout = refreshTimeout
	}
	v, err := s.fetch(ctx, timeout)
	switch {
	case err == nil:
		s.value, s.lastRead, s.expires, s.failure = v, now, now.Add(secretTTL), nil
		return v, nil
	case s.value == "":
		return "", s.hold(ctx, now, err)
	case secret.Revoked(err):
		s.log.Error("access to the webhook secret was taken away: the cached value is dropped and every call is refused until a read succeeds", "secret_id", s.id, "error", err.Error())
		s.value = ""
		return "", s.hold(ctx, now, err)
	case !now.Before(s.lastRead.Add(maxStale)):
		s.log.Error("the webhook secret cannot be read and the value held is older than an hour: every call is refused until a read succeeds", "secret_id", s.id, "error", err.Error())
		s.value = ""
		return "", s.hold(ctx, now, err)
	}
	s.log.Warn("reading the webhook secret failed; using the value read before", "secret_id", s.id, "error", err.Error())
	s.expires = now.Add(staleRetry)
	return s.value, nil
}

// hold keeps err as the answer for failureHold, unless the caller's
// context ended (a call that gave up, or init's short wait, says nothing
// of Secrets Manager), and returns it.
func (s *Secret) hold(ctx context.Context, now time.Time, err error) error {
	if ctx.Err() == nil {
		s.failure, s.failedUntil = err, now.Add(failureHold)
	}
	return err
}

func (s *Secret) fetch(ctx context.Context, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	out, err := s.client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &s.id})
	if err != nil {
		return "", fmt.Errorf("%w: GetSecretValue %s: %w", errSecret, s.id, err)
	}
	if out.SecretString == nil {
		return "", fmt.Errorf("%w: secret %s has no SecretString", errSecret, s.id)
	}
	v := strings.TrimSpace(*out.SecretString)
	if err := headerValue(v); err != nil {
		return "", fmt.Errorf("%w: secret %s: %v", errSecret, s.id, err)
	}
	return v, nil
}

// headerValue checks that v can travel in an HTTP header unchanged.
// Errors never quote it.
func headerValue(v string) error {
	if v == "" {
		return errors.New("SecretString is empty")
	}
	if len(v) > 512 {
		return errors.New("SecretString is longer than 512 bytes")
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x21 || v[i] > 0x7e {
			return errors.New("SecretString holds spaces, control or non-ASCII characters")
		}
	}
	return nil
}
