package earlyconn

import (
	"context"
	"crypto/x509"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestHTTPSAddr(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"https://api.trulience.com", "api.trulience.com:443", true},
		{"https://127.0.0.1:8443/base", "127.0.0.1:8443", true},
		{"http://127.0.0.1:8080", "", false},
		{"", "", false},
		{"https://", "", false},
	}
	for _, tt := range tests {
		got, ok := httpsAddr(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("httpsAddr(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// TestTakeOnce: the connection started early goes to the first Take for its
// address only; other addresses and later calls get nil.
func TestTakeOnce(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // a server that accepts and never answers: the TLS dial fails when it closes
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	addr := ln.Addr().String()
	start(addr, Config())
	ctx := context.Background()
	if c := Take(ctx, "127.0.0.1:1"); c != nil {
		t.Error("Take for another address returned a connection")
	}
	if c := Take(ctx, addr); c != nil {
		c.Close()
		t.Error("Take returned a connection whose TLS handshake failed")
	}
	if c := Take(ctx, addr); c != nil {
		t.Error("a second Take returned a connection")
	}
}

// TestTakeOpen: a handshake that succeeds hands over an open TLS connection
// that carries a request.
func TestTakeOpen(t *testing.T) {
	s := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer s.Close()
	cfg := Config()
	cfg.RootCAs = x509.NewCertPool()
	cfg.RootCAs.AddCert(s.Certificate())
	addr := s.Listener.Addr().String()
	start(addr, cfg)
	c := Take(context.Background(), addr)
	if c == nil {
		t.Fatal("Take returned no connection after a successful handshake")
	}
	defer c.Close()
	if _, err := c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 12)
	if _, err := c.Read(b); err != nil || string(b) != "HTTP/1.1 200" {
		t.Errorf("read %q, %v; want an HTTP/1.1 200 answer", b, err)
	}
}
