package scripttest

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trulience-token/trulience-token/dev/moto"
)

// awsCLI runs the AWS CLI against endpoint and returns its standard output.
func awsCLI(t *testing.T, endpoint string, args ...string) string {
	t.Helper()
	cmd := exec.Command("aws", append([]string{"--endpoint-url", endpoint, "--output", "json"}, args...)...)
	cmd.Env = scriptEnv()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// createFunction creates a Lambda function named name in moto (with a role
// for it in moto's IAM) and returns nothing: moto never runs it here.
func createFunction(t *testing.T, endpoint, name string) {
	t.Helper()
	createFunctionEnv(t, endpoint, name, nil)
}

// createFunctionEnv is createFunction for a function with environment
// variables env.
func createFunctionEnv(t *testing.T, endpoint, name string, env map[string]string) {
	t.Helper()
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	var role struct{ Role struct{ Arn string } }
	if err := json.Unmarshal([]byte(awsCLI(t, endpoint, "iam", "create-role", "--role-name", name+"-role",
		"--assume-role-policy-document", trust)), &role); err != nil {
		t.Fatal(err)
	}
	var zipped bytes.Buffer
	zw := zip.NewWriter(&zipped)
	w, _ := zw.Create("bootstrap")
	_, _ = w.Write([]byte("#!/bin/sh\n"))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "function.zip")
	if err := os.WriteFile(file, zipped.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"lambda", "create-function", "--function-name", name, "--runtime", "provided.al2023",
		"--handler", "bootstrap", "--architectures", "arm64", "--role", role.Role.Arn, "--zip-file", "fileb://" + file}
	if env != nil {
		b, err := json.Marshal(map[string]any{"Variables": env})
		if err != nil {
			t.Fatal(err)
		}
		args = append(args, "--environment", string(b))
	}
	awsCLI(t, endpoint, args...)
}

// reserved returns the function's reserved concurrency, -1 when it has none.
func reserved(t *testing.T, endpoint, name string) int {
	t.Helper()
	var out struct{ ReservedConcurrentExecutions *int }
	raw := awsCLI(t, endpoint, "lambda", "get-function-concurrency", "--function-name", name)
	if strings.TrimSpace(raw) == "" {
		return -1
	}
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		t.Fatalf("get-function-concurrency: %v\n%s", err, raw)
	}
	if out.ReservedConcurrentExecutions == nil {
		return -1
	}
	return *out.ReservedConcurrentExecutions
}

// TestPauseAndResume: pause.sh sets the stack's function to reserved
// concurrency 0 and resume.sh removes it again, or gives back the stack's
// own ReservedConcurrency; both find the function through the stack.
func TestPauseAndResume(t *testing.T) {
	t.Parallel()
	requireAWSCLI(t)
	mt := moto.ForTest(t)

	createFunction(t, mt.URL, "trulience-token-TokenFunction-AbC")
	createStack(t, mt.URL, "trulience-token", map[string]string{"FunctionName": "trulience-token-TokenFunction-AbC"})
	createFunction(t, mt.URL, "capped-TokenFunction-XyZ")
	createStack(t, mt.URL, "capped", map[string]string{"FunctionName": "capped-TokenFunction-XyZ", "ReservedConcurrency": "5"})
	env := scriptEnv()

	t.Run("default stack", func(t *testing.T) {
		const fn = "trulience-token-TokenFunction-AbC"
		if got := reserved(t, mt.URL, fn); got != -1 {
			t.Fatalf("reserved concurrency %d before pausing, want none", got)
		}
		for i := 0; i < 2; i++ { // pausing a paused function is harmless
			r := runScript(t, "pause.sh", "", env, "--endpoint-url", mt.URL)
			if r.code != 0 || !strings.Contains(r.stdout, "Paused "+fn) {
				t.Fatalf("pause.sh: exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
			}
			if got := reserved(t, mt.URL, fn); got != 0 {
				t.Fatalf("reserved concurrency %d after pause.sh, want 0", got)
			}
		}
		r := runScript(t, "resume.sh", "", env, "--endpoint-url", mt.URL)
		if r.code != 0 || !strings.Contains(r.stdout, "Resumed "+fn) {
			t.Fatalf("resume.sh: exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
		}
		if got := reserved(t, mt.URL, fn); got != -1 {
			t.Fatalf("reserved concurrency %d after resume.sh, want none", got)
		}
	})

	t.Run("stack with ReservedConcurrency", func(t *testing.T) {
		const fn = "capped-TokenFunction-XyZ"
		awsCLI(t, mt.URL, "lambda", "put-function-concurrency", "--function-name", fn, "--reserved-concurrent-executions", "5")
		r := runScript(t, "pause.sh", "", env, "--endpoint-url", mt.URL, "--stack-name", "capped", "--region", "us-east-1")
		if r.code != 0 || reserved(t, mt.URL, fn) != 0 {
			t.Fatalf("pause.sh: exit %d, reserved %d\n%s%s", r.code, reserved(t, mt.URL, fn), r.stdout, r.stderr)
		}
		// The other stack's function is untouched.
		if got := reserved(t, mt.URL, "trulience-token-TokenFunction-AbC"); got != -1 {
			t.Errorf("the other function's reserved concurrency is %d", got)
		}
		r = runScript(t, "resume.sh", "", env, "--endpoint-url="+mt.URL, "--stack-name=capped")
		if r.code != 0 || !strings.Contains(r.stdout, "reserved concurrency 5") {
			t.Fatalf("resume.sh: exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
		}
		if got := reserved(t, mt.URL, fn); got != 5 {
			t.Fatalf("reserved concurrency %d after resume.sh, want the stack's 5", got)
		}
	})

	t.Run("failures", func(t *testing.T) {
		createStack(t, mt.URL, "no-function", map[string]string{"FunctionName": "not-created"})
		cases := []struct {
			name   string
			args   []string
			stderr string
		}{
			{"unknown stack", []string{"--endpoint-url", mt.URL, "--stack-name", "nope"}, "cannot read the outputs of stack nope"},
			{"function missing", []string{"--endpoint-url", mt.URL, "--stack-name", "no-function"}, "not-created"},
			{"unknown option", []string{"--force"}, "unknown argument: --force"},
			{"option without value", []string{"--stack-name"}, "--stack-name needs a value"},
		}
		for _, script := range []string{"pause.sh", "resume.sh"} {
			for _, c := range cases {
				t.Run(script+"/"+c.name, func(t *testing.T) {
					r := runScript(t, script, "", env, c.args...)
					if r.code == 0 || !strings.Contains(r.stderr, c.stderr) {
						t.Errorf("exit %d, stderr %q; want a failure saying %q", r.code, r.stderr, c.stderr)
					}
				})
			}
		}
	})
}
