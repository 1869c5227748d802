// Package earlyconn opens the TLS connections a cold start needs, to
// Trulience and, with the bot check on, to Cloudflare's siteverify (see
// endpoints.Early), while the rest of the program is still initializing, in
// a Lambda execution environment only. Their TCP connections were started
// earlier still by package tcpstart, before package net was initialized;
// this package, initialized right after crypto/tls, runs the TLS handshakes
// on those sockets, or dials as usual where tcpstart started none. No
// request and no key travel on the connections here: package trulience's
// clients (the Trulience client, and the KeepAlive client of the bot check)
// take one (Take) when they target the same address, and dial as usual
// otherwise.
package earlyconn

import (
	"context"
	"crypto/tls"
	"net"
	"net/url"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/trulience-token/trulience-token/internal/endpoints"
	"github.com/trulience-token/trulience-token/internal/trulience/earlyconn/tcpstart"
)

// Config is the TLS configuration of every connection to Trulience:
// verified against the system roots, TLS 1.2 at least, HTTP/1.1 only (one
// request at a time per container needs no more, and an h2 server's first
// frame would defeat the liveness check of an unused connection).
func Config() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}}
}

// Dialer opens the TCP connections; its timeout covers the TCP and the TLS
// handshakes together.
func Dialer() *net.Dialer {
	return &net.Dialer{Timeout: 3 * time.Second, KeepAlive: 30 * time.Second}
}

// pending is a connection opened during initialization, for addr.
type pending struct {
	addr  string
	done  chan struct{} // closed when the handshake is over
	conn  net.Conn      // nil: failed, or taken
	taken bool
}

var early struct {
	sync.Mutex
	conns []*pending // a few at most: one per endpoints.Early URL
}

func init() {
	// AWS_LAMBDA_RUNTIME_API is set by Lambda (and the emulator) only, so
	// tests and tools never dial from here.
	if os.Getenv("AWS_LAMBDA_RUNTIME_API") == "" {
		return
	}
	for _, u := range endpoints.Early(os.LookupEnv) {
		if addr, ok := httpsAddr(u); ok {
			start(addr, Config())
		}
	}
}

// httpsAddr is host:port of an https URL (port 443 when absent).
func httpsAddr(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Hostname() == "" {
		return "", false
	}
	port := u.Port()
	if port == "" {
		port = "443"
	}
	return net.JoinHostPort(u.Hostname(), port), true
}

func start(addr string, cfg *tls.Config) {
	p := &pending{addr: addr, done: make(chan struct{})}
	early.Lock()
	early.conns = slices.DeleteFunc(early.conns, func(old *pending) bool { return old.addr == addr })
	early.conns = append(early.conns, p)
	early.Unlock()
	go func() {
		defer close(p.done)
		c, err := handshakeStarted(addr, cfg)
		if c == nil {
			d := &tls.Dialer{NetDialer: Dialer(), Config: cfg}
			c, err = d.DialContext(context.Background(), "tcp", addr)
		}
		if err == nil {
			early.Lock()
			if slices.Contains(early.conns, p) {
				p.conn = c
			} else {
				c.Close() // replaced by a later start for the same address
			}
			early.Unlock()
		}
	}()
}

// handshakeStarted runs the TLS handshake on the socket whose TCP connection
// package tcpstart started for addr, if any: nil, nil when there is none
// (the caller dials), and nil and the error when it failed (the caller dials
// again: the failure may be the early resolution's, not the server's).
func handshakeStarted(addr string, cfg *tls.Config) (net.Conn, error) {
	fd, ok := tcpstart.Take(addr)
	if !ok {
		return nil, nil
	}
	// One time limit for both handshakes, as for a dial.
	ctx, cancel := context.WithTimeout(context.Background(), Dialer().Timeout)
	defer cancel()
	deadline, _ := ctx.Deadline()
	f := os.NewFile(uintptr(fd), "tcp:"+addr)
	defer f.Close() // FileConn holds its own copy
	// At most until the first SYN would be sent again (1 s): a first address
	// that does not answer is left for the dial, which tries them all.
	if err := tcpstart.WaitConnected(fd, min(time.Until(deadline), time.Second)); err != nil {
		return nil, err
	}
	tc, err := net.FileConn(f)
	if err != nil {
		return nil, err
	}
	host, _, _ := net.SplitHostPort(addr)
	cfg = cfg.Clone()
	cfg.ServerName = host
	c := tls.Client(tc, cfg)
	if err := c.HandshakeContext(ctx); err != nil {
		tc.Close()
		return nil, err
	}
	return c, nil
}

// Take returns the connection to addr opened during initialization, once
// its handshake is over, or nil: none was started for addr, it failed, it
// was taken already, or ctx ended first. Only the first call can get it.
func Take(ctx context.Context, addr string) net.Conn {
	early.Lock()
	var p *pending
	for _, c := range early.conns {
		if c.addr == addr && !c.taken {
			p = c
		}
	}
	if p != nil {
		p.taken = true
	}
	early.Unlock()
	if p == nil {
		return nil
	}
	select {
	case <-p.done:
	case <-ctx.Done():
		go func() { // nobody will use it
			<-p.done
			early.Lock()
			defer early.Unlock()
			if p.conn != nil {
				p.conn.Close()
				p.conn = nil
			}
		}()
		return nil
	}
	early.Lock()
	defer early.Unlock()
	c := p.conn
	p.conn = nil
	return c
}
