// Package cpushare runs process trees with the CPU share Lambda gives a
// memory size: Lambda allocates CPU in proportion to memory, 1,769 MB being
// one vCPU, so 128 MB gets about 7 % of one. A Group is a Linux cgroup with
// a CFS quota (cgroup v1's cpu controller, or v2's cpu.max) whose period is
// short (10 ms) so that the share is spread evenly rather than granted in
// 100 ms bursts. make bench puts each function's emulator in a group of its
// own; the function it starts inherits it.
package cpushare

import (
	"fmt"
	"time"
)

// OneCPU is the memory size (MB) at which Lambda gives a whole vCPU.
const OneCPU = 1769

// Period is the CFS period of every group, unless the quota of its share
// would be under the kernel's 1 ms minimum (see Quota).
const Period = 10 * time.Millisecond

// minQuota is the smallest CFS quota the kernel accepts.
const minQuota = time.Millisecond

// Share is the fraction of one CPU Lambda gives memoryMB (at most 1: above
// 1,769 MB a function gets more than one vCPU, which a single-threaded
// share does not model).
func Share(memoryMB int) float64 { return min(float64(memoryMB)/OneCPU, 1) }

// Quota is the CFS quota and period for share: Period and share of it, or,
// where that quota is under 1 ms, 1 ms and the period that keeps the share
// (13.8 ms at 128 MB).
func Quota(share float64) (quota, period time.Duration) {
	period = Period
	quota = time.Duration(share * float64(period))
	if quota < minQuota {
		quota = minQuota
		period = time.Duration(float64(minQuota) / share)
	}
	return quota, period
}

// Describe is how the output names a share: "7.2 % of a CPU (quota 1.00 ms per 13.82 ms)".
func Describe(share float64) string {
	q, p := Quota(share)
	return fmt.Sprintf("%.1f %% of a CPU (quota %.2f ms per %.2f ms)", 100*share, float64(q)/1e6, float64(p)/1e6)
}
