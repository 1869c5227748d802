package localsm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// ErrNoMoto reports that moto_server is not on PATH.
var ErrNoMoto = errors.New("localsm: moto_server not found on PATH (pip install 'moto[server]')")

// Moto is a running moto_server process.
type Moto struct {
	// URL is the endpoint, http://127.0.0.1:port.
	URL string

	cmd    *exec.Cmd
	out    lockedBuffer
	done   chan struct{}
	closed sync.Once
}

// StartMoto starts `moto_server -H 127.0.0.1 -p <free port>` and waits until
// it answers. Close stops it and everything it started.
func StartMoto(ctx context.Context) (*Moto, error) {
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		return nil, ErrNoMoto
	}
	var last error
	for range 3 { // the free port may be taken between probe and bind
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		m := &Moto{URL: "http://127.0.0.1:" + strconv.Itoa(port), done: make(chan struct{})}
		m.cmd = exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
		m.cmd.Stdout, m.cmd.Stderr = &m.out, &m.out
		m.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
		if err := startLocked(m.cmd, func() { close(m.done) }); err != nil {
			return nil, err
		}
		if last = m.wait(ctx); last == nil {
			return m, nil
		}
		m.Close()
		if ctx.Err() != nil {
			break
		}
	}
	return nil, last
}

// wait polls until moto answers, exits, or 30s pass.
func (m *Moto) wait(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, m.URL+"/moto-api/", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-m.done:
			return fmt.Errorf("localsm: moto_server exited: %s", m.out.String())
		case <-ctx.Done():
			return fmt.Errorf("localsm: moto_server did not answer: %w; output: %s", ctx.Err(), m.out.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Output is what moto_server printed so far (its request log).
func (m *Moto) Output() string { return m.out.String() }

// Close stops moto_server (SIGTERM to its process group, SIGKILL after 5s)
// and waits for it to exit.
func (m *Moto) Close() {
	m.closed.Do(func() {
		_ = syscall.Kill(-m.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-m.done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-m.cmd.Process.Pid, syscall.SIGKILL)
			<-m.done
		}
	})
}

// MotoForTest starts moto_server for the test and stops it at cleanup. When
// moto_server is missing the test is skipped, unless REQUIRE_INTEGRATION=1,
// in which case it fails.
func MotoForTest(t testing.TB) *Moto {
	t.Helper()
	m, err := StartMoto(context.Background())
	if errors.Is(err, ErrNoMoto) && !requireIntegration() {
		t.Skip("skipping integration test: moto_server not on PATH (set REQUIRE_INTEGRATION=1 to make this a failure)")
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// lockedBuffer is a bytes.Buffer safe for a process's writes and our reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// requireIntegration reports whether REQUIRE_INTEGRATION=1 (CI) turns a
// missing moto_server from a skip into a failure.
func requireIntegration() bool { return os.Getenv("REQUIRE_INTEGRATION") == "1" }

// startLocked starts cmd from a goroutine locked to its OS thread for the
// child's whole life, then calls exited once the child is gone. Pdeathsig
// fires when the creating thread ends, and Go may end an idle thread at any
// time (go.dev/issue/27505): without the lock the child could be killed
// while in use.
func startLocked(cmd *exec.Cmd, exited func()) error {
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the child
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		_ = cmd.Wait()
		exited()
	}()
	return <-started
}
