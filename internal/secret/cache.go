// Package secret reads the Trulience API key from AWS Secrets Manager and caches it.
package secret

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"
)

// Getter is the one Secrets Manager call the cache needs; *secretsmanager.Client satisfies it.
type Getter interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// ErrUnavailable is wrapped by every error that means "no usable key could be read".
var ErrUnavailable = errors.New("trulience API key unavailable")

// ErrNoTurnstileSecret means the secret was read but holds no
// "turnstile_secret" field.
var ErrNoTurnstileSecret = errors.New(`the secret has no "turnstile_secret" field (store it with scripts/put-api-key.sh --turnstile-secret)`)

const (
	// fetchTimeout bounds one GetSecretValue call, SDK retries included.
	fetchTimeout = 3 * time.Second
	// refreshTimeout bounds a TTL refresh while a key is held: if Secrets
	// Manager is slow, the stale key serves the request instead of a timeout.
	refreshTimeout = time.Second
	// staleRetry is how long a stale key is served after a failed refresh before Secrets Manager is asked again.
	staleRetry = 30 * time.Second
	// minForcedInterval spaces out refreshes forced by a rejected key, so a wrong key cannot cause a refetch storm.
	minForcedInterval = 10 * time.Second
)

// Cache holds the API key for a TTL. It is safe for concurrent use; a Lambda
// container serves one request at a time, so the lock is never contended there.
type Cache struct {
	client Getter
	id     string
	ttl    time.Duration
	log    *slog.Logger
	now    func() time.Time

	mu         sync.Mutex
	val        Value
	expires    time.Time
	lastForced time.Time
}

// New returns a cache of the key held by secret id (a name or ARN).
func New(client Getter, id string, ttl time.Duration, log *slog.Logger) *Cache {
	return &Cache{client: client, id: id, ttl: ttl, log: log, now: time.Now}
}

// Key returns the API key, from the cache while it is fresh. When a refresh
// fails and a key was read before, that key is returned (stale on error).
func (c *Cache) Key(ctx context.Context) (string, error) {
	v, err := c.value(ctx)
	return v.APIKey, err
}

// TurnstileSecret returns the Turnstile secret key from the same cached
// read as the API key (no extra call to Secrets Manager). It fails with
// ErrNoTurnstileSecret when the secret holds none, and with ErrUnavailable
// when the secret cannot be read.
func (c *Cache) TurnstileSecret(ctx context.Context) (string, error) {
	v, err := c.value(ctx)
	if err != nil {
		return "", err
	}
	if v.TurnstileSecret == "" {
		return "", ErrNoTurnstileSecret
	}
	return v.TurnstileSecret, nil
}

// value returns the secret's value, from the cache while it is fresh.
func (c *Cache) value(ctx context.Context) (Value, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.val.APIKey != "" && c.now().Before(c.expires) {
		return c.val, nil
	}
	timeout := fetchTimeout
	if c.val.APIKey != "" {
		timeout = refreshTimeout
	}
	v, err := c.fetch(ctx, timeout)
	if err != nil {
		if c.val.APIKey != "" {
			c.log.Warn("secret refresh failed; using the previously read key", "secret_id", c.id, "error", err.Error())
			c.expires = c.now().Add(min(c.ttl, staleRetry))
			return c.val, nil
		}
		return Value{}, err
	}
	c.store(v)
	return v, nil
}

// Refresh reads the key again, bypassing the cache, after Trulience rejected
// the key `rejected`. If the cache already holds a different key, that key is
// returned without a call. Forced refreshes are at least minForcedInterval
// apart: in between, the cached key is returned and the caller sees it unchanged.
func (c *Cache) Refresh(ctx context.Context, rejected string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.val.APIKey != "" && c.val.APIKey != rejected {
		return c.val.APIKey, nil
	}
	now := c.now()
	if !c.lastForced.IsZero() && now.Sub(c.lastForced) < minForcedInterval {
		return rejected, nil
	}
	c.lastForced = now
	v, err := c.fetch(ctx, fetchTimeout)
	if err != nil {
		return "", err
	}
	if v.APIKey != rejected {
		c.log.Info("trulience API key changed in Secrets Manager", "secret_id", c.id)
	}
	c.store(v)
	return v.APIKey, nil
}

func (c *Cache) store(v Value) {
	c.val = v
	c.expires = c.now().Add(c.ttl)
}

func (c *Cache) fetch(ctx context.Context, timeout time.Duration) (Value, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := c.now()
	out, err := c.client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &c.id})
	c.log.Debug("GetSecretValue", "secret_id", c.id, "ok", err == nil, "latency_ms", c.now().Sub(start).Milliseconds())
	if err != nil {
		return Value{}, fmt.Errorf("%w: GetSecretValue %s: %s", ErrUnavailable, c.id, describe(err))
	}
	if out.SecretString == nil {
		return Value{}, fmt.Errorf("%w: secret %s has no SecretString (binary secrets are not supported)", ErrUnavailable, c.id)
	}
	v, err := Parse(*out.SecretString)
	if err != nil {
		return Value{}, fmt.Errorf("%w: secret %s: %v", ErrUnavailable, c.id, err)
	}
	return v, nil
}

// describe names an AWS failure by its error code when it has one; the
// service's message is kept for the log (it never holds the secret value).
func describe(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode() + ": " + api.ErrorMessage()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timed out"
	}
	return err.Error()
}
