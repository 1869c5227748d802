// Package idhash keys the hashes that stand in for who a visitor is (the
// limits' counters, the log's sub_hash) with one per-deployment secret:
// LIMITS_HASH_KEY when it is set, else the Trulience API key, the
// best-kept secret the function holds. Without the secret, a hash cannot
// be rebuilt from a guessed address or user ID.
package idhash

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
)

// Secret is where the per-deployment secret comes from.
type Secret struct {
	// Fixed is LIMITS_HASH_KEY; when set, Read is not used.
	Fixed string
	// Read returns the secret otherwise (the API key reader); nil leaves
	// the secret empty (tests).
	Read func(context.Context) (string, error)
}

// Get returns the secret's current value.
func (s Secret) Get(ctx context.Context) (string, error) {
	if s.Fixed != "" || s.Read == nil {
		return s.Fixed, nil
	}
	return s.Read(ctx)
}

// Key derives the HMAC key of one use from the secret's value: each use
// has its own label, so a hash made for one says nothing about another.
func Key(secret, label string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(label))
	return m.Sum(nil)
}
