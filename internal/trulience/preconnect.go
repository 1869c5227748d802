package trulience

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/trulience-token/trulience-token/internal/trulience/earlyconn"
)

// preconnectMaxAge is how long a connection opened by Preconnect is handed
// out; an older one may have been closed by the server while idle.
const preconnectMaxAge = 30 * time.Second

// dialer opens the connections to Trulience (TCP, and TLS for https), and
// can open the first one ahead of time.
type dialer struct {
	net *net.Dialer
	tls *tls.Config

	mu      sync.Mutex
	next    net.Conn // opened by Preconnect, not yet handed out
	addr    string
	at      time.Time
	pending chan struct{} // closed when a started Preconnect ends
}

func newDialer() *dialer {
	return &dialer{net: earlyconn.Dialer(), tls: earlyconn.Config()}
}

// DialContext opens a plain TCP connection (http:// on loopback).
func (d *dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if c := d.take(ctx, addr); c != nil {
		return c, nil
	}
	return d.net.DialContext(ctx, network, addr)
}

// DialTLSContext opens a connection past the TLS handshake, verified
// against the system roots.
func (d *dialer) DialTLSContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if c := d.take(ctx, addr); c != nil {
		return c, nil
	}
	return d.dialTLS(ctx, network, addr)
}

func (d *dialer) dialTLS(ctx context.Context, network, addr string) (net.Conn, error) {
	return (&tls.Dialer{NetDialer: d.net, Config: d.tls}).DialContext(ctx, network, addr)
}

// take hands out the preconnected connection to addr, if any, waiting for a
// Preconnect still under way rather than opening a second connection.
func (d *dialer) take(ctx context.Context, addr string) net.Conn {
	d.mu.Lock()
	pending := d.pending
	d.mu.Unlock()
	if pending != nil {
		select {
		case <-pending:
		case <-ctx.Done():
			return nil
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	c := d.next
	if c == nil || d.addr != addr {
		return nil
	}
	d.next = nil
	if time.Since(d.at) > preconnectMaxAge || !alive(c) {
		c.Close()
		return nil
	}
	return c
}

// alive reports whether the server has not closed c while it waited unused
// (an idle or header timeout). It looks at the socket without waiting (see
// peek): a live HTTP/1.1 connection has nothing to read; a closed one has
// EOF; bytes the server sent unasked on plain HTTP count as dead, since they
// would be lost. Over TLS, waiting bytes may be a session ticket as well as
// a closing alert, so only then is a record read, with a 1 ms deadline
// (servers send no tickets to this client, which keeps no session cache).
// HTTP/1.1 only, hence the ALPN list: an h2 server speaks first.
func alive(c net.Conn) bool {
	switch peek(c) {
	case peekIdle:
		return true
	case peekClosed:
		return false
	case peekData:
		if _, isTLS := c.(*tls.Conn); !isTLS {
			return false
		}
	}
	return readAlive(c)
}

// readAlive reads c with a 1 ms deadline: a live connection times out; a
// closed one answers EOF at once. A read timeout leaves a tls.Conn usable.
func readAlive(c net.Conn) bool {
	if c.SetReadDeadline(time.Now().Add(time.Millisecond)) != nil {
		return false
	}
	var b [1]byte
	n, err := c.Read(b[:])
	var ne net.Error
	if n > 0 || !errors.As(err, &ne) || !ne.Timeout() {
		return false
	}
	return c.SetReadDeadline(time.Time{}) == nil
}

// Preconnect opens the connection the first call will use, so that call
// does not wait for the TCP and TLS handshakes. On failure the first call
// simply dials as usual.
func (c *Client) Preconnect(ctx context.Context) error {
	return c.dialer.preconnectWait(ctx, c.endpoint)
}

// StartPreconnect is Preconnect without the wait: it returns at once, and a
// call made before the connection is open waits for it instead of opening
// another. done, when not nil, gets the outcome.
func (c *Client) StartPreconnect(ctx context.Context, done func(error)) {
	c.dialer.startPreconnect(ctx, c.endpoint, done)
}

// preconnectWait is startPreconnect, waiting for the outcome.
func (d *dialer) preconnectWait(ctx context.Context, endpoint string) error {
	errc := make(chan error, 1)
	d.startPreconnect(ctx, endpoint, func(err error) { errc <- err })
	return <-errc
}

// startPreconnect opens, in the background, the connection the first
// request to endpoint will use; a request made meanwhile waits for it.
func (d *dialer) startPreconnect(ctx context.Context, endpoint string, done func(error)) {
	ready := make(chan struct{})
	d.mu.Lock()
	d.pending = ready
	d.mu.Unlock()
	if d.tls.RootCAs == nil && strings.HasPrefix(endpoint, "https:") {
		// Load the system roots while the handshake's round trips are in
		// flight, not after the server's certificate arrives.
		go func() { _, _ = x509.SystemCertPool() }()
	}
	go func() {
		err := d.preconnect(ctx, endpoint)
		d.mu.Lock()
		if d.pending == ready {
			d.pending = nil
		}
		d.mu.Unlock()
		close(ready)
		if done != nil {
			done(err)
		}
	}()
}

func (d *dialer) preconnect(ctx context.Context, endpoint string) error {
	u, err := url.Parse(endpoint)
	if err != nil {
		return err
	}
	port := u.Port()
	if port == "" {
		port = "443"
		if u.Scheme == "http" {
			port = "80"
		}
	}
	addr := net.JoinHostPort(u.Hostname(), port)
	var conn net.Conn
	switch {
	case u.Scheme != "https":
		conn, err = d.net.DialContext(ctx, "tcp", addr)
	case d.tls.RootCAs == nil:
		// The connection opened while the program initialized, with the
		// same settings (package earlyconn), when there is one.
		if conn = earlyconn.Take(ctx, addr); conn == nil {
			conn, err = d.dialTLS(ctx, "tcp", addr)
		}
	default:
		conn, err = d.dialTLS(ctx, "tcp", addr)
	}
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.next != nil {
		d.next.Close()
	}
	d.next, d.addr, d.at = conn, addr, time.Now()
	return nil
}
