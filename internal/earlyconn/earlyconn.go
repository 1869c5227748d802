// Package earlyconn opens the TLS connection to Trulience (and to
// Cloudflare's siteverify, with the bot check on) as a cold start begins,
// and hands it to the first HTTP request for its address, so the TCP and
// TLS round trips overlap the rest of the cold start: the AWS SDK's
// configuration and the key read. The Trulience client and the siteverify
// client both dial through it (Dialer); main starts the dials (Start).
//
// Where to start them is measured. A package's init() would start them
// before the AWS SDK's packages and net/http initialize; main starts them
// after. In make bench -memory, the cold path under its production-like
// latency (Trulience 40 ms away), medians of 11 interleaved cold starts of
// each, the dial from an init() against the same dial at the top of main: on
// a quiet machine (load 1), 134.6 against 134.0 ms at 512 MB's CPU share,
// 364.8 against 352.0 ms at 128 MB's, 127.5 against 127.5 ms at a whole
// CPU; on a loaded one (load 3), 235 against 231, 746 against 775 and 141
// against 144 ms. No gain beyond the noise, so no init(): main starts them
// once the configuration is read.
//
// Nothing is sent on a connection before a client takes it; one older than
// MaxAge is closed instead of handed out.
package earlyconn

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/url"
	"sync"
	"time"
)

// MaxAge is how long after it opened the early connection is still handed
// out; an on-demand cold start's first request comes within milliseconds,
// and a server may close a connection that carried no request after a few
// seconds.
const MaxAge = 5 * time.Second

// Outcomes reported for an early connection (Report).
const (
	Used    = "used"
	TooOld  = "not used: older than MaxAge"
	Failed  = "not used: the early dial failed"
	Closed  = "not used: the server had closed it"
	Skipped = "not opened: provisioned concurrency" // logged by main
)

// early is one connection opened ahead of its first request.
type early struct {
	addr  string
	at    time.Time
	done  chan struct{} // closed when the handshake is over
	conn  net.Conn      // nil when it failed
	err   error
	taken bool
	// closed receives, once, whether the server closed the connection (or
	// sent on it, which a server does now only as it closes) while it
	// waited: a read runs on it from the handshake until take stops it.
	closed chan bool
}

var state struct {
	sync.Mutex
	conns  []*early
	report func(addr, outcome string)
}

// Wanted reports whether opening connections early can help: in a Lambda
// execution environment (AWS_LAMBDA_RUNTIME_API set), and not with
// provisioned concurrency, whose init runs long before any request
// (AWS_LAMBDA_INITIALIZATION_TYPE). getenv is os.Getenv in the function.
func Wanted(getenv func(string) string) bool {
	return getenv("AWS_LAMBDA_RUNTIME_API") != "" && getenv("AWS_LAMBDA_INITIALIZATION_TYPE") != "provisioned-concurrency"
}

// Config is the TLS configuration of every connection: verified against
// the system roots (or roots, when not nil), TLS 1.2 at least, HTTP/1.1
// only (one request at a time per container needs no more).
func Config(roots *x509.CertPool) *tls.Config {
	return &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}}
}

// netDialer opens the TCP connections; its timeout covers the TCP and the
// TLS handshakes together.
var netDialer = &net.Dialer{Timeout: 3 * time.Second, KeepAlive: 30 * time.Second}

// Addr is host:port of an https URL (port 443 when absent), as net/http
// dials it, so the host keeps its case: net/http does not fold it, and
// an address folded here would never be asked for (config lower-cases
// the URLs' hosts once, for both). False for any other URL.
func Addr(rawURL string) (string, bool) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "https" || u.Hostname() == "" {
		return "", false
	}
	port := u.Port()
	if port == "" {
		port = "443"
	}
	return net.JoinHostPort(u.Hostname(), port), true
}

// Start opens, in the background, a TLS connection to the host of an https
// URL with Config(roots), for the first Dialer.DialTLSContext to that
// address. Other URLs are ignored.
func Start(rawURL string, roots *x509.CertPool) {
	addr, ok := Addr(rawURL)
	if !ok {
		return
	}
	if roots == nil {
		// Load the system roots while the handshake's round trips are in
		// flight, not after the server's certificate arrives.
		go func() { _, _ = x509.SystemCertPool() }()
	}
	e := &early{addr: addr, at: time.Now(), done: make(chan struct{}), closed: make(chan bool, 1)}
	state.Lock()
	state.conns = append(state.conns, e)
	state.Unlock()
	go func() {
		d := &tls.Dialer{NetDialer: netDialer, Config: Config(roots)}
		e.conn, e.err = d.DialContext(context.Background(), "tcp", addr)
		close(e.done)
		if e.conn != nil {
			e.watch()
		}
	}()
}

// Report sets the function told, once per early connection, what became of
// it (Used, TooOld or Failed) when a client first dials its address.
func Report(f func(addr, outcome string)) {
	state.Lock()
	defer state.Unlock()
	state.report = f
}

// Dialer opens TLS connections for an http.Transport (DialTLSContext),
// handing out the early connection to the address first when there is one.
type Dialer struct {
	// Roots verify the server's certificate; nil means the system roots.
	Roots *x509.CertPool
}

// DialTLSContext returns the early connection to addr if one was started
// and is younger than MaxAge (waiting for its handshake), or a new one.
func (d Dialer) DialTLSContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if c := take(ctx, addr); c != nil {
		return c, nil
	}
	return (&tls.Dialer{NetDialer: netDialer, Config: Config(d.Roots)}).DialContext(ctx, network, addr)
}

// take hands out the early connection to addr once.
func take(ctx context.Context, addr string) net.Conn {
	state.Lock()
	var e *early
	for _, c := range state.conns {
		if c.addr == addr && !c.taken {
			e, c.taken = c, true
			break
		}
	}
	state.Unlock()
	if e == nil {
		return nil
	}
	select {
	case <-e.done:
	case <-ctx.Done():
		go func() {
			<-e.done
			if e.conn != nil {
				e.conn.Close()
			}
		}()
		return nil
	}
	outcome := Used
	switch {
	case e.conn == nil:
		outcome = Failed + ": " + e.err.Error()
	case time.Since(e.at) > MaxAge:
		outcome = TooOld
		e.conn.Close()
	case e.stopWatch():
		outcome = Closed
		e.conn.Close()
	}
	state.Lock()
	defer state.Unlock()
	if state.report != nil {
		state.report(addr, outcome)
	}
	if outcome != Used {
		return nil
	}
	return e.conn
}

// watch reads from the waiting connection, as http.Transport does from an
// idle one, so that a close by the server is seen at once: the read ends
// with EOF then, and with a timeout when stopWatch interrupts it. crypto/tls
// handles what a server may send unasked (TLS 1.3 session tickets) inside
// the read and keeps waiting.
func (e *early) watch() {
	var b [1]byte
	n, err := e.conn.Read(b[:])
	var ne net.Error
	e.closed <- n > 0 || !errors.As(err, &ne) || !ne.Timeout()
}

// stopWatch interrupts watch and reports whether the server had closed the
// connection. A timed-out read with nothing read leaves a TLS connection
// usable (crypto/tls keeps only errors that are not temporary), and a read
// that starts after the deadline is set times out at once, so the order of
// the two goroutines does not matter.
func (e *early) stopWatch() bool {
	if e.conn.SetReadDeadline(time.Unix(1, 0)) != nil {
		return true
	}
	closed := <-e.closed
	return closed || e.conn.SetReadDeadline(time.Time{}) != nil
}
