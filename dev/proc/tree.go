//go:build unix

package proc

import "syscall"

// Process identifies a process by pid and start time, so that a recycled
// pid is never mistaken for it.
type Process struct {
	PID   int
	Start string // StartTime when it was found
}

// Find returns pid as a Process, with a zero Start when it is gone.
func Find(pid int) Process { return Process{pid, StartTime(pid)} }

// Kill sends SIGKILL to p if it is still the same process.
func (p Process) Kill() {
	if StartTime(p.PID) == p.Start {
		_ = syscall.Kill(p.PID, syscall.SIGKILL)
	}
}
