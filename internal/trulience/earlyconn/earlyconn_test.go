package earlyconn

import (
	"bufio"
	"context"
	"crypto/x509"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/trulience-token/trulience-token/internal/trulience/earlyconn/tcpstart"
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
	startAndGet(t, s)
}

// startAndGet starts the early connection to s (trusting its certificate),
// takes it, and checks that it carries a request to a 200 answer.
func startAndGet(t *testing.T, s *httptest.Server) {
	t.Helper()
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
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("answer %s, want 200", resp.Status)
	}
}

// TestTakeStartedEarly: with the TCP connection started by package tcpstart
// (as in a Lambda, during initialization), the TLS handshake runs on that
// socket: the server sees one connection, which carries a request.
func TestTakeStartedEarly(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("connections are started early on Linux only")
	}
	var conns atomic.Int32
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	s.StartTLS()
	defer s.Close()
	if !tcpstart.Start(s.URL) {
		t.Fatalf("tcpstart.Start(%q) refused", s.URL)
	}
	startAndGet(t, s)
	addr := s.Listener.Addr().String()
	if fd, ok := tcpstart.Take(addr); ok {
		t.Errorf("the socket started early is still there (%d): the handshake did not use it", fd)
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("the server saw %d connections, want 1 (the one started early)", n)
	}
}

// TestStartedEarlyRefused: when the early TCP connection fails, the
// handshake is dialled as usual; here nothing listens, so there is none.
func TestStartedEarlyRefused(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	tcpstart.Start("https://" + addr)
	start(addr, Config())
	if c := Take(context.Background(), addr); c != nil {
		c.Close()
		t.Error("Take returned a connection to an address nothing listens on")
	}
}

// TestTakeTwo: connections to two addresses (Trulience and siteverify, with
// the bot check on) are kept apart; each Take gets its own.
func TestTakeTwo(t *testing.T) {
	cfg := Config()
	cfg.RootCAs = x509.NewCertPool()
	var addrs []string
	for range 2 {
		s := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
		defer s.Close()
		cfg.RootCAs.AddCert(s.Certificate())
		addrs = append(addrs, s.Listener.Addr().String())
	}
	for _, a := range addrs {
		start(a, cfg)
	}
	for _, a := range addrs {
		c := Take(context.Background(), a)
		if c == nil {
			t.Fatalf("Take(%s) returned no connection", a)
		}
		if got := c.RemoteAddr().String(); got != a {
			t.Errorf("Take(%s) returned a connection to %s", a, got)
		}
		c.Close()
	}
}
