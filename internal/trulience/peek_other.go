//go:build !unix

package trulience

import "net"

// peek cannot look at a socket without reading here: alive falls back to a
// read with a deadline.
func peek(net.Conn) peekResult { return peekUnknown }
