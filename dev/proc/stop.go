//go:build unix

package proc

import (
	"syscall"
	"time"
)

// StopGroup sends SIGTERM to the process group led by pid (a process
// started by Start), SIGKILL when it has not exited after grace, and returns
// once done (closed by Start's exited) is closed.
func StopGroup(pid int, done <-chan struct{}, grace time.Duration) {
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-done
	}
}
