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
