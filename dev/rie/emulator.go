package rie

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/trulience-token/trulience-token/dev/proc"
)

// InvokePath is the RIE's invoke endpoint.
const InvokePath = "/2015-03-31/functions/function/invocations"

// Options say what to run and how.
type Options struct {
	// Bootstrap is the path of the function's executable.
	Bootstrap string
	// Env is the function's environment, on top of DefaultEnv; an empty
	// value removes the variable. Nothing else from the caller's environment
	// reaches the function.
	Env map[string]string
	// Addr is the RIE's listen address; empty picks a free loopback port.
	Addr string
	// Timeout is the function timeout (AWS_LAMBDA_FUNCTION_TIMEOUT), rounded
	// up to whole seconds; 0 means 30s.
	Timeout time.Duration
	// Stdout, if set, receives a copy of everything the RIE and the
	// function print (both streams, line by line).
	Stdout io.Writer
	// LogLevel is the RIE's own log level; empty means info. (The RIE would
	// otherwise read the function's LOG_LEVEL.)
	LogLevel string
	// Group, when set, gets the RIE's process as soon as it starts, so the
	// RIE and the function it starts share its limits (cpushare.Group).
	Group interface{ Add(pid int) error }
}

// DefaultEnv is the environment every function gets unless Options.Env
// overrides it: dummy credentials and a region, so the developer's own AWS
// credentials and config files never leak into a local run.
func DefaultEnv() map[string]string {
	return map[string]string{
		"PATH":                            "/usr/local/bin:/usr/bin:/bin",
		"AWS_ACCESS_KEY_ID":               "AKIALOCALTESTING000",
		"AWS_SECRET_ACCESS_KEY":           "local-testing-secret-access-key",
		"AWS_REGION":                      "us-east-1",
		"AWS_DEFAULT_REGION":              "us-east-1",
		"AWS_EC2_METADATA_DISABLED":       "true",
		"AWS_CONFIG_FILE":                 os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE":     os.DevNull,
		"AWS_LAMBDA_FUNCTION_NAME":        "TokenFunction",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
	}
}

// Emulator is a running aws-lambda-rie with the function under it.
type Emulator struct {
	// URL is the RIE's base URL, http://127.0.0.1:port.
	URL string

	cmd       *exec.Cmd
	bootstrap string
	logs      *logSink
	client    *http.Client
	done      chan struct{}
	busy      chan struct{} // holds a token while an invocation runs
	close     sync.Once
}

// Start starts the RIE running opts.Bootstrap and waits until it listens.
// The function itself starts (init) on the first Invoke.
func Start(ctx context.Context, opts Options) (*Emulator, error) {
	bin, err := Find(ctx)
	if err != nil {
		return nil, err
	}
	bootstrap, err := filepath.Abs(opts.Bootstrap)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(bootstrap); err != nil {
		return nil, fmt.Errorf("rie: bootstrap: %w", err)
	}
	timeout := int((opts.Timeout + time.Second - 1) / time.Second)
	if timeout <= 0 {
		timeout = 30
	}
	level := opts.LogLevel
	if level == "" {
		level = "info"
	}
	env := DefaultEnv()
	maps.Copy(env, opts.Env)
	env["AWS_LAMBDA_FUNCTION_TIMEOUT"] = strconv.Itoa(timeout)

	// A free port found here can be taken by another process before the RIE
	// binds it (tests run in parallel): then the RIE exits at once, and the
	// start is tried again on new ports.
	for attempt := 1; ; attempt++ {
		addr := opts.Addr
		if addr == "" {
			if addr, err = freeAddr(); err != nil {
				return nil, err
			}
		}
		apiAddr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		e, err := launch(ctx, bin, bootstrap, addr, apiAddr, level, env, opts.Stdout, opts.Group)
		if err != nil && attempt < 5 && strings.Contains(err.Error(), "address already in use") {
			continue
		}
		return e, err
	}
}

// launch starts one RIE on addr (invocations) and apiAddr (the Runtime API).
func launch(ctx context.Context, bin, bootstrap, addr, apiAddr, level string, env map[string]string, stdout io.Writer, group interface{ Add(int) error }) (*Emulator, error) {
	e := &Emulator{
		URL:       "http://" + addr,
		bootstrap: bootstrap,
		logs:      newLogSink(stdout),
		client:    &http.Client{},
		done:      make(chan struct{}),
		busy:      make(chan struct{}, 1),
	}
	e.cmd = exec.Command(bin,
		"--log-level", level,
		"--runtime-interface-emulator-address", addr,
		"--runtime-api-address", apiAddr,
		bootstrap)
	e.cmd.Dir = filepath.Dir(bootstrap)
	for k, v := range env {
		if v != "" {
			e.cmd.Env = append(e.cmd.Env, k+"="+v)
		}
	}
	e.cmd.Stdout, e.cmd.Stderr = e.logs, e.logs
	if err := proc.Start(e.cmd, func() { e.logs.flush(); close(e.done) }); err != nil {
		return nil, err
	}
	if group != nil {
		if err := group.Add(e.cmd.Process.Pid); err != nil {
			e.Close()
			return nil, err
		}
	}
	if err := e.waitListening(ctx, addr); err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

func (e *Emulator) waitListening(ctx context.Context, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			// Another process may hold addr; an RIE that could not bind
			// its ports panics at once, so it must still be running.
			select {
			case <-e.done:
				return fmt.Errorf("rie: aws-lambda-rie exited: %s", e.Logs())
			case <-time.After(30 * time.Millisecond):
				return nil
			}
		}
		select {
		case <-e.done:
			return fmt.Errorf("rie: aws-lambda-rie exited: %s", e.Logs())
		case <-ctx.Done():
			return fmt.Errorf("rie: aws-lambda-rie not listening on %s: %w", addr, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// FunctionError is an invocation error: the function returned an error,
// panicked, crashed or timed out.
type FunctionError struct {
	Type    string `json:"errorType"`
	Message string `json:"errorMessage"`
}

func (e *FunctionError) Error() string { return "function error: " + e.Type + ": " + e.Message }

// ErrorType is the runtime's errorType, without the message.
func (e *FunctionError) ErrorType() string { return e.Type }

// Invoke sends payload to the function and returns its result. An
// invocation error is returned as *FunctionError with the raw answer.
// Invocations are served one at a time, as by one Lambda execution
// environment. When ctx ends first, Invoke returns ctx.Err() at once but
// the next invocation waits until the RIE has finished this one (it enforces
// the function timeout), so an abandoned request never overlaps the next.
func (e *Emulator) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	select {
	case e.busy <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	type result struct {
		body []byte
		err  error
	}
	done := make(chan result, 1)
	go func() {
		defer func() { <-e.busy }()
		body, err := e.invoke(payload)
		done <- result{body, err}
	}()
	select {
	case r := <-done:
		return r.body, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// invoke makes one invocation, bounded only by the RIE's function timeout
// and by Close.
func (e *Emulator) invoke(payload []byte) ([]byte, error) {
	req, err := http.NewRequest(http.MethodPost, e.URL+InvokePath, bytes.NewReader(payload))
	if err != nil {
		return nil, err
	}
	reports := len(e.logs.reports())
	resp, err := e.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("rie: invoke: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("rie: invoke: %w", err)
	}
	// The RIE prints REPORT before answering, but the pipe may lag: wait a
	// moment so Reports and Logs include this invoke when Invoke returns.
	e.logs.waitReport(reports, 500*time.Millisecond)
	if resp.StatusCode/100 != 2 {
		return body, &FunctionError{Type: "Rie." + strconv.Itoa(resp.StatusCode), Message: string(body)}
	}
	if ferr := asFunctionError(body); ferr != nil {
		return body, ferr
	}
	return body, nil
}

// Logs is everything the RIE and the function printed so far.
func (e *Emulator) Logs() string { return e.logs.String() }

// Reports are the REPORT lines printed so far, one per finished invoke.
func (e *Emulator) Reports() []Report { return e.logs.reports() }

// InitDurations are the function's init times ("INIT REPORT" lines): one for
// the first invoke, one more after each timeout or crash.
func (e *Emulator) InitDurations() []time.Duration { return e.logs.inits() }

// Close stops the RIE and the function and waits until both are gone.
func (e *Emulator) Close() {
	e.close.Do(func() {
		kids := proc.Descendants(e.cmd.Process.Pid)
		proc.StopGroup(e.cmd.Process.Pid, e.done, 5*time.Second)
		for _, k := range kids { // the function runs in its own process group
			k.Kill()
		}
		e.client.CloseIdleConnections()
	})
}

// FunctionPID is the process ID of the running function, or 0 before the
// first invoke (and while it is being restarted).
func (e *Emulator) FunctionPID() int {
	for _, c := range proc.Descendants(e.cmd.Process.Pid) {
		if exe, err := os.Readlink("/proc/" + strconv.Itoa(c.PID) + "/exe"); err == nil && exe == e.bootstrap {
			return c.PID
		}
	}
	return 0
}

// Done is closed when the RIE process has exited.
func (e *Emulator) Done() <-chan struct{} { return e.done }

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
