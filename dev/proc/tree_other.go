//go:build unix && !linux

package proc

import (
	"os/exec"
	"strconv"
	"strings"
)

// Outside Linux there is no /proc: the process table comes from ps(1),
// whose -o fields pid, ppid, stat and lstart macOS and the BSDs share.

// psRow is one process as ps(1) lists it.
type psRow struct {
	pid, ppid int
	state     string
	start     string // lstart: the start time, to the second
}

// psTable lists every process, or nil when ps fails.
func psTable() []psRow {
	out, err := exec.Command("ps", "-axo", "pid=,ppid=,stat=,lstart=").Output()
	if err != nil {
		return nil
	}
	var rows []psRow
	for line := range strings.SplitSeq(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 4 {
			continue
		}
		pid, err1 := strconv.Atoi(f[0])
		ppid, err2 := strconv.Atoi(f[1])
		if err1 != nil || err2 != nil {
			continue
		}
		rows = append(rows, psRow{pid, ppid, f[2], strings.Join(f[3:], " ")})
	}
	return rows
}

// Descendants returns the processes under pid (children first, then theirs).
func Descendants(pid int) []Process {
	return descendants(psTable(), pid)
}

func descendants(rows []psRow, pid int) []Process {
	var out []Process
	for _, r := range rows {
		if r.ppid == pid && r.pid != pid {
			out = append(out, Process{r.pid, r.start})
			out = append(out, descendants(rows, r.pid)...)
		}
	}
	return out
}

// StartTime is the process's start time as ps prints it, or "" when the
// process is gone.
func StartTime(pid int) string {
	if r, ok := psRowOf(pid); ok {
		return r.start
	}
	return ""
}

// Alive reports whether p still runs: the same process, not a zombie
// waiting for its parent.
func (p Process) Alive() bool {
	r, ok := psRowOf(p.PID)
	return ok && r.start == p.Start && !strings.HasPrefix(r.state, "Z")
}

func psRowOf(pid int) (psRow, bool) {
	out, err := exec.Command("ps", "-o", "pid=,ppid=,stat=,lstart=", "-p", strconv.Itoa(pid)).Output()
	if err != nil {
		return psRow{}, false
	}
	f := strings.Fields(string(out))
	if len(f) < 4 {
		return psRow{}, false
	}
	return psRow{pid, 0, f[2], strings.Join(f[3:], " ")}, true
}
