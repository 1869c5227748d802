//go:build unix && !linux

package proc

import (
	"os/exec"
	"syscall"
)

// Start starts cmd in a process group of its own and calls exited once the
// child is gone. Outside Linux there is no parent-death signal: the
// children are stopped by their owner's Close (and by Ctrl-C, which reaches
// the whole foreground process group).
func Start(cmd *exec.Cmd, exited func()) error {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	if err := cmd.Start(); err != nil {
		return err
	}
	go func() {
		_ = cmd.Wait()
		exited()
	}()
	return nil
}
