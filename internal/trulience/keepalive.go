package trulience

import (
	"context"
	"net/http"
)

// KeepAlive is an HTTP client made as Client's is (TLS verified, no proxy,
// no redirects, connections kept alive across invocations) whose first
// connection can be opened ahead of time. The bot check calls Cloudflare
// with one.
type KeepAlive struct {
	// HTTP sends the requests.
	HTTP   *http.Client
	dialer *dialer
}

// NewKeepAlive returns a KeepAlive client.
func NewKeepAlive() *KeepAlive {
	d := newDialer()
	return &KeepAlive{HTTP: newHTTPClient(d), dialer: d}
}

// Preconnect opens the connection the first request to endpoint will use
// (during init); on failure that request dials as usual.
func (k *KeepAlive) Preconnect(ctx context.Context, endpoint string) error {
	return k.dialer.preconnectWait(ctx, endpoint)
}

// StartPreconnect is Preconnect without the wait: a request made before the
// connection is open waits for it instead of opening another.
func (k *KeepAlive) StartPreconnect(ctx context.Context, endpoint string, done func(error)) {
	k.dialer.startPreconnect(ctx, endpoint, done)
}
