package trulience

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/url"
	"sync"
	"time"
)

// preconnectMaxAge is how long a connection opened by Preconnect is handed
// out; an older one may have been closed by the server while idle.
const preconnectMaxAge = 30 * time.Second

// dialer opens the connections to Trulience (TCP, and TLS for https), and
// can open the first one ahead of time.
type dialer struct {
	net *net.Dialer
	tls *tls.Config

	mu   sync.Mutex
	next net.Conn // opened by Preconnect, not yet handed out
	addr string
	at   time.Time
}

func newDialer() *dialer {
	return &dialer{
		// The timeout covers the TCP and the TLS handshakes together.
		net: &net.Dialer{Timeout: 3 * time.Second, KeepAlive: 30 * time.Second},
		// HTTP/1.1: one request at a time per container needs no more, and
		// an h2 server's first frame would defeat the check in alive.
		tls: &tls.Config{MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}},
	}
}

// DialContext opens a plain TCP connection (http:// on loopback).
func (d *dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if c := d.take(addr); c != nil {
		return c, nil
	}
	return d.net.DialContext(ctx, network, addr)
}

// DialTLSContext opens a connection past the TLS handshake, verified
// against the system roots.
func (d *dialer) DialTLSContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if c := d.take(addr); c != nil {
		return c, nil
	}
	return (&tls.Dialer{NetDialer: d.net, Config: d.tls}).DialContext(ctx, network, addr)
}

func (d *dialer) take(addr string) net.Conn {
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
// (an idle or header timeout). It reads with a 1 ms deadline: a live
// HTTP/1.1 connection has nothing to read and times out; a closed one
// answers EOF at once. Bytes the server sent unasked also count as dead,
// since they would be lost. (HTTP/1.1 only, hence the ALPN list: an h2
// server speaks first.) A read timeout leaves a tls.Conn usable.
func alive(c net.Conn) bool {
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
// does not wait for the TCP and TLS handshakes (done during init, while the
// API key is read). On failure the first call simply dials as usual.
func (c *Client) Preconnect(ctx context.Context) error { return c.dialer.preconnect(ctx, c.endpoint) }

// preconnect opens the connection the first request to endpoint will use.
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
	if u.Scheme == "https" {
		conn, err = d.DialTLSContext(ctx, "tcp", addr)
	} else {
		conn, err = d.DialContext(ctx, "tcp", addr)
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
