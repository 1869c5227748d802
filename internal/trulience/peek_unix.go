//go:build unix

package trulience

import (
	"crypto/tls"
	"errors"
	"net"
	"syscall"
)

// peek looks at c's socket without reading from it or waiting: a
// non-blocking MSG_PEEK of one byte (of the TCP stream under TLS).
func peek(c net.Conn) peekResult {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return peekUnknown
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return peekUnknown
	}
	res := peekUnknown
	err = raw.Read(func(fd uintptr) bool {
		var b [1]byte
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EWOULDBLOCK):
			res = peekIdle
		case err != nil || n == 0:
			res = peekClosed
		default:
			res = peekData
		}
		return true // done: never wait for the socket to become readable
	})
	if err != nil {
		return peekClosed
	}
	return res
}
