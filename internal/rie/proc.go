package rie

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// proc identifies a process by pid and start time, so a recycled pid is
// never killed by mistake.
type proc struct {
	pid   int
	start string
}

// children returns the descendants of pid (Linux /proc), deepest last.
func children(pid int) []proc {
	var out []proc
	tasks, _ := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/children")
	for _, t := range tasks {
		b, _ := os.ReadFile(t)
		for _, f := range strings.Fields(string(b)) {
			c, err := strconv.Atoi(f)
			if err != nil {
				continue
			}
			if st := startTime(c); st != "" {
				out = append(out, proc{c, st})
				out = append(out, children(c)...)
			}
		}
	}
	return out
}

// startTime is field 22 of /proc/pid/stat, or "" when the process is gone.
func startTime(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')') // the command name may hold spaces
	if i < 0 {
		return ""
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return ""
	}
	return f[19]
}

// kill sends SIGKILL to p if it is still the same process.
func (p proc) kill() {
	if startTime(p.pid) == p.start {
		_ = syscall.Kill(p.pid, syscall.SIGKILL)
	}
}
