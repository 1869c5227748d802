package localsm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/trulience-token/trulience-token/internal/proc"
)

// ErrNoMoto reports that moto_server is not on PATH.
var ErrNoMoto = errors.New("localsm: moto_server not found on PATH (pip install 'moto[server]')")

// Moto is a running moto_server process.
type Moto struct {
	// URL is the endpoint, http://127.0.0.1:port.
	URL string

	cmd    *exec.Cmd
	out    proc.Buffer
	done   chan struct{}
	closed sync.Once
}

// StartMoto starts `moto_server -H 127.0.0.1 -p 0` and waits until it
// answers. With port 0 moto binds a port itself and prints it, so no other
// process can take the port between choosing and binding it (a free port
// found beforehand could be taken by a parallel test's server, which would
// then answer in moto's place). Close stops it and everything it started.
func StartMoto(ctx context.Context) (*Moto, error) {
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		return nil, ErrNoMoto
	}
	m := &Moto{done: make(chan struct{})}
	m.cmd = exec.Command(bin, "-H", "127.0.0.1", "-p", "0")
	m.cmd.Stdout, m.cmd.Stderr = &m.out, &m.out
	if err := proc.Start(m.cmd, func() { close(m.done) }); err != nil {
		return nil, err
	}
	if err := m.wait(ctx); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

// runningOn matches the line in which moto (werkzeug) names its address.
var runningOn = regexp.MustCompile(`Running on (http://127\.0\.0\.1:[0-9]+)`)

// wait reads moto's address from its output, then polls until it answers,
// exits, or 30s pass.
func (m *Moto) wait(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		if m.URL == "" {
			if sub := runningOn.FindStringSubmatch(m.out.String()); sub != nil {
				m.URL = sub[1]
			}
		}
		if m.URL != "" {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, m.URL+"/moto-api/", nil)
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return nil
				}
			}
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
	m.closed.Do(func() { proc.StopGroup(m.cmd.Process.Pid, m.done, 5*time.Second) })
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

// requireIntegration reports whether REQUIRE_INTEGRATION=1 (CI) turns a
// missing moto_server from a skip into a failure.
func requireIntegration() bool { return os.Getenv("REQUIRE_INTEGRATION") == "1" }
