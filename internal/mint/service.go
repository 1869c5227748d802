// Package mint mints Trulience tokens: it pairs the cached API key with the
// Trulience client and applies the retry rules.
package mint

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/trulience-token/trulience-token/internal/trulience"
)

// Keys supplies the API key; *secret.Cache satisfies it.
type Keys interface {
	Key(ctx context.Context) (string, error)
	Refresh(ctx context.Context, rejected string) (string, error)
}

// API mints one token with a key; *trulience.Client satisfies it.
type API interface {
	GenerateToken(ctx context.Context, key string, r trulience.Request) (trulience.Token, error)
}

const (
	// defaultBackoff is the pause before retrying a 429/503 that sent no Retry-After.
	defaultBackoff = 200 * time.Millisecond
	// minAttempt is the least time worth giving a retried call.
	minAttempt = time.Second
	// MaxWait is the longest Retry-After the function waits out itself
	// before its one retry. A longer one is not waited for: the visitor's
	// browser gets it (429 rate_limited with Retry-After) instead of a
	// request held open.
	MaxWait = time.Second
)

// Service mints tokens.
type Service struct {
	Keys Keys
	API  API
	Log  *slog.Logger
	// sleep waits for d or until ctx ends; tests replace it.
	sleep func(ctx context.Context, d time.Duration) error
}

// Mint returns a token for r. At most two calls reach Trulience: after a 401
// with a key that changed in Secrets Manager, or after a 429, a 503, a
// connection that failed before the request was sent, or one Trulience had
// closed while it was idle. The retry after a
// 429 or 503 happens only when Trulience asked to wait at most MaxWait.
func (s *Service) Mint(ctx context.Context, r trulience.Request) (trulience.Token, error) {
	key, err := s.Keys.Key(ctx)
	if err != nil {
		return trulience.Token{}, err
	}
	tok, err := s.API.GenerateToken(ctx, key, r)
	var te *trulience.Error
	if err == nil || !errors.As(err, &te) {
		return tok, err
	}
	switch {
	case te.Kind == trulience.KindAPI && te.Status == 401:
		fresh, rerr := s.Keys.Refresh(ctx, key)
		if rerr != nil {
			s.Log.Warn("trulience refused the API key and re-reading it failed", "error", rerr.Error())
			return tok, err
		}
		if fresh == key {
			s.Log.Warn("trulience refused the API key; the secret holds the same key", "trulience_code", te.Code)
			return tok, err
		}
		return s.API.GenerateToken(ctx, fresh, r)
	case te.Retryable():
		wait := te.RetryAfter
		if wait == 0 {
			wait = defaultBackoff
		}
		if wait > MaxWait {
			return tok, err
		}
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait+minAttempt {
			return tok, err
		}
		sleep := s.sleep
		if sleep == nil {
			sleep = sleepCtx
		}
		if wait > 0 && sleep(ctx, wait) != nil {
			return tok, err
		}
		return s.API.GenerateToken(ctx, key, r)
	}
	return tok, err
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
