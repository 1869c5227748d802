// Package earlyconn opens the TLS connection to Trulience while the rest of
// the program is still initializing, and hands it to the first HTTP request
// for its address. The Trulience client and the siteverify client both dial
// through it (Dialer); main starts the one to siteverify (Start).
//
// Why init(): Go initializes packages in import-path order as far as their
// imports allow, so the AWS SDK's packages (github.com/aws/...) and net/http
// initialize before anything main can run. This package imports net and
// crypto/tls but not net/http, so its init() runs before them and the TCP and
// TLS handshakes overlap that CPU work, which Lambda's CPU share stretches.
// Measured with make bench -memory, the cold path under its production-like
// latency (Trulience 40 ms away), this init() against the same dial started
// at the top of main, medians of 11 interleaved cold starts on a loaded
// 2-core machine: 746 against 775 ms at 128 MB's CPU share, 235 against 231
// ms at 512 MB's, 141 against 144 ms at a whole CPU; in an earlier run (one
// cold start each) 134.6 against 144.7 ms at 512 MB's share and 130.7
// against 132.2 ms at a whole CPU. The gain is small beside the noise: keep
// this init() only while such runs keep showing it (docs/performance.md).
//
// init() dials only in a Lambda execution environment (AWS_LAMBDA_RUNTIME_API
// set), not with provisioned concurrency (AWS_LAMBDA_INITIALIZATION_TYPE:
// init runs long before any request), and reads only TRULIENCE_API_URL
// besides. Nothing is sent on the connection before a client takes it; one
// older than MaxAge is closed instead of handed out.
package earlyconn

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"
)

// trulienceURL is TRULIENCE_API_URL's default (package config's DefaultAPIURL).
const trulienceURL = "https://trulience.com"

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
	Skipped = "not opened: provisioned concurrency"
)

// early is one connection opened ahead of its first request.
type early struct {
	addr  string
	at    time.Time
	done  chan struct{} // closed when the handshake is over
	conn  net.Conn      // nil when it failed
	err   error
	taken bool
}

var state struct {
	sync.Mutex
	conns   []*early
	skipped bool
	report  func(addr, outcome string)
}

func init() { startFromEnv(os.Getenv) }

// startFromEnv is init's work, with the environment read through getenv.
func startFromEnv(getenv func(string) string) {
	if getenv("AWS_LAMBDA_RUNTIME_API") == "" {
		return // tests and tools
	}
	if getenv("AWS_LAMBDA_INITIALIZATION_TYPE") == "provisioned-concurrency" {
		state.Lock()
		state.skipped = true
		state.Unlock()
		return
	}
	u := strings.TrimSpace(getenv("TRULIENCE_API_URL"))
	if u == "" {
		u = trulienceURL
	}
	Start(u, nil)
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
// dials it; false for any other URL.
func Addr(rawURL string) (string, bool) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "https" || u.Hostname() == "" {
		return "", false
	}
	port := u.Port()
	if port == "" {
		port = "443"
	}
	return net.JoinHostPort(strings.ToLower(u.Hostname()), port), true
}

// Start opens, in the background, a TLS connection to the host of an https
// URL with Config(roots), for the first Dialer.DialTLSContext to that
// address. Other URLs are ignored, and so is every URL with provisioned
// concurrency.
func Start(rawURL string, roots *x509.CertPool) {
	addr, ok := Addr(rawURL)
	state.Lock()
	skipped := state.skipped
	state.Unlock()
	if !ok || skipped {
		return
	}
	if roots == nil {
		// Load the system roots while the handshake's round trips are in
		// flight, not after the server's certificate arrives.
		go func() { _, _ = x509.SystemCertPool() }()
	}
	e := &early{addr: addr, at: time.Now(), done: make(chan struct{})}
	state.Lock()
	state.conns = append(state.conns, e)
	state.Unlock()
	go func() {
		d := &tls.Dialer{NetDialer: netDialer, Config: Config(roots)}
		e.conn, e.err = d.DialContext(context.Background(), "tcp", addr)
		close(e.done)
	}()
}

// Report sets the function told, once per early connection, what became of
// it: Used, TooOld or Failed when a client first dials its address, Skipped
// at once when init opened none for provisioned concurrency.
func Report(f func(addr, outcome string)) {
	state.Lock()
	defer state.Unlock()
	state.report = f
	if state.skipped && f != nil {
		f("", Skipped)
	}
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
