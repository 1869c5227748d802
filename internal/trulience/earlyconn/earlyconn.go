// Package earlyconn starts the TLS connection to Trulience while the rest of
// the program is still initializing, in a Lambda execution environment
// only. Go initializes packages in import-path order as far as their imports
// allow: this one needs nothing above crypto/tls and net, so it runs before
// net/http and before the AWS SDK's packages, whose initialization takes a
// few milliseconds of a cold start that the handshake's round trips now
// overlap. No request and no key travel on the connection here: package
// trulience takes it (Take) when its client targets the same address, and
// dials as usual otherwise.
package earlyconn

import (
	"context"
	"crypto/tls"
	"net"
	"net/url"
	"os"
	"sync"
	"time"

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

var early struct {
	sync.Mutex
	addr  string
	done  chan struct{}
	conn  net.Conn
	taken bool
}

func init() {
	// AWS_LAMBDA_RUNTIME_API is set by Lambda (and the emulator) only, so
	// tests and tools never dial from here.
	if os.Getenv("AWS_LAMBDA_RUNTIME_API") == "" {
		return
	}
	if addr, ok := httpsAddr(os.Getenv("TRULIENCE_API_URL")); ok {
		start(addr, Config())
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
	early.Lock()
	early.addr, early.done, early.conn, early.taken = addr, make(chan struct{}), nil, false
	done := early.done
	early.Unlock()
	go func() {
		defer close(done)
		c, err := handshakeStarted(addr, cfg)
		if c == nil {
			d := &tls.Dialer{NetDialer: Dialer(), Config: cfg}
			c, err = d.DialContext(context.Background(), "tcp", addr)
		}
		if err == nil {
			early.Lock()
			early.conn = c
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
	if err := tcpstart.WaitConnected(fd, time.Until(deadline)); err != nil {
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
	done, match := early.done, early.addr == addr && !early.taken
	if match {
		early.taken = true
	}
	early.Unlock()
	if done == nil || !match {
		return nil
	}
	select {
	case <-done:
	case <-ctx.Done():
		go func() { // nobody will use it
			<-done
			early.Lock()
			defer early.Unlock()
			if early.conn != nil {
				early.conn.Close()
			}
		}()
		return nil
	}
	early.Lock()
	defer early.Unlock()
	c := early.conn
	early.conn = nil
	return c
}
