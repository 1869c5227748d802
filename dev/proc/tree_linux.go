//go:build linux

package proc

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Descendants returns the processes under pid (children first, then theirs).
func Descendants(pid int) []Process {
	var out []Process
	tasks, _ := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/children")
	for _, t := range tasks {
		b, _ := os.ReadFile(t)
		for _, f := range strings.Fields(string(b)) {
			c, err := strconv.Atoi(f)
			if err != nil {
				continue
			}
			if st := StartTime(c); st != "" {
				out = append(out, Process{c, st})
				out = append(out, Descendants(c)...)
			}
		}
	}
	return out
}

// StartTime is field 22 of /proc/<pid>/stat (the start time in clock ticks
// since boot), or "" when the process is gone.
func StartTime(pid int) string {
	f := statFields(pid)
	if len(f) < 20 {
		return ""
	}
	return f[19]
}

// Alive reports whether p still runs: the same process, not a zombie
// waiting for its parent.
func (p Process) Alive() bool {
	f := statFields(p.PID)
	return len(f) >= 20 && f[19] == p.Start && f[0] != "Z"
}

// statFields are the fields of /proc/<pid>/stat after the command name
// (which may hold spaces): state first. Nil when the process is gone.
func statFields(pid int) []string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(s[i+1:])
}
