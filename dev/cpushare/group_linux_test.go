//go:build linux

package cpushare

import (
	"os/exec"
	"testing"
	"time"
)

// TestGroupThrottles: a busy process in a 128 MB group gets about its share.
func TestGroupThrottles(t *testing.T) {
	g, err := New("test", Share(128))
	if err != nil {
		t.Skip(err)
	}
	cmd := exec.Command("sh", "-c", "while :; do :; done")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if err := g.Add(cmd.Process.Pid); err != nil {
		cmd.Process.Kill()
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	cmd.Process.Kill()
	_ = cmd.Wait()
	defer g.Close()
	// Throttled for most of the time: at 7 % of a CPU, about 460 of 500 ms.
	if ms := g.Throttled(); ms < 300 {
		t.Errorf("throttled %.0f ms of 500, want most of it", ms)
	}
}
