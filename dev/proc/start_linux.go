//go:build linux

package proc

import (
	"os/exec"
	"runtime"
	"syscall"
)

// Start starts cmd in a process group of its own, to be killed if this
// process dies, and calls exited once the child is gone.
//
// The child is started from a goroutine locked to its OS thread for the
// child's whole life: Pdeathsig fires when the creating thread ends, and Go
// may end an idle thread at any time (go.dev/issue/27505), which would kill
// the child while in use.
func Start(cmd *exec.Cmd, exited func()) error {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the child
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		_ = cmd.Wait()
		exited()
	}()
	return <-started
}
