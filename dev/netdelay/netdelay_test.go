package netdelay

import (
	"bytes"
	"crypto/rand"
	"io"
	"net"
	"testing"
	"time"
)

// echoServer answers every connection with what it receives, until the
// client half-closes.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

func start(t *testing.T, rtt time.Duration) *Proxy {
	t.Helper()
	p, err := Start(echoServer(t), rtt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// roundTrip writes msg and reads as many bytes back.
func roundTrip(t *testing.T, c net.Conn, msg []byte) {
	t.Helper()
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, msg) {
		t.Fatal("the echo differs from what was sent")
	}
}

// TestDelay checks the added latency is at least the configured one: the
// first exchange pays the TCP handshake and a round trip, each later one a
// round trip. Only lower bounds are asserted: a busy machine adds more.
func TestDelay(t *testing.T) {
	const rtt = 30 * time.Millisecond
	p := start(t, rtt)
	begin := time.Now()
	c, err := net.Dial("tcp", p.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	roundTrip(t, c, []byte("ping"))
	if d := time.Since(begin); d < 2*rtt {
		t.Errorf("connect and first round trip took %v, want at least 2×RTT = %v", d, 2*rtt)
	}
	for i := range 3 {
		begin = time.Now()
		roundTrip(t, c, []byte("again"))
		if d := time.Since(begin); d < rtt {
			t.Errorf("round trip %d on the open connection took %v, want at least RTT = %v", i+2, d, rtt)
		}
	}
}

// TestIntegrity sends more than one chunk's worth each way and checks the
// bytes arrive whole and in order, and that a half-close reaches the server
// and its close comes back.
func TestIntegrity(t *testing.T) {
	p := start(t, 2*time.Millisecond)
	c, err := net.Dial("tcp", p.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msg := make([]byte, 1<<20)
	_, _ = rand.Read(msg)
	errc := make(chan error, 1)
	go func() {
		_, err := c.Write(msg)
		if err == nil {
			err = c.(*net.TCPConn).CloseWrite()
		}
		errc <- err
	}()
	got, err := io.ReadAll(c) // ends when the echo server closes after our half-close
	if err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, msg) {
		t.Fatalf("got %d bytes back, want the %d sent, in order", len(got), len(msg))
	}
}

// TestClose: closing the proxy cuts open connections and refuses new ones.
func TestClose(t *testing.T) {
	p := start(t, time.Millisecond)
	c, err := net.Dial("tcp", p.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	roundTrip(t, c, []byte("x"))
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := c.Read(make([]byte, 1)); err == nil {
		t.Errorf("read %d bytes from a connection the closed proxy should have cut", n)
	}
	if c2, err := net.Dial("tcp", p.Addr); err == nil {
		c2.Close()
		t.Error("a closed proxy accepted a connection")
	}
}

func TestNegativeRTT(t *testing.T) {
	if _, err := Start("127.0.0.1:1", -time.Millisecond); err == nil {
		t.Error("Start accepted a negative round-trip time")
	}
}
