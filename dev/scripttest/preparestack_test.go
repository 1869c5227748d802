package scripttest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trulience-token/trulience-token/dev/moto"
)

// statusAWS puts an aws wrapper first on PATH: it forwards every call to the
// real AWS CLI (against moto), except that the stack reports status until a
// delete-stack goes through, and its events list one CREATE_FAILED line.
// moto cannot put a stack into the states a failed deploy leaves, so the
// wrapper stands in for that part only. It returns the PATH entry and the
// file listing the calls made.
func statusAWS(t *testing.T, status string) (pathEnv, calls string) {
	t.Helper()
	real, err := exec.LookPath("aws")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	calls = filepath.Join(dir, "calls")
	deleted := filepath.Join(dir, "deleted")
	script := `#!/usr/bin/env bash
printf '%s\n' "$*" >> '` + calls + `'
if [[ ! -e '` + deleted + `' ]]; then
	case " $* " in
	*" describe-stacks "*StackStatus*) echo '` + status + `'; exit 0 ;;
	*" describe-stack-events "*) printf 'TokenSecret\tResource handler returned message: "Access denied for operation CreateSecret"\n'; exit 0 ;;
	*" delete-stack "*) touch '` + deleted + `' ;;
	esac
fi
exec '` + real + `' "$@"
`
	if err := os.WriteFile(filepath.Join(dir, "aws"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return "PATH=" + dir + string(os.PathListSeparator) + os.Getenv("PATH"), calls
}

func TestPrepareStack(t *testing.T) {
	t.Parallel()
	requireAWSCLI(t)
	mt := moto.ForTest(t)
	env := scriptEnv()

	t.Run("no stack yet", func(t *testing.T) {
		r := runScript(t, "prepare-stack.sh", "", env, "--stack-name", "absent", "--endpoint-url", mt.URL)
		if r.code != 0 || !strings.Contains(r.stdout, "does not exist yet") {
			t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	})

	t.Run("deployed stack", func(t *testing.T) {
		createStack(t, mt.URL, "ready", map[string]string{})
		r := runScript(t, "prepare-stack.sh", "", env, "--stack-name", "ready", "--endpoint-url", mt.URL)
		if r.code != 0 || !strings.Contains(r.stdout, "ready to deploy") {
			t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	})

	t.Run("failed first deploy is deleted", func(t *testing.T) {
		createStack(t, mt.URL, "failed", map[string]string{})
		path, calls := statusAWS(t, "ROLLBACK_COMPLETE")
		r := runScript(t, "prepare-stack.sh", "", scriptEnv(path), "--stack-name", "failed", "--endpoint-url", mt.URL)
		if r.code != 0 {
			t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		// The reason the creation failed is shown before the stack goes.
		if !strings.Contains(r.stdout, "Access denied for operation CreateSecret") || !strings.Contains(r.stdout, "Deleted failed") {
			t.Errorf("output:\n%s", r.stdout)
		}
		// moto really deleted it: a describe now finds no stack.
		describe := exec.Command("aws", "--endpoint-url", mt.URL, "cloudformation", "describe-stacks", "--stack-name", "failed")
		describe.Env = scriptEnv()
		out, err := describe.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "does not exist") {
			t.Errorf("stack still there: %s", out)
		}
		b, _ := os.ReadFile(calls)
		if !strings.Contains(string(b), "delete-stack --stack-name failed") {
			t.Errorf("calls:\n%s", b)
		}
	})

	for status, want := range map[string]string{
		"UPDATE_ROLLBACK_FAILED": "aws cloudformation continue-update-rollback --stack-name stuck",
		"DELETE_FAILED":          "aws cloudformation delete-stack --stack-name stuck",
		"ROLLBACK_FAILED":        "aws cloudformation delete-stack --stack-name stuck",
		"UPDATE_IN_PROGRESS":     "another operation is running",
	} {
		t.Run(status+" stops", func(t *testing.T) {
			path, calls := statusAWS(t, status)
			r := runScript(t, "prepare-stack.sh", "", scriptEnv(path), "--stack-name", "stuck", "--endpoint-url", mt.URL)
			if r.code != 1 || !strings.Contains(r.stderr, want) {
				t.Fatalf("exit %d, stderr %q; want 1 and %q", r.code, r.stderr, want)
			}
			if strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
				t.Errorf("want one line saying what to run, got:\n%s", r.stderr)
			}
			b, _ := os.ReadFile(calls)
			if strings.Contains(string(b), "delete-stack") {
				t.Errorf("deleted a stack in %s:\n%s", status, b)
			}
		})
	}

	t.Run("unreadable stack", func(t *testing.T) {
		r := runScript(t, "prepare-stack.sh", "", scriptEnv(), "--stack-name", "x", "--endpoint-url", "http://127.0.0.1:1")
		if r.code != 1 || !strings.Contains(r.stderr, "cannot read stack x") {
			t.Fatalf("exit %d\n%s", r.code, r.stderr)
		}
	})
}
