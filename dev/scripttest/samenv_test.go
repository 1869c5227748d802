package scripttest

import (
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/trulience-token/trulience-token/dev/moto"
	"github.com/trulience-token/trulience-token/dev/testenv"
)

// templateVariables reads, with a real YAML parser (aws-sam-translator's, in
// the project's .venv), the environment variables template.yaml declares
// for TokenFunction, Globals.Function's included: the only ones
// `sam local invoke` passes to it.
func templateVariables(t *testing.T) map[string]bool {
	t.Helper()
	python := filepath.Join(repoRoot(t), ".venv", "bin", "python")
	const program = `import json, sys
from samtranslator.yaml_helper import yaml_parse
with open(sys.argv[1], encoding="utf-8") as f:
    template = yaml_parse(f.read())
def variables(function):
    return (function or {}).get("Environment", {}).get("Variables", {})
names = set(variables(template.get("Globals", {}).get("Function")))
names |= set(variables(template["Resources"]["TokenFunction"]["Properties"]))
print(json.dumps(sorted(names)))
`
	out, err := exec.Command(python, "-c", program, filepath.Join(repoRoot(t), "template.yaml")).Output()
	if err != nil {
		testenv.Missing(t, "aws-sam-translator in .venv ("+err.Error()+")", "make tools installs it")
	}
	var names []string
	if err := json.Unmarshal(out, &names); err != nil || len(names) == 0 {
		t.Fatalf("template variables: %v %q", err, out)
	}
	set := map[string]bool{}
	for _, n := range names {
		set[n] = true
	}
	return set
}

// readEnvFile reads a SAM --env-vars file and checks it is exactly
// {"TokenFunction": {...}}.
func readEnvFile(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var file map[string]map[string]string
	if err := json.Unmarshal(b, &file); err != nil {
		t.Fatalf("%s: %v\n%s", path, err, b)
	}
	if len(file) != 1 || file["TokenFunction"] == nil {
		t.Fatalf(`%s: want {"TokenFunction": {...}} (SAM's --env-vars format), got %s`, path, b)
	}
	return file["TokenFunction"]
}

// TestSamEnv: sam-env.sh writes the deployed function's variables that the
// template declares, and only those, for `sam local invoke --env-vars`.
func TestSamEnv(t *testing.T) {
	t.Parallel()
	requireAWSCLI(t)
	declared := templateVariables(t)
	mt := moto.ForTest(t)
	env := scriptEnv()

	// A function as the stack deploys it: every declared variable, values
	// as CloudFormation resolved them, plus variables the template does not
	// declare (set by hand, or left from an older template).
	const secretARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:dev-api-key-AbCdEf"
	deployed := map[string]string{}
	for name := range declared {
		deployed[name] = "value of " + name
	}
	maps.Copy(deployed, map[string]string{
		"TRULIENCE_SECRET_ID": secretARN,
		"TRULIENCE_API_URL":   "https://trulience.com",
		"ALLOWED_AVATAR_IDS":  exampleAvatar + ",123",
		"ALLOWED_ORIGINS":     "https://www.example.com,http://localhost:8000",
		"TURNSTILE_ACTION":    `quotes " and \ backslash, é`,
	})
	undeclared := map[string]string{"AWS_ENDPOINT_URL_SECRETS_MANAGER": "http://127.0.0.1:5000", "OLD_SETTING": "x"}
	for name := range undeclared {
		if declared[name] {
			t.Fatalf("template.yaml now declares %s: pick another undeclared name for this test", name)
		}
	}
	all := maps.Clone(deployed)
	maps.Copy(all, undeclared)
	createFunctionEnv(t, mt.URL, "dev-TokenFunction-AbC", all)
	createStack(t, mt.URL, "dev", map[string]string{"FunctionName": "dev-TokenFunction-AbC", "SecretArn": secretARN})

	t.Run("declared variables from the function", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "env.json")
		r := runScript(t, "sam-env.sh", "", env, "--stack-name", "dev", "--endpoint-url", mt.URL, "--output", out)
		if r.code != 0 {
			t.Fatalf("sam-env.sh: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		got := readEnvFile(t, out)
		for name := range got {
			if !declared[name] {
				t.Errorf("%s is not declared for TokenFunction in template.yaml: sam local invoke would drop it", name)
			}
		}
		if !maps.Equal(got, deployed) {
			t.Errorf("variables\n got  %v\n want %v", got, deployed)
		}
		if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("mode %v (%v), want 0600", fi.Mode().Perm(), err)
		}
		for _, want := range []string{"Left out", "OLD_SETTING", "sam local invoke TokenFunction", "--env-vars " + out, "--region us-east-1"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("stdout does not say %q:\n%s", want, r.stdout)
			}
		}
	})

	t.Run("variables the function lacks stay out", func(t *testing.T) {
		// Limits off: the function has no CLIENT_TOKEN_LIMIT etc.
		some := map[string]string{"TRULIENCE_SECRET_ID": secretARN, "ALLOWED_AVATAR_IDS": exampleAvatar, "OLD_SETTING": "x"}
		createFunctionEnv(t, mt.URL, "lean-TokenFunction-AbC", some)
		createStack(t, mt.URL, "lean", map[string]string{"FunctionName": "lean-TokenFunction-AbC"})
		out := filepath.Join(t.TempDir(), "env.json")
		r := runScript(t, "sam-env.sh", "", env, "--stack-name=lean", "--endpoint-url="+mt.URL, "--output="+out, "--region=us-east-1")
		if r.code != 0 {
			t.Fatalf("sam-env.sh: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		delete(some, "OLD_SETTING")
		if got := readEnvFile(t, out); !maps.Equal(got, some) {
			t.Errorf("variables %v, want %v", got, some)
		}
	})

	t.Run("default output at the project root, ignored by git", func(t *testing.T) {
		// A copy of the project's scripts and template, so the default path
		// lands in a temporary directory.
		root := t.TempDir()
		for _, f := range []string{"scripts/sam-env.sh", "scripts/lib.sh", "template.yaml"} {
			copyFile(t, filepath.Join(repoRoot(t), f), filepath.Join(root, f))
		}
		cmd := exec.Command(filepath.Join(root, "scripts", "sam-env.sh"), "--stack-name", "dev", "--endpoint-url", mt.URL)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("sam-env.sh: %v\n%s", err, out)
		}
		if got := readEnvFile(t, filepath.Join(root, "env.dev.json")); got["TRULIENCE_SECRET_ID"] != secretARN {
			t.Errorf("env.dev.json: TRULIENCE_SECRET_ID = %q", got["TRULIENCE_SECRET_ID"])
		}
		git, err := exec.LookPath("git")
		if err != nil {
			t.Skip("git not installed")
		}
		check := exec.Command(git, "check-ignore", "-q", "--no-index", "env.dev.json")
		check.Dir = repoRoot(t)
		if err := check.Run(); err != nil {
			t.Errorf("git does not ignore env.dev.json at the project root (.gitignore): %v", err)
		}
	})

	t.Run("failures", func(t *testing.T) {
		createStack(t, mt.URL, "no-function", map[string]string{"FunctionName": "not-created"})
		cases := []struct {
			name   string
			args   []string
			stderr string
		}{
			{"unknown stack", []string{"--stack-name", "nope"}, "cannot read the outputs of stack nope"},
			{"function missing", []string{"--stack-name", "no-function"}, "cannot read the configuration of function not-created"},
			{"unknown option", []string{"--force"}, "unknown argument: --force"},
			{"option without value", []string{"--output"}, "--output needs a value"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				out := filepath.Join(t.TempDir(), "env.json")
				if err := os.WriteFile(out, []byte("before"), 0o600); err != nil {
					t.Fatal(err)
				}
				args := append([]string{"--endpoint-url", mt.URL, "--output", out}, c.args...)
				r := runScript(t, "sam-env.sh", "", env, args...)
				if r.code == 0 || !strings.Contains(r.stderr, c.stderr) {
					t.Errorf("exit %d, stderr %q; want a failure saying %q", r.code, r.stderr, c.stderr)
				}
				if b, _ := os.ReadFile(out); string(b) != "before" {
					t.Errorf("a failed run changed %s: %q", out, b)
				}
				left, _ := filepath.Glob(filepath.Join(filepath.Dir(out), ".sam-env.*"))
				if len(left) > 0 {
					t.Errorf("a failed run left %v", left)
				}
			})
		}
	})
}

// TestEnvJSONDeclared: events/env.json sets only variables the template
// declares for TokenFunction, the only ones sam local invoke applies.
func TestEnvJSONDeclared(t *testing.T) {
	declared := templateVariables(t)
	var extra []string
	for name := range readEnvFile(t, filepath.Join(repoRoot(t), "events", "env.json")) {
		if !declared[name] {
			extra = append(extra, name)
		}
	}
	slices.Sort(extra)
	if len(extra) > 0 {
		t.Errorf("events/env.json sets %v, which template.yaml does not declare for TokenFunction: sam local invoke drops them", extra)
	}
}

// copyFile copies src to dst, creating dst's directory, keeping the mode.
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, fi.Mode().Perm()); err != nil {
		t.Fatal(err)
	}
}
