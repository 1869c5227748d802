//go:build !linux

package cpushare

import (
	"errors"
	"runtime"
)

// Group is a cgroup limited to a share of one CPU: Linux only.
type Group struct{}

// New fails: CPU quotas per process tree need Linux cgroups.
func New(string, float64) (*Group, error) {
	return nil, errors.New("cpushare: Lambda's CPU share is emulated with Linux cgroups; " + runtime.GOOS + " has none (run make bench -memory on Linux, as root)")
}

// Add does nothing.
func (*Group) Add(int) error { return nil }

// Throttled is 0.
func (*Group) Throttled() float64 { return 0 }

// Close does nothing.
func (*Group) Close() error { return nil }
