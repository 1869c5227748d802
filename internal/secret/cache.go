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

// ErrRevoked is wrapped, beside ErrUnavailable, by a read that failed because
// access to the secret was taken away (see Revoked).
var ErrRevoked = errors.New("access to the secret was taken away")

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
	// DefaultMaxStaleness is how long after the last successful read a key
	// may still be served while Secrets Manager fails transiently.
	DefaultMaxStaleness = time.Hour
)

// Cache holds the API key for a TTL. It is safe for concurrent use; a Lambda
// container serves one request at a time, so the lock is never contended there.
type Cache struct {
	client Getter
	id     string
	ttl    time.Duration
	log    *slog.Logger
	now    func() time.Time
	// MaxStaleness bounds how long after the last successful read the key
	// is served while refreshes fail transiently (DefaultMaxStaleness unless
	// set before first use; 0 serves no stale key at all).
	MaxStaleness time.Duration

	mu         sync.Mutex
	val        Value
	expires    time.Time
	lastRead   time.Time // last successful read of val
	lastForced time.Time
}

// New returns a cache of the key held by secret id (a name or ARN).
func New(client Getter, id string, ttl time.Duration, log *slog.Logger) *Cache {
	return &Cache{client: client, id: id, ttl: ttl, log: log, now: time.Now, MaxStaleness: DefaultMaxStaleness}
}

// Key returns the API key, from the cache while it is fresh. When a refresh
// fails transiently and a key was read less than MaxStaleness ago, that key
// is returned (stale on error). When the refresh shows that access to the
// secret was taken away, the key is dropped and never served again (the kill
// switch): see Revoked.
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

// value returns the secret's value, from the cache while it is fresh, with
// Key's rules for stale and revoked values.
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
		if c.val.APIKey == "" {
			return Value{}, err
		}
		if c.revoked(err) {
			return Value{}, err
		}
		now := c.now()
		until := c.lastRead.Add(c.MaxStaleness)
		if !now.Before(until) {
			c.log.Error("secret refresh keeps failing and the key is older than MAX_KEY_STALENESS: no key is served until a read succeeds",
				"secret_id", c.id, "error", err.Error(), "max_key_staleness", c.MaxStaleness.String())
			c.drop()
			return Value{}, err
		}
		c.log.Warn("secret refresh failed; using the previously read key", "secret_id", c.id, "error", err.Error(),
			"stale_for_s", int64(now.Sub(c.lastRead).Seconds()))
		c.expires = minTime(now.Add(min(c.ttl, staleRetry)), until)
		return c.val, nil
	}
	c.store(v)
	return v, nil
}

// revoked drops the held key when err says that access to the secret was
// taken away, logs why, and reports whether it did.
func (c *Cache) revoked(err error) bool {
	if !errors.Is(err, ErrRevoked) {
		return false
	}
	if c.val.APIKey != "" {
		c.log.Error("access to the secret was taken away: the cached key is dropped and no token is minted until a read succeeds",
			"secret_id", c.id, "error", err.Error())
	}
	c.drop()
	return true
}

func (c *Cache) drop() {
	c.val = Value{}
	c.expires = time.Time{}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
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
	// A key is held (the one just rejected): a re-read gets the refresh time
	// limit, not a cold read's, so the request's retry still fits its deadline.
	timeout := fetchTimeout
	if c.val.APIKey != "" {
		timeout = refreshTimeout
	}
	v, err := c.fetch(ctx, timeout)
	if err != nil {
		c.revoked(err)
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
	c.lastRead = c.now()
	c.expires = c.lastRead.Add(c.ttl)
}

func (c *Cache) fetch(ctx context.Context, timeout time.Duration) (Value, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := c.now()
	out, err := c.client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &c.id})
	c.log.Debug("GetSecretValue", "secret_id", c.id, "ok", err == nil, "latency_ms", c.now().Sub(start).Milliseconds())
	if err != nil {
		if Revoked(err) {
			return Value{}, fmt.Errorf("%w, %w: GetSecretValue %s: %s", ErrUnavailable, ErrRevoked, c.id, describe(err))
		}
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
