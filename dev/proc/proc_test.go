package proc

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestStartStopGroup: a process and the child it forks are both found
// under it, and StopGroup leaves neither running.
func TestStartStopGroup(t *testing.T) {
	cmd := exec.Command("sh", "-c", "sleep 60 & wait")
	done := make(chan struct{})
	if err := Start(cmd, func() { close(done) }); err != nil {
		t.Fatal(err)
	}
	parent := Find(cmd.Process.Pid)
	var kids []Process
	for deadline := time.Now().Add(5 * time.Second); len(kids) == 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
		kids = Descendants(parent.PID)
	}
	if len(kids) != 1 || !kids[0].Alive() || !parent.Alive() {
		t.Fatalf("want sh alive with one live child, got %v (sh alive: %v)", kids, parent.Alive())
	}
	StopGroup(parent.PID, done, 5*time.Second)
	for deadline := time.Now().Add(2 * time.Second); kids[0].Alive() && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	for _, p := range append(kids, parent) {
		if p.Alive() {
			t.Errorf("process %d still running after StopGroup", p.PID)
		}
	}
}

func TestStartError(t *testing.T) {
	err := Start(exec.Command("/nonexistent/binary"), func() { t.Error("exited called for a process that never started") })
	if err == nil {
		t.Fatal("no error starting a missing binary")
	}
}

func TestProcessIdentity(t *testing.T) {
	self := Find(os.Getpid())
	if self.Start == "" || !self.Alive() {
		t.Fatalf("this process: %+v, alive %v", self, self.Alive())
	}
	if recycled := (Process{self.PID, self.Start + "0"}); recycled.Alive() {
		t.Error("a process with another start time counts as alive")
	}
	if gone := Find(1 << 30); gone.Start != "" || gone.Alive() {
		t.Errorf("a pid that does not exist: %+v", gone)
	}
}

func TestBuffer(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 100 {
				fmt.Fprintf(&b, "%d\n", i)
				_ = b.String()
			}
		})
	}
	wg.Wait()
	if n := strings.Count(b.String(), "\n"); n != 800 {
		t.Errorf("%d lines, want 800", n)
	}
}
