package earlyconn

import (
	"context"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestAddr(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"https://api.trulience.com", "api.trulience.com:443", true},
		{"https://API.Trulience.com/base", "API.Trulience.com:443", true},
		{"https://127.0.0.1:8443/base", "127.0.0.1:8443", true},
		{"https://[::1]:8443", "[::1]:8443", true},
		{"http://127.0.0.1:8080", "", false},
		{"", "", false},
		{"https://", "", false},
	}
	for _, tt := range tests {
		if got, ok := Addr(tt.in); got != tt.want || ok != tt.ok {
			t.Errorf("Addr(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// Addr is the address net/http's transport dials for the URL, whatever
// the host's case: otherwise the early connection is never taken.
func TestAddrAsTransportDials(t *testing.T) {
	for _, u := range []string{"https://api.trulience.com/x", "https://API.Trulience.com/x", "https://Example.TEST:8443/x", "https://[::1]:8443/x"} {
		var dialed string
		tr := &http.Transport{DialTLSContext: func(_ context.Context, _, addr string) (net.Conn, error) {
			dialed = addr
			return nil, errors.New("not dialing")
		}}
		_, _ = (&http.Client{Transport: tr}).Get(u)
		if got, _ := Addr(u); got != dialed {
			t.Errorf("%s: Addr %q, the transport dials %q", u, got, dialed)
		}
	}
}

// server is a TLS server counting its connections, and a client that
// dials through Dialer with its roots.
func server(t *testing.T, h http.HandlerFunc) (*httptest.Server, *http.Client, *int) {
	t.Helper()
	var mu sync.Mutex
	conns := 0
	s := httptest.NewUnstartedServer(h)
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			mu.Lock()
			conns++
			mu.Unlock()
		}
	}
	s.StartTLS()
	t.Cleanup(s.Close)
	roots := x509.NewCertPool()
	roots.AddCert(s.Certificate())
	c := &http.Client{Transport: &http.Transport{DialTLSContext: Dialer{Roots: roots}.DialTLSContext}}
	t.Cleanup(c.CloseIdleConnections)
	return s, c, &conns
}

func reporting(t *testing.T) *[]string {
	t.Helper()
	var mu sync.Mutex
	var got []string
	Report(func(addr, outcome string) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, outcome)
	})
	t.Cleanup(func() { Report(nil) })
	return &got
}

func get(t *testing.T, c *http.Client, url string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

// TestEarlyConnectionCarriesTheFirstRequest: the connection started early
// carries the first request and is reported used, once.
func TestEarlyConnectionCarriesTheFirstRequest(t *testing.T) {
	s, c, conns := server(t, func(http.ResponseWriter, *http.Request) {})
	got := reporting(t)
	roots := x509.NewCertPool()
	roots.AddCert(s.Certificate())
	Start(s.URL, roots)
	for range 3 {
		get(t, c, s.URL)
	}
	if *conns != 1 {
		t.Errorf("%d connections for an early one and three requests, want 1", *conns)
	}
	if !slices.Equal(*got, []string{Used}) {
		t.Errorf("reported %q, want [%q]", *got, Used)
	}
}

// TestOldConnectionIsNotUsed: an early connection older than MaxAge is
// closed, and the request dials a new one.
func TestOldConnectionIsNotUsed(t *testing.T) {
	s, c, conns := server(t, func(http.ResponseWriter, *http.Request) {})
	got := reporting(t)
	roots := x509.NewCertPool()
	roots.AddCert(s.Certificate())
	Start(s.URL, roots)
	state.Lock()
	e := state.conns[len(state.conns)-1]
	e.at = e.at.Add(-MaxAge - time.Second)
	state.Unlock()
	get(t, c, s.URL)
	if *conns != 2 {
		t.Errorf("%d connections, want 2 (the old one, then the request's own)", *conns)
	}
	if !slices.Equal(*got, []string{TooOld}) {
		t.Errorf("reported %q, want [%q]", *got, TooOld)
	}
}

// TestFailedDialFallsBack: when the early handshake fails (here: the
// certificate is not trusted), the request dials as usual.
func TestFailedDialFallsBack(t *testing.T) {
	s, c, _ := server(t, func(http.ResponseWriter, *http.Request) {})
	got := reporting(t)
	Start(s.URL, x509.NewCertPool())
	get(t, c, s.URL)
	if len(*got) != 1 || !strings.HasPrefix((*got)[0], Failed) {
		t.Errorf("reported %q, want one %q", *got, Failed)
	}
}

// TestTakeGivesUpWithTheRequest: a request that ends while the early
// handshake is under way does not wait for it.
func TestTakeGivesUpWithTheRequest(t *testing.T) {
	e := &early{addr: "192.0.2.1:443", at: time.Now(), done: make(chan struct{})}
	state.Lock()
	state.conns = append(state.conns, e)
	state.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if c := take(ctx, e.addr); c != nil {
		t.Error("take returned a connection")
	}
	close(e.done)
}

func TestWanted(t *testing.T) {
	for _, tt := range []struct {
		env  map[string]string
		want bool
	}{
		{nil, false},
		{map[string]string{"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001"}, true},
		{map[string]string{"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001", "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand"}, true},
		{map[string]string{"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001", "AWS_LAMBDA_INITIALIZATION_TYPE": "provisioned-concurrency"}, false},
	} {
		if got := Wanted(func(k string) string { return tt.env[k] }); got != tt.want {
			t.Errorf("%v: Wanted = %v, want %v", tt.env, got, tt.want)
		}
	}
}
