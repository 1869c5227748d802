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
			if tt.tls {
				s.StartTLS()
			} else {
				s.Start()
			}
			t.Cleanup(s.Close)
			c := NewClient(s.URL, time.Second)
			if tt.tls {
				roots := x509.NewCertPool()
				roots.AddCert(s.Certificate())
				c.dialer.tls.RootCAs = roots
			}
			if err := c.Preconnect(context.Background()); err != nil {
				t.Fatalf("Preconnect: %v", err)
			}
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
