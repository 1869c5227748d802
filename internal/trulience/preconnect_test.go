package trulience

import (
	"context"
	"crypto/x509"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func TestPreconnect(t *testing.T) {
	tests := []struct {
		name       string
		tls        bool
		age        time.Duration // how old the preconnected connection is at the first call
		wantBefore int32         // connections accepted after Preconnect, before the call
		wantAfter  int32         // after the call
	}{
		{"https", true, 0, 1, 1},
		{"http on loopback", false, 0, 1, 1},
		{"too old: dialled again", false, 2 * preconnectMaxAge, 1, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var conns atomic.Int32
			s := httptest.NewUnstartedServer(reply(http.StatusOK, okBody))
			s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
				if st == http.StateNew {
					conns.Add(1)
				}
			}
			c := preconnected(t, s, tt.tls)
			waitFor(t, func() bool { return conns.Load() == tt.wantBefore })
			c.dialer.at = c.dialer.at.Add(-tt.age)
			if _, err := c.GenerateToken(context.Background(), testKey, Request{AvatarID: testAvatar}); err != nil {
				t.Fatalf("GenerateToken: %v", err)
			}
			if n := conns.Load(); n != tt.wantAfter {
				t.Errorf("%d connections after the call, want %d", n, tt.wantAfter)
			}
		})
	}
}

func TestPreconnectFailureLeavesCallsAlone(t *testing.T) {
	s := newServer(t, reply(http.StatusOK, okBody))
	c := NewClient(s.URL, time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Preconnect(ctx); err == nil {
		t.Fatal("Preconnect with a cancelled context succeeded")
	}
	if _, err := c.GenerateToken(context.Background(), testKey, Request{AvatarID: testAvatar}); err != nil {
		t.Fatalf("GenerateToken after a failed Preconnect: %v", err)
	}
}

// preconnected starts s (with TLS when useTLS) until the test ends, and
// returns a client that trusts it and has preconnected to it.
func preconnected(t *testing.T, s *httptest.Server, useTLS bool) *Client {
	t.Helper()
	if useTLS {
		s.StartTLS()
	} else {
		s.Start()
	}
	t.Cleanup(s.Close)
	c := NewClient(s.URL, time.Second)
	if useTLS {
		roots := x509.NewCertPool()
		roots.AddCert(s.Certificate())
		c.dialer.tls.RootCAs = roots
	}
	if err := c.Preconnect(context.Background()); err != nil {
		t.Fatalf("Preconnect: %v", err)
	}
	return c
}

// waitFor polls cond for up to a second: the server counts a connection
// from its own goroutine.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 1s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestPreconnectClosedByServer: a server may close a connection that
// carried no request (an idle or header timeout) before the first call
// uses it. The call must then get its token over a new connection, and
// Trulience must see the request once.
func TestPreconnectClosedByServer(t *testing.T) {
	for _, tt := range []struct {
		name       string
		tls, http2 bool
	}{
		{"http on loopback", false, false},
		{"https", true, false},
		{"https, the server offers h2", true, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var closed, calls atomic.Int32
			var opened atomic.Pointer[net.Conn]
			s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				reply(http.StatusOK, okBody)(w, r)
			}))
			s.Config.ConnState = func(c net.Conn, st http.ConnState) {
				switch st {
				case http.StateNew:
					opened.CompareAndSwap(nil, &c)
				case http.StateClosed:
					closed.Add(1)
				}
			}
			s.EnableHTTP2 = tt.http2
			c := preconnected(t, s, tt.tls)
			waitFor(t, func() bool { return opened.Load() != nil })
			(*opened.Load()).Close() // as an idle or header timeout would
			waitFor(t, func() bool { return closed.Load() == 1 })
			if _, err := c.GenerateToken(context.Background(), testKey, Request{AvatarID: testAvatar}); err != nil {
				t.Fatalf("GenerateToken over a connection the server closed: %v", err)
			}
			if n := calls.Load(); n != 1 {
				t.Errorf("Trulience got %d requests, want 1", n)
			}
		})
	}
}

// gatedListener holds every Accept until open is closed, so a TLS handshake
// cannot finish before the test lets it.
type gatedListener struct {
	net.Listener
	open chan struct{}
}

func (l gatedListener) Accept() (net.Conn, error) {
	<-l.open
	return l.Listener.Accept()
}

// TestCallDuringPreconnect: a call made while StartPreconnect's handshake is
// still under way waits for that connection instead of opening a second one.
func TestCallDuringPreconnect(t *testing.T) {
	var conns atomic.Int32
	s := httptest.NewUnstartedServer(reply(http.StatusOK, okBody))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	gate := gatedListener{s.Listener, make(chan struct{})}
	s.Listener = gate
	s.StartTLS()
	t.Cleanup(s.Close)
	c := NewClient(s.URL, 5*time.Second)
	roots := x509.NewCertPool()
	roots.AddCert(s.Certificate())
	c.dialer.tls.RootCAs = roots

	preconnected := make(chan error, 1)
	c.StartPreconnect(context.Background(), func(err error) { preconnected <- err })
	called := make(chan error, 1)
	go func() {
		_, err := c.GenerateToken(context.Background(), testKey, Request{AvatarID: testAvatar})
		called <- err
	}()
	select {
	case err := <-called:
		t.Fatalf("the call ended (%v) before the preconnected handshake could finish", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(gate.open)
	if err := <-preconnected; err != nil {
		t.Fatalf("StartPreconnect: %v", err)
	}
	if err := <-called; err != nil {
		t.Fatalf("GenerateToken: %v", err)
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections, want 1: the call did not wait for the preconnected one", n)
	}
}

// TestPeek: the liveness check looks at the socket without waiting, and
// tells an open quiet connection, a closed one, and one with unasked bytes
// apart, over plain TCP and under TLS.
func TestPeek(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		name := map[bool]string{false: "tcp", true: "tls"}[useTLS]
		t.Run(name, func(t *testing.T) {
			accepted := make(chan net.Conn, 1)
			s := httptest.NewUnstartedServer(reply(http.StatusOK, okBody))
			s.Config.ConnState = func(c net.Conn, st http.ConnState) {
				if st == http.StateNew {
					accepted <- c
				}
			}
			c := preconnected(t, s, useTLS)
			conn := c.dialer.next
			if got := peek(conn); got != peekIdle {
				t.Fatalf("peek of an open, quiet connection = %v, want peekIdle", got)
			}
			if !alive(conn) {
				t.Fatal("alive = false for an open connection")
			}
			server := <-accepted
			if useTLS {
				server.Close()
				waitFor(t, func() bool { return peek(conn) != peekIdle })
			} else {
				if _, err := server.Write([]byte("x")); err != nil {
					t.Fatal(err)
				}
				waitFor(t, func() bool { return peek(conn) == peekData })
			}
			if alive(conn) {
				t.Error("alive = true for a connection the server closed or wrote to unasked")
			}
		})
	}
}
