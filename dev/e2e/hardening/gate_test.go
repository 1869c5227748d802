package hardening

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/trulience-token/trulience-token/dev/devstack"
)

// gate is a TCP relay between the function and the Trulience stand-in. It
// produces the faults an HTTP handler cannot: refused connections, a reset
// (RST) in the middle of a body, a server that accepts and never reads, bytes
// trickled before the status line. A fault applies to new connections:
// Cut closes the open ones first, so the function's kept-alive connection
// is gone and its next call dials again.
type gate struct {
	URL    string
	addr   string
	target string

	mu      sync.Mutex
	ln      net.Listener
	conns   map[net.Conn]bool
	handler func(net.Conn) // nil relays to target
	accepts int
	wg      sync.WaitGroup
}

func startGate(t *testing.T, target string) *gate {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := &gate{addr: ln.Addr().String(), target: target, conns: map[net.Conn]bool{}}
	g.URL = "http://" + g.addr
	g.listen(ln)
	t.Cleanup(func() {
		g.Refuse()
		g.wg.Wait()
	})
	return g
}

func (g *gate) listen(ln net.Listener) {
	g.mu.Lock()
	g.ln = ln
	g.mu.Unlock()
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			g.mu.Lock()
			g.conns[c] = true
			g.accepts++
			h := g.handler
			g.mu.Unlock()
			g.wg.Add(1)
			go func() {
				defer g.wg.Done()
				defer g.forget(c)
				if h != nil {
					h(c)
					return
				}
				g.relay(c)
			}()
		}
	}()
}

func (g *gate) forget(c net.Conn) {
	_ = c.Close()
	g.mu.Lock()
	delete(g.conns, c)
	g.mu.Unlock()
}

func (g *gate) relay(c net.Conn) {
	up, err := net.DialTimeout("tcp", g.target, 2*time.Second)
	if err != nil {
		return
	}
	g.mu.Lock()
	g.conns[up] = true
	g.mu.Unlock()
	defer g.forget(up)
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(up, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, up); done <- struct{}{} }()
	<-done
}

// Cut closes every open connection and waits a moment so the function's
// HTTP client notices its kept-alive connection is gone.
func (g *gate) Cut() {
	g.mu.Lock()
	for c := range g.conns {
		_ = c.Close()
	}
	g.mu.Unlock()
	time.Sleep(50 * time.Millisecond)
}

// Handle makes new connections meet h instead of the stand-in (nil relays again).
func (g *gate) Handle(h func(net.Conn)) {
	g.mu.Lock()
	g.handler = h
	g.mu.Unlock()
	g.Cut()
}

// Accepts is the number of connections accepted so far.
func (g *gate) Accepts() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.accepts
}

// Refuse stops listening and closes every connection: connection refused.
func (g *gate) Refuse() {
	g.mu.Lock()
	ln := g.ln
	g.ln = nil
	g.mu.Unlock()
	if ln != nil {
		_ = ln.Close()
	}
	g.Cut()
}

// Restore listens again on the same address.
func (g *gate) Restore(t *testing.T) {
	t.Helper()
	ln, err := devstack.Relisten(g.addr)
	if err != nil {
		t.Fatalf("re-listening on %s: %v", g.addr, err)
	}
	g.listen(ln)
}

// readRequest reads one HTTP request from c, body included.
func readRequest(c net.Conn) bool {
	req, err := http.ReadRequest(bufio.NewReader(c))
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, req.Body)
	return true
}

// resetMidBody answers 200 with a Content-Length for a whole token, sends
// part of it, then resets the connection (RST, not FIN).
func resetMidBody(c net.Conn) {
	if !readRequest(c) {
		return
	}
	body := `{"jwt":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln","expires_in":120,"avatar_id":"` + avatar + `"}`
	_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+body[:20])
	time.Sleep(20 * time.Millisecond)
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

// resetBeforeAnswer reads the request and resets the connection.
func resetBeforeAnswer(c net.Conn) {
	if !readRequest(c) {
		return
	}
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

// blackHole accepts and never reads nor answers, until the peer gives up.
func blackHole(c net.Conn) {
	_, _ = io.Copy(io.Discard, c) // returns when the function closes its end
}

// trickleHeaders reads the request and sends the status line one byte every
// 100ms, never finishing in time.
func trickleHeaders(c net.Conn) {
	if !readRequest(c) {
		return
	}
	for _, b := range []byte("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}") {
		if _, err := c.Write([]byte{b}); err != nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}
