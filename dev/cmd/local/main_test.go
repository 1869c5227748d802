package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/trulience-token/trulience-token/dev/proc"
	"github.com/trulience-token/trulience-token/dev/rie"
)

func TestDefaultOrigins(t *testing.T) {
	tests := []struct {
		addr string
		want []string
	}{
		{"127.0.0.1:8000", []string{"http://127.0.0.1:8000", "http://localhost:8000"}},
		{":9000", []string{"http://127.0.0.1:9000", "http://localhost:9000"}},
		{"0.0.0.0:8000", []string{"http://127.0.0.1:8000", "http://localhost:8000"}},
		{"127.0.0.1:0", nil},
		{"nonsense", nil},
	}
	for _, tt := range tests {
		if got := defaultOrigins(tt.addr); !slices.Equal(got, tt.want) {
			t.Errorf("defaultOrigins(%q) = %v, want %v", tt.addr, got, tt.want)
		}
	}
}

func TestInvoke(t *testing.T) {
	root, err := rie.RepoRoot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out, logs bytes.Buffer
	err = run([]string{"-invoke", filepath.Join(root, "events", "token-request.json")}, &out, &logs)
	if err != nil {
		t.Fatalf("%v\n%s", err, logs.String())
	}
	if !strings.Contains(out.String(), `"statusCode": 200`) || !strings.Contains(out.String(), "shortened") {
		t.Errorf("output:\n%s", out.String())
	}
	if regexp.MustCompile(`eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{20,}`).Match(append(out.Bytes(), logs.Bytes()...)) {
		t.Errorf("a whole JWT was printed:\n%s\n%s", out.String(), logs.String())
	}
}

// TestSignalStopsEverything runs the command as `make local` does, asks for
// a token with the printed curl line's request, sends SIGINT and checks that
// no process it started is left.
func TestSignalStopsEverything(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "local")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-site-addr", "127.0.0.1:0", "-origins", "http://127.0.0.1:8000")
	stdout, _ := cmd.StdoutPipe()
	var logs bytes.Buffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	curl := regexp.MustCompile(`curl -s -X POST (\S+) -H 'Origin: (\S+)' -d '\{\}'`)
	lines := bufio.NewScanner(stdout)
	var m []string
	deadline := time.AfterFunc(60*time.Second, func() { _ = cmd.Process.Kill() })
	for m == nil && lines.Scan() {
		m = curl.FindStringSubmatch(lines.Text())
	}
	deadline.Stop()
	if m == nil {
		t.Fatalf("no curl line printed; log:\n%s", logs.String())
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	req, _ := http.NewRequest("POST", m[1], strings.NewReader(`{}`))
	req.Header.Set("Origin", m[2])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("the printed curl line got %d", resp.StatusCode)
	}

	kids := proc.Descendants(cmd.Process.Pid)
	if len(kids) < 2 {
		t.Errorf("expected the RIE and the function under the command, found %v", kids)
	}
	_ = cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit: %v\n%s", err, logs.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("still running 15s after SIGINT")
	}
	for _, p := range kids {
		if p.Alive() {
			t.Errorf("process %d left running", p.PID)
		}
	}
}
