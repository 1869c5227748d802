package scripttest

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trulience-token/trulience-token/dev/moto"
)

// placeholder is the value template.yaml gives the secret it creates.
const placeholder = `{"api_key":"REPLACE_ME: run scripts/put-api-key.sh"}`

// argvWatch records the argument lists of the aws processes a script starts
// (through a shim on PATH) and of every process seen in /proc while it runs.
type argvWatch struct {
	log  string // the shim's log: one aws argument list per line
	env  []string
	stop chan struct{}
	done chan struct{}

	mu   sync.Mutex
	seen map[string]bool // every command line seen in /proc
}

// watchArgv puts an aws shim first on PATH and starts polling /proc.
func watchArgv(t *testing.T) *argvWatch {
	t.Helper()
	real, err := exec.LookPath("aws")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	shim := "#!/bin/sh\nprintf '%s\\n' \"$*\" >> \"$AWS_ARGV_LOG\"\nexec \"$REAL_AWS\" \"$@\"\n"
	if err := os.WriteFile(filepath.Join(dir, "aws"), []byte(shim), 0o755); err != nil {
		t.Fatal(err)
	}
	w := &argvWatch{
		log:  filepath.Join(dir, "argv.log"),
		stop: make(chan struct{}),
		done: make(chan struct{}),
		seen: map[string]bool{},
	}
	w.env = scriptEnv("PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"), "REAL_AWS="+real, "AWS_ARGV_LOG="+w.log)
	go w.poll()
	t.Cleanup(w.finish)
	return w
}

func (w *argvWatch) poll() {
	defer close(w.done)
	for {
		select {
		case <-w.stop:
			return
		default:
		}
		files, _ := filepath.Glob("/proc/[0-9]*/cmdline")
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil || len(b) == 0 {
				continue
			}
			line := strings.ReplaceAll(string(b), "\x00", " ")
			w.mu.Lock()
			w.seen[line] = true
			w.mu.Unlock()
		}
		time.Sleep(time.Millisecond)
	}
}

func (w *argvWatch) finish() {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.done
}

// check fails the test if secret appears in any argument list seen, and
// returns the aws argument lists.
func (w *argvWatch) check(t *testing.T, secret string) []string {
	t.Helper()
	w.finish()
	b, err := os.ReadFile(w.log)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	calls := strings.Split(strings.TrimSpace(string(b)), "\n")
	for _, c := range calls {
		if strings.Contains(c, secret) {
			t.Errorf("the key is in the arguments of: aws %s", c)
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.seen) == 0 {
		t.Error("saw no process in /proc")
	}
	for line := range w.seen {
		// The script's own argument list (and its subshells') is its
		// caller's: only "key as an argument" puts the key there, and the
		// script must refuse it.
		if strings.Contains(line, "/scripts/put-api-key.sh ") {
			continue
		}
		if strings.Contains(line, secret) {
			t.Errorf("the key is in the process list: %s", line)
		}
	}
	return calls
}

// TestPutAPIKey stores keys with put-api-key.sh in a moto secret, found
// through the stack's SecretArn output or named with --secret-id, and checks
// what lands in the secret, what the script says and that the key is never
// an argument of any process.
func TestPutAPIKey(t *testing.T) {
	t.Parallel()
	requireAWSCLI(t)
	mt := moto.ForTest(t)

	cases := []struct {
		name     string
		stdin    string
		args     func(arn string) []string
		wantCode int
		wantErr  string // in stderr when the script fails
	}{
		{
			name:  "stack output",
			stdin: testKey + "\n",
			args:  func(string) []string { return []string{"--stack-name", "stack-output"} },
		},
		{
			name:  "stack name from samconfig.toml",
			stdin: testKey + "\n",
			args:  func(string) []string { return nil },
		},
		{
			name:  "secret id",
			stdin: testKey,
			args:  func(arn string) []string { return []string{"--secret-id=" + arn} },
		},
		{
			name:  "pasted with whitespace",
			stdin: "  " + testKey + " \r\n",
			args:  func(arn string) []string { return []string{"--secret-id", arn} },
		},
		{
			name:     "not a Trulience key",
			stdin:    "sk_live_0123456789abcdef\n",
			args:     func(arn string) []string { return []string{"--secret-id", arn} },
			wantCode: 1,
			wantErr:  "must start with tru_",
		},
		{
			name:     "empty input",
			stdin:    "",
			args:     func(arn string) []string { return []string{"--secret-id", arn} },
			wantCode: 1,
			wantErr:  "no key on standard input",
		},
		{
			name:     "key with a quote",
			stdin:    `tru_live_abc"def` + "\n",
			args:     func(arn string) []string { return []string{"--secret-id", arn} },
			wantCode: 1,
			wantErr:  "characters",
		},
		{
			name:     "key as an argument",
			stdin:    "",
			args:     func(arn string) []string { return []string{"--secret-id", arn, testKey} },
			wantCode: 1,
			wantErr:  "never from arguments",
		},
		{
			name:     "no such stack",
			stdin:    testKey + "\n",
			args:     func(string) []string { return []string{"--stack-name", "never-deployed"} },
			wantCode: 1,
			wantErr:  "cannot read the outputs of stack never-deployed",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// A fresh secret and stack per case; the default stack name is
			// the one samconfig.toml sets.
			stack := strings.ReplaceAll(tc.name, " ", "-")
			if tc.args != nil && len(tc.args("")) == 0 {
				stack = "trulience-token"
			}
			arn := createSecret(t, mt.URL, "api-key-"+stack)
			createStack(t, mt.URL, stack, map[string]string{"SecretArn": arn})

			w := watchArgv(t)
			args := append(tc.args(arn), "--endpoint-url", mt.URL, "--region", "us-east-1")
			r := runScript(t, "put-api-key.sh", tc.stdin, w.env, args...)
			calls := w.check(t, testKey)
			for _, out := range []string{r.stdout, r.stderr} {
				if strings.Contains(out, testKey) {
					t.Errorf("the script printed the key:\n%s", out)
				}
			}

			got := secretString(t, mt.URL, arn)
			if tc.wantCode != 0 {
				if r.code != tc.wantCode || !strings.Contains(r.stderr, tc.wantErr) {
					t.Errorf("exit %d, stderr %q; want exit %d and %q", r.code, r.stderr, tc.wantCode, tc.wantErr)
				}
				if got != placeholder {
					t.Errorf("a refused run changed the secret to %q", got)
				}
				return
			}
			if r.code != 0 {
				t.Fatalf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
			}
			var stored map[string]string
			if err := json.Unmarshal([]byte(got), &stored); err != nil || len(stored) != 1 || stored["api_key"] != testKey {
				t.Errorf("secret holds %q, want {\"api_key\":\"<the key>\"}", got)
			}
			if !strings.Contains(r.stdout, arn) {
				t.Errorf("stdout does not name the secret %s:\n%s", arn, r.stdout)
			}
			if !strings.Contains(strings.Join(calls, "\n"), "secretsmanager put-secret-value") {
				t.Errorf("the aws shim saw no put-secret-value: %q", calls)
			}
		})
	}
}

// TestPutAPIKeyThenTokens is the first deploy in miniature: the stack's
// secret holds the placeholder and the function answers 503; after
// put-api-key.sh the function mints tokens with the stored key.
func TestPutAPIKeyThenTokens(t *testing.T) {
	t.Parallel()
	requireAWSCLI(t)
	mt := moto.ForTest(t)

	arn := createSecret(t, mt.URL, "trulience-token-api-key")
	createStack(t, mt.URL, "trulience-token", map[string]string{"SecretArn": arn})
	// The function reads the secret by ARN, as the template wires it.
	stack := startStack(t, mt, arn, placeholder, map[string]string{"SECRET_TTL": "1s"})
	trulience, fn := stack.StandIn, stack.Function
	event := readEvent(t, "token-request.json")

	r := invoke(t, fn, event)
	if r.StatusCode != 503 || !strings.Contains(r.Body, "secret_unavailable") {
		t.Fatalf("with the placeholder key: status %d, body %s; want 503 secret_unavailable", r.StatusCode, r.Body)
	}
	if trulience.Calls() != 0 {
		t.Error("the function called Trulience with the placeholder key")
	}

	w := watchArgv(t)
	run := runScript(t, "put-api-key.sh", testKey+"\n", w.env, "--endpoint-url", mt.URL, "--region", "us-east-1")
	w.check(t, testKey)
	if run.code != 0 {
		t.Fatalf("put-api-key.sh: exit %d\n%s%s", run.code, run.stdout, run.stderr)
	}

	time.Sleep(1100 * time.Millisecond) // SECRET_TTL
	r = invoke(t, fn, event)
	if r.StatusCode != 200 {
		t.Fatalf("after put-api-key.sh: status %d, body %s; want 200", r.StatusCode, r.Body)
	}
	minted := trulience.Minted()
	if len(minted) != 1 || minted[0].Key != testKey || !strings.Contains(r.Body, minted[0].JWT) {
		t.Errorf("want one token minted with the stored key and returned; minted %d", len(minted))
	}
}
