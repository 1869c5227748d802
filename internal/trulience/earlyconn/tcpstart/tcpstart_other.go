//go:build !linux

package tcpstart

import (
	"errors"
	"time"
)

// Start starts nothing and reports false: connections are started early on
// Linux only.
func Start(rawURL string) bool { return false }

// Take reports none: connections are started early on Linux only.
func Take(addr string) (fd int, ok bool) { return -1, false }

// WaitConnected is never called where Take reports none.
func WaitConnected(fd int, timeout time.Duration) error {
	return errors.New("tcpstart: not supported on this system")
}
