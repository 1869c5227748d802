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
	"github.com/trulience-token/trulience-token/dev/testenv"
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

// fakeProvisioned puts testdata/fake_aws_provisioned.py first on PATH as
// aws: it answers the provisioned concurrency commands moto lacks and sends
// the rest to the real CLI. It returns the scripts' environment, the file
// holding the provisioned concurrency ({function: {qualifier: n}}) and the
// log of the lambda commands called.
func fakeProvisioned(t *testing.T) (env []string, state, log string) {
	t.Helper()
	realAWS, err := exec.LookPath("aws")
	if err != nil {
		t.Fatal(err)
	}
	python := filepath.Join(repoRoot(t), ".venv", "bin", "python")
	if err := exec.Command(python, "-c", "import jmespath").Run(); err != nil {
		testenv.Missing(t, "jmespath in .venv's Python (the AWS CLI's)", "make tools installs it")
	}
	fake, err := filepath.Abs(filepath.Join("testdata", "fake_aws_provisioned.py"))
	if err != nil {
		t.Fatal(err)
	}
	bin, dir := filepath.Join(t.TempDir(), "bin"), t.TempDir()
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\nexec '" + python + "' '" + fake + "' \"$@\"\n"
	if err := os.WriteFile(filepath.Join(bin, "aws"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	state, log = filepath.Join(dir, "provisioned.json"), filepath.Join(dir, "aws.log")
	env = scriptEnv("REAL_AWS="+realAWS, "FAKE_PC_STATE="+state, "FAKE_AWS_LOG="+log)
	for i, kv := range env {
		if strings.HasPrefix(kv, "PATH=") {
			env[i] = "PATH=" + bin + string(os.PathListSeparator) + strings.TrimPrefix(kv, "PATH=")
		}
	}
	return env, state, log
}

// provisioned reads the fake's provisioned concurrency of function name.
func provisioned(t *testing.T, state, name string) map[string]int {
	t.Helper()
	b, err := os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	var all map[string]map[string]int
	if err := json.Unmarshal(b, &all); err != nil {
		t.Fatal(err)
	}
	return all[name]
}

// fakeAWS runs the AWS CLI through the fake (env from fakeProvisioned).
func fakeAWS(env []string, endpoint string, args ...string) (string, error) {
	cmd := exec.Command("aws", append([]string{"--endpoint-url", endpoint}, args...)...)
	cmd.Env = env
	for _, kv := range env {
		if p, ok := strings.CutPrefix(kv, "PATH="); ok {
			cmd.Path = filepath.Join(strings.Split(p, string(os.PathListSeparator))[0], "aws")
		}
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
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

	t.Run("stack with ProvisionedConcurrency", func(t *testing.T) {
		// Lambda refuses reserved concurrency 0 while an alias has
		// provisioned concurrency: pause.sh removes it first, resume.sh
		// puts the stack's back on the alias live after the reservation.
		// moto has no provisioned concurrency, so a fake CLI keeps it.
		const fn = "warm-TokenFunction-PcQ"
		createFunction(t, mt.URL, fn)
		awsCLI(t, mt.URL, "lambda", "publish-version", "--function-name", fn)
		awsCLI(t, mt.URL, "lambda", "create-alias", "--function-name", fn, "--name", "live", "--function-version", "1")
		createStack(t, mt.URL, "warm", map[string]string{"FunctionName": fn, "ProvisionedConcurrency": "2"})
		fenv, state, log := fakeProvisioned(t)
		if out, err := fakeAWS(fenv, mt.URL, "lambda", "put-provisioned-concurrency-config", "--function-name", fn,
			"--qualifier", "live", "--provisioned-concurrent-executions", "2"); err != nil {
			t.Fatalf("put-provisioned-concurrency-config: %v\n%s", err, out)
		}
		// What the kill switch did alone before: refused.
		if out, err := fakeAWS(fenv, mt.URL, "lambda", "put-function-concurrency", "--function-name", fn,
			"--reserved-concurrent-executions", "0"); err == nil || !strings.Contains(out, "InvalidParameterValueException") {
			t.Fatalf("reserved concurrency 0 under provisioned concurrency: %v\n%s", err, out)
		}
		if err := os.Remove(log); err != nil {
			t.Fatal(err)
		}

		r := runScript(t, "pause.sh", "", fenv, "--endpoint-url", mt.URL, "--stack-name", "warm")
		if r.code != 0 || !strings.Contains(r.stdout, "Removed the provisioned concurrency of "+fn+":live (2 instances)") ||
			!strings.Contains(r.stdout, "Paused "+fn) {
			t.Fatalf("pause.sh: exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
		}
		if got := reserved(t, mt.URL, fn); got != 0 {
			t.Fatalf("reserved concurrency %d after pause.sh, want 0", got)
		}
		if got := provisioned(t, state, fn); len(got) != 0 {
			t.Fatalf("provisioned concurrency %v after pause.sh, want none", got)
		}
		b, err := os.ReadFile(log)
		if err != nil {
			t.Fatal(err)
		}
		want := "list-provisioned-concurrency-configs\ndelete-provisioned-concurrency-config live\nput-function-concurrency 0\n"
		if string(b) != want {
			t.Errorf("pause.sh called\n%swant\n%s", b, want)
		}
		// Pausing again finds nothing to remove.
		if r := runScript(t, "pause.sh", "", fenv, "--endpoint-url", mt.URL, "--stack-name", "warm"); r.code != 0 ||
			strings.Contains(r.stdout, "Removed") {
			t.Fatalf("pause.sh again: exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
		}

		r = runScript(t, "resume.sh", "", fenv, "--endpoint-url", mt.URL, "--stack-name", "warm")
		if r.code != 0 || !strings.Contains(r.stdout, "Resumed "+fn) ||
			!strings.Contains(r.stdout, "Provisioned concurrency 2 on "+fn+":live again") {
			t.Fatalf("resume.sh: exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
		}
		if got := reserved(t, mt.URL, fn); got != -1 {
			t.Fatalf("reserved concurrency %d after resume.sh, want none", got)
		}
		if got := provisioned(t, state, fn); len(got) != 1 || got["live"] != 2 {
			t.Fatalf("provisioned concurrency %v after resume.sh, want live: 2", got)
		}

		// A stack with ProvisionedConcurrency but no alias live: the
		// function runs again, and resume.sh says what it could not do.
		const bare = "bare-TokenFunction-NoA"
		createFunction(t, mt.URL, bare)
		createStack(t, mt.URL, "bare", map[string]string{"FunctionName": bare, "ProvisionedConcurrency": "1"})
		awsCLI(t, mt.URL, "lambda", "put-function-concurrency", "--function-name", bare, "--reserved-concurrent-executions", "0")
		r = runScript(t, "resume.sh", "", fenv, "--endpoint-url", mt.URL, "--stack-name", "bare")
		if r.code == 0 || !strings.Contains(r.stderr, "tokens are minted again, but the provisioned concurrency of "+bare+":live") {
			t.Fatalf("resume.sh without alias: exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
		}
		if got := reserved(t, mt.URL, bare); got != -1 {
			t.Fatalf("reserved concurrency %d after resume.sh, want none", got)
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
