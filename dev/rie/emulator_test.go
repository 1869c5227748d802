package rie

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trulience-token/trulience-token/dev/proc"
)

// echo starts the testdata echo function under the RIE for one test.
func echo(t *testing.T, opts Options) *Emulator {
	t.Helper()
	ctx := context.Background()
	bootstrap, err := BuildPackage(ctx, "./dev/rie/testdata/echo", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	opts.Bootstrap = bootstrap
	e, err := Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e
}

func TestInvoke(t *testing.T) {
	t.Setenv("AWS_SECRET_ACCESS_KEY", "developer-secret-must-not-leak")
	t.Setenv("LEAKY", "1")
	var out proc.Buffer
	e := echo(t, Options{Env: map[string]string{"FOO": "bar", "LOG_LEVEL": "debug"}, Stdout: &out, Timeout: 2 * time.Second})
	ctx := context.Background()

	tests := []struct {
		name, payload, want string
		wantErr             *FunctionError
	}{
		{"echo", `{"a":1}`, `{"a":1}`, nil},
		{"env from options", `{"env":"FOO"}`, `{"set":true,"value":"bar"}`, nil},
		{"caller env not leaked", `{"env":"LEAKY"}`, `{"set":false,"value":""}`, nil},
		{"dummy credentials", `{"env":"AWS_SECRET_ACCESS_KEY"}`, `{"set":true,"value":"local-testing-secret-access-key"}`, nil},
		{"timeout", `{"env":"AWS_LAMBDA_FUNCTION_TIMEOUT"}`, `{"set":true,"value":"2"}`, nil},
		{"error", `{"error":"boom"}`, "", &FunctionError{"errorString", "boom"}},
		{"not json", `garbage`, "", &FunctionError{Type: "SyntaxError"}},
		{"after error", `{"b":2}`, `{"b":2}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := e.Invoke(ctx, []byte(tt.payload))
			if tt.wantErr != nil {
				var fe *FunctionError
				if !errors.As(err, &fe) || fe.Type != tt.wantErr.Type || (tt.wantErr.Message != "" && fe.Message != tt.wantErr.Message) {
					t.Errorf("got %s, %v; want %v", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || string(got) != tt.want {
				t.Errorf("got %s, %v; want %s", got, err, tt.want)
			}
		})
	}

	if _, err := e.Invoke(ctx, []byte(`{"log":"hello"}`)); err != nil {
		t.Fatal(err)
	}
	reps := e.Reports()
	if len(reps) != len(tests)+1 || reps[0].RequestID == "" || reps[0].Duration <= 0 {
		t.Errorf("reports %+v", reps)
	}
	inits := e.InitDurations()
	if len(inits) != 1 || inits[0] <= 0 {
		t.Errorf("init durations %v", inits)
	}
	t.Logf("echo init duration %v, first invoke %v", inits, reps[0].Duration)
	logs := e.Logs()
	for _, want := range []string{"stdout: hello", "stderr: hello", "echo: init", "REPORT RequestId: "} {
		if !strings.Contains(logs, want) || !strings.Contains(out.String(), want) {
			t.Errorf("logs lack %q", want)
		}
	}
	if strings.Contains(logs, "developer-secret-must-not-leak") {
		t.Error("the caller's AWS secret reached the logs")
	}
	if strings.Contains(logs, "[DEBUG]") {
		t.Error("the function's LOG_LEVEL=debug switched the RIE to debug")
	}
}

func TestTimeoutAndCrash(t *testing.T) {
	e := echo(t, Options{Timeout: time.Second})
	ctx := context.Background()
	_, err := e.Invoke(ctx, []byte(`{"sleep":"5s"}`))
	var fe *FunctionError
	if !errors.As(err, &fe) || fe.Type != "Sandbox.Timedout" {
		t.Errorf("timeout: %v", err)
	}
	if got, err := e.Invoke(ctx, []byte(`{"a":1}`)); err != nil || string(got) != `{"a":1}` {
		t.Errorf("after timeout: %s %v", got, err)
	}
	if _, err := e.Invoke(ctx, []byte(`{"exit":2}`)); !errors.As(err, &fe) {
		t.Errorf("crash: %v", err)
	}
	if got, err := e.Invoke(ctx, []byte(`{"a":2}`)); err != nil || string(got) != `{"a":2}` {
		t.Errorf("after crash: %s %v", got, err)
	}
	if n := len(e.InitDurations()); n < 2 {
		t.Errorf("%d inits, want a re-init after the timeout", n)
	}
}

func TestConcurrentInvokes(t *testing.T) {
	e := echo(t, Options{})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Go(func() {
			want, _ := json.Marshal(map[string]int{"i": i})
			got, err := e.Invoke(context.Background(), want)
			if err == nil && !bytes.Equal(got, want) {
				err = errors.New("got " + string(got))
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

func TestCloseLeavesNothing(t *testing.T) {
	e := echo(t, Options{})
	if _, err := e.Invoke(context.Background(), []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	kids := proc.Descendants(e.cmd.Process.Pid)
	if len(kids) == 0 || e.FunctionPID() == 0 {
		t.Fatal("no function process under the RIE")
	}
	pids := append([]proc.Process{proc.Find(e.cmd.Process.Pid)}, kids...)
	e.Close()
	deadline := time.Now().Add(2 * time.Second)
	for _, p := range pids {
		for p.Alive() && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if p.Alive() {
			t.Errorf("process %d still running after Close", p.PID)
		}
	}
}

func TestParseReport(t *testing.T) {
	r, ok := parseReport("REPORT RequestId: abc\tInit Duration: 0.03 ms\tDuration: 3.73 ms\tBilled Duration: 4 ms\tMemory Size: 128 MB\tMax Memory Used: 128 MB\t")
	want := Report{RequestID: "abc", InitDuration: 30 * time.Microsecond, Duration: 3730 * time.Microsecond, BilledDuration: 4 * time.Millisecond, MemorySizeMB: 128, MaxMemoryUsed: 128}
	if !ok || r != want {
		t.Errorf("got %+v, want %+v", r, want)
	}
	if _, ok := parseReport("START RequestId: abc"); ok {
		t.Error("parsed a START line")
	}
}

// TestAbandonedInvoke: a caller that gives up does not make the next
// invocation collide with the one still running in the RIE.
func TestAbandonedInvoke(t *testing.T) {
	e := echo(t, Options{Timeout: 5 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := e.Invoke(ctx, []byte(`{"sleep":"500ms"}`)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("abandoned invoke: %v", err)
	}
	start := time.Now()
	got, err := e.Invoke(context.Background(), []byte(`{"a":1}`))
	if err != nil || string(got) != `{"a":1}` {
		t.Errorf("next invoke: %s %v", got, err)
	}
	if time.Since(start) < 300*time.Millisecond {
		t.Errorf("next invoke did not wait for the abandoned one (%v)", time.Since(start))
	}
}
