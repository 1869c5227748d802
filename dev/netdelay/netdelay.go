// Package netdelay is a TCP proxy that adds network latency: it forwards
// every connection to a target on loopback and delays each chunk by half a
// round-trip time in each direction, and a connection's first bytes by one
// more round trip, the TCP handshake's. A TLS handshake through it costs what
// it costs over a real network (one round trip for TLS 1.3, after the TCP
// one), and so does each request on a kept-alive connection. Bandwidth,
// loss and jitter are not modelled.
//
// The delays are lower bounds: on a busy machine a chunk may be forwarded
// later than due, never earlier.
package netdelay

import (
	"errors"
	"io"
	"net"
	"runtime"
	"sync"
	"time"
)

// Proxy forwards connections made to Addr to its target, with latency.
type Proxy struct {
	// Addr is the loopback address to connect to, host:port.
	Addr string
	// RTT is the round-trip time added to every exchange.
	RTT time.Duration

	target string
	ln     net.Listener

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// Start listens on a free loopback port and forwards each connection to
// target (host:port) with rtt of added round-trip time.
func Start(target string, rtt time.Duration) (*Proxy, error) {
	if rtt < 0 {
		return nil, errors.New("netdelay: negative round-trip time")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{Addr: ln.Addr().String(), RTT: rtt, target: target, ln: ln, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Close stops listening and cuts every open connection.
func (p *Proxy) Close() error {
	err := p.ln.Close()
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
	return err
}

func (p *Proxy) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	for _, c := range cs {
		p.conns[c] = struct{}{}
	}
	return true
}

func (p *Proxy) untrack(cs ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		delete(p.conns, c)
		c.Close()
	}
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		// The kernel has completed the client's connect already; the
		// handshake's round trip is charged to its first bytes instead
		// (a client cannot send before its connect returns).
		open := time.Now().Add(p.RTT)
		upstream, err := net.Dial("tcp", p.target)
		if err != nil {
			client.Close()
			continue
		}
		if !p.track(client, upstream) {
			client.Close()
			upstream.Close()
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			var both sync.WaitGroup
			both.Go(func() { p.forward(upstream, client, open) })
			both.Go(func() { p.forward(client, upstream, time.Time{}) })
			both.Wait()
			p.untrack(client, upstream)
		}()
	}
}

// chunk is bytes read from one side, due on the other at due; nil data is
// the end of the stream (a half-close).
type chunk struct {
	data []byte
	buf  *[]byte // data's buffer, back to bufs once written
	due  time.Time
}

// bufs are the read buffers, reused so that the proxies do not make the
// garbage collector of the process they run in (the bench's, which also
// serves the stand-ins) stop the world during a measurement.
var bufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// forward copies src to dst, each chunk written half a round trip after it
// was read, and not before notBefore plus half a round trip. The end of src
// is passed on as a half-close; any other failure cuts both connections.
func (p *Proxy) forward(dst, src net.Conn, notBefore time.Time) {
	queue := make(chan chunk, 256)
	go func() {
		defer close(queue)
		for {
			buf := bufs.Get().(*[]byte)
			n, err := src.Read(*buf)
			due := time.Now()
			if due.Before(notBefore) {
				due = notBefore
			}
			due = due.Add(p.RTT / 2)
			if n > 0 {
				queue <- chunk{data: (*buf)[:n], buf: buf, due: due}
			} else {
				bufs.Put(buf)
			}
			if err != nil {
				if errors.Is(err, io.EOF) {
					queue <- chunk{due: due}
				}
				return
			}
		}
	}()
	for c := range queue {
		waitUntil(c.due)
		if c.data == nil { // src ended cleanly
			if tc, ok := dst.(*net.TCPConn); ok {
				_ = tc.CloseWrite()
			}
			return
		}
		_, err := dst.Write(c.data)
		bufs.Put(c.buf)
		if err != nil {
			break
		}
	}
	// A reset, a failed write or the proxy closing: cut both, which also
	// ends the reader and the other direction.
	src.Close()
	dst.Close()
	for range queue {
	}
}

// waitUntil returns at t, not before, and as soon after as it can: the
// runtime's timers may wake up to a millisecond late, which over the several
// chunks of a handshake would add milliseconds no network adds, so the last
// millisecond is waited by yielding instead.
func waitUntil(t time.Time) {
	if d := time.Until(t) - time.Millisecond; d > 0 {
		time.Sleep(d)
	}
	for time.Now().Before(t) {
		runtime.Gosched()
	}
}
