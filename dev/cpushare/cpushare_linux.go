//go:build linux

package cpushare

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

const (
	v1Root = "/sys/fs/cgroup/cpu"
	v2Root = "/sys/fs/cgroup"
)

// Group is a cgroup limited to a share of one CPU.
type Group struct {
	dir string
	v2  bool
}

// New creates the group name (unique to this process) limited to share of
// one CPU. It fails with a message saying why where cgroups are not
// writable (not root, a read-only /sys/fs/cgroup, no cpu controller).
func New(name string, share float64) (*Group, error) {
	if share <= 0 || share > 1 {
		return nil, fmt.Errorf("cpushare: share %v is not in (0, 1]", share)
	}
	quota, period := Quota(share)
	name = fmt.Sprintf("bench-%d-%s", os.Getpid(), name)
	if hasV2CPU() {
		g := &Group{dir: filepath.Join(v2Root, name), v2: true}
		// The root must hand the cpu controller down to its children.
		_ = os.WriteFile(filepath.Join(v2Root, "cgroup.subtree_control"), []byte("+cpu"), 0)
		if err := g.create(map[string]string{"cpu.max": fmt.Sprintf("%d %d", quota.Microseconds(), period.Microseconds())}); err != nil {
			return nil, err
		}
		return g, nil
	}
	if _, err := os.Stat(filepath.Join(v1Root, "cpu.cfs_quota_us")); err != nil {
		return nil, errors.New("cpushare: no cgroup cpu controller at /sys/fs/cgroup/cpu (v1) or in /sys/fs/cgroup/cgroup.controllers (v2)")
	}
	g := &Group{dir: filepath.Join(v1Root, name)}
	// The period first: a quota larger than the old period is refused otherwise.
	if err := g.create(map[string]string{
		"cpu.cfs_period_us": strconv.FormatInt(period.Microseconds(), 10),
		"cpu.cfs_quota_us":  strconv.FormatInt(quota.Microseconds(), 10),
	}, "cpu.cfs_period_us", "cpu.cfs_quota_us"); err != nil {
		return nil, err
	}
	return g, nil
}

func hasV2CPU() bool {
	b, err := os.ReadFile(filepath.Join(v2Root, "cgroup.controllers"))
	return err == nil && strings.Contains(" "+string(b)+" ", " cpu ")
}

// create makes the group's directory and writes its files, in order when
// given, else in any order.
func (g *Group) create(files map[string]string, order ...string) error {
	if err := os.Mkdir(g.dir, 0o755); err != nil {
		return fmt.Errorf("cpushare: creating the cgroup %s: %w (run as root, on Linux with a writable cgroup cpu controller)", g.dir, err)
	}
	if len(order) == 0 {
		for f := range files {
			order = append(order, f)
		}
	}
	for _, f := range order {
		if err := os.WriteFile(filepath.Join(g.dir, f), []byte(files[f]), 0); err != nil {
			g.Close()
			return fmt.Errorf("cpushare: writing %s: %w", f, err)
		}
	}
	return nil
}

// Add moves process pid (all its threads) into the group; the processes it
// starts afterwards belong to the group too.
func (g *Group) Add(pid int) error {
	if err := os.WriteFile(filepath.Join(g.dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0); err != nil {
		return fmt.Errorf("cpushare: adding process %d to %s: %w", pid, g.dir, err)
	}
	return nil
}

// Throttled is the time the group's processes waited for their quota so far.
func (g *Group) Throttled() (ms float64) {
	b, err := os.ReadFile(filepath.Join(g.dir, "cpu.stat"))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(line, " ")
		n, _ := strconv.ParseFloat(v, 64)
		switch k {
		case "throttled_time": // v1, ns
			return n / 1e6
		case "throttled_usec": // v2
			return n / 1e3
		}
	}
	return 0
}

// Close removes the group; its processes must have ended.
func (g *Group) Close() error { return os.Remove(g.dir) }
