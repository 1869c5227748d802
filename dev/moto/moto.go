package moto

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/trulience-token/trulience-token/dev/proc"
	"github.com/trulience-token/trulience-token/dev/testenv"
)

// ErrNoMoto reports that moto_server is neither in the project's .venv nor on PATH.
var ErrNoMoto = errors.New("moto: moto_server not found in .venv/bin or on PATH (make tools installs it)")

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
	argv, err := Command()
	if err != nil {
		return nil, err
	}
	m := &Moto{done: make(chan struct{})}
	m.cmd = exec.Command(argv[0], append(argv[1:], "-H", "127.0.0.1", "-p", "0")...)
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
			return fmt.Errorf("moto: moto_server exited: %s", m.out.String())
		case <-ctx.Done():
			return fmt.Errorf("moto: moto_server did not answer: %w; output: %s", ctx.Err(), m.out.String())
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

// ForTest starts moto_server for the test and stops it at cleanup. When
// moto_server is missing the test is skipped, or fails with
// REQUIRE_INTEGRATION=1.
func ForTest(t testing.TB) *Moto {
	t.Helper()
	m, err := StartMoto(context.Background())
	if errors.Is(err, ErrNoMoto) {
		testenv.Missing(t, "moto_server", "make tools installs it into .venv")
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m
}

// Command is how to run moto_server: from the project's virtual
// environment (.venv, in the working directory or a parent; `make tools`
// makes it), else from PATH.
func Command() ([]string, error) {
	if dir, err := os.Getwd(); err == nil {
		for ; ; dir = filepath.Dir(dir) {
			bin := filepath.Join(dir, ".venv", "bin")
			if isFile(filepath.Join(bin, "moto_server")) {
				return []string{filepath.Join(bin, "moto_server")}, nil
			}
			// With --system-site-packages the venv may use the system's
			// moto, whose script is not in .venv/bin.
			if isFile(filepath.Join(bin, "python")) && isFile(filepath.Join(dir, "dev", "requirements.txt")) {
				return []string{filepath.Join(bin, "python"), "-m", "moto.server"}, nil
			}
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	if p, err := exec.LookPath("moto_server"); err == nil {
		return []string{p}, nil
	}
	return nil, ErrNoMoto
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}
