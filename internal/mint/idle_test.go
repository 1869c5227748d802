package mint

import (
	"context"
	"crypto/x509"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trulience-token/trulience-token/internal/earlyconn"
	"github.com/trulience-token/trulience-token/internal/httpclient"
	"github.com/trulience-token/trulience-token/internal/trulience"
)

// tokenServer answers every token request, over TLS, and counts requests
// and connections; drop, when it returns true for a request, closes the
// connection without an answer, as a server does that closed it while idle
// just as the request arrived. headerTimeout, when not 0, closes a
// connection that sends no request in time.
func tokenServer(t *testing.T, headerTimeout time.Duration, drop func(n int32) bool) (*httptest.Server, *atomic.Int32, *atomic.Int32) {
	s, reqs, conns, _ := tokenServerClosing(t, headerTimeout, 0, drop)
	return s, reqs, conns
}

// tokenServerClosing is tokenServer that also counts the connections the
// server closed; idleTimeout, when not 0, closes a kept-alive connection
// that waits that long for its next request.
func tokenServerClosing(t *testing.T, headerTimeout, idleTimeout time.Duration, drop func(n int32) bool) (*httptest.Server, *atomic.Int32, *atomic.Int32, *atomic.Int32) {
	t.Helper()
	var reqs, conns, closed atomic.Int32
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if drop(reqs.Add(1)) {
			c, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				c.Close()
			}
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"jwt":"` + jwt + `","expires_in":300,"avatar_id":"` + req.AvatarID + `"}`))
	}))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		switch st {
		case http.StateNew:
			conns.Add(1)
		case http.StateClosed:
			closed.Add(1)
		}
	}
	s.Config.ReadHeaderTimeout = headerTimeout
	s.Config.IdleTimeout = idleTimeout
	s.StartTLS()
	t.Cleanup(s.Close)
	return s, &reqs, &conns, &closed
}

func service(s *httptest.Server, roots *x509.CertPool) *Service {
	hc := httpclient.New(earlyconn.Dialer{Roots: roots}.DialTLSContext)
	return &Service{Keys: &fakeKeys{key: keyA}, API: trulience.NewClient(s.URL, 2*time.Second, hc), Log: slog.New(slog.DiscardHandler)}
}

func rootsOf(s *httptest.Server) *x509.CertPool {
	roots := x509.NewCertPool()
	roots.AddCert(s.Certificate())
	return roots
}

// TestKeptAliveConnectionClosedWhileIdle: Trulience closes the kept-alive
// connection while it waits between two mints (its idle timeout); the
// second mint goes out once, on a new connection, and succeeds.
func TestKeptAliveConnectionClosedWhileIdle(t *testing.T) {
	s, reqs, conns, closed := tokenServerClosing(t, 0, 100*time.Millisecond, func(int32) bool { return false })
	svc := service(s, rootsOf(s))
	if _, err := svc.Mint(context.Background(), req); err != nil {
		t.Fatalf("mint 1: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for closed.Load() == 0 && time.Now().Before(deadline) { // the server's idle timeout closes it
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := svc.Mint(context.Background(), req); err != nil {
		t.Fatalf("mint 2, after the server closed the idle connection: %v", err)
	}
	if reqs.Load() != 2 || conns.Load() != 2 {
		t.Errorf("%d requests on %d connections, want 2 on 2 (none sent twice)", reqs.Load(), conns.Load())
	}
}

// TestReusedConnectionDroppedAfterTheRequestIsNotRetried: the second mint
// goes out on the kept-alive connection and Trulience reads it, then the
// connection ends without an answer. Trulience may have minted: no retry,
// whatever connection it was.
func TestReusedConnectionDroppedAfterTheRequestIsNotRetried(t *testing.T) {
	s, reqs, _ := tokenServer(t, 0, func(n int32) bool { return n == 2 })
	svc := service(s, rootsOf(s))
	if _, err := svc.Mint(context.Background(), req); err != nil {
		t.Fatalf("mint 1: %v", err)
	}
	if _, err := svc.Mint(context.Background(), req); err == nil {
		t.Fatal("mint 2 succeeded")
	}
	if reqs.Load() != 2 {
		t.Errorf("%d requests, want 2: the dropped request was sent again", reqs.Load())
	}
}

// TestEarlyConnectionClosedWhileIdle: the connection opened during init
// is closed by Trulience before the first request (a header timeout); the
// first mint still succeeds, on a new connection.
func TestEarlyConnectionClosedWhileIdle(t *testing.T) {
	s, reqs, conns, closed := tokenServerClosing(t, 300*time.Millisecond, 0, func(int32) bool { return false })
	roots := rootsOf(s)
	earlyconn.Start(s.URL, roots)
	deadline := time.Now().Add(5 * time.Second)
	for closed.Load() == 0 && time.Now().Before(deadline) { // the server's timeout closes it
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := service(s, roots).Mint(context.Background(), req); err != nil {
		t.Fatalf("mint on a closed early connection: %v", err)
	}
	if reqs.Load() != 1 || conns.Load() != 2 {
		t.Errorf("%d requests on %d connections, want 1 on 2", reqs.Load(), conns.Load())
	}
}

// TestFreshConnectionClosedIsNotRetried: a connection this mint opened
// itself that ends without an answer may have reached Trulience: no retry.
func TestFreshConnectionClosedIsNotRetried(t *testing.T) {
	s, reqs, _ := tokenServer(t, 0, func(n int32) bool { return n == 1 })
	if _, err := service(s, rootsOf(s)).Mint(context.Background(), req); err == nil {
		t.Fatal("mint succeeded")
	}
	if reqs.Load() != 1 {
		t.Errorf("%d requests, want 1", reqs.Load())
	}
}
