// Package scripttest runs the operator scripts (scripts/*.sh) and the
// events/ files against real protocol peers: moto_server for CloudFormation
// and Secrets Manager, the Trulience stand-in, and the built bootstrap under
// the Lambda Runtime Interface Emulator.
package scripttest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/trulience-token/trulience-token/dev/devstack"
	"github.com/trulience-token/trulience-token/dev/moto"
	"github.com/trulience-token/trulience-token/dev/rie"
	"github.com/trulience-token/trulience-token/dev/testenv"
)

// testKey is the Trulience API key the tests store and the stand-in accepts.
const testKey = "tru_live_0123456789abcdefSCRIPTS"

// exampleOrigin and exampleAvatar are the example site's origin and avatar,
// the ones events/env.json allows.
const (
	exampleOrigin = "http://localhost:8000"
	exampleAvatar = "4386676996480451678"
)

// repoRoot is the repository root (this package is dev/scripttest/).
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// scriptEnv is the environment the scripts run in: the caller's, minus any
// AWS settings, plus dummy credentials and a region, so no test ever
// reaches a real account.
func scriptEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"AWS_ACCESS_KEY_ID=testing",
		"AWS_SECRET_ACCESS_KEY=testing",
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE="+os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE="+os.DevNull,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_PAGER=",
	)
	return append(env, extra...)
}

// result is what a script run produced.
type result struct {
	stdout, stderr string
	code           int
}

// runScript runs scripts/<name> with stdin, env and args, and waits at most a minute.
func runScript(t *testing.T, name, stdin string, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(repoRoot(t), "scripts", name), args...)
	cmd.Dir = t.TempDir()
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	case err != nil:
		t.Fatalf("run %s: %v", name, err)
	}
	return r
}

// requireAWSCLI skips (or, in CI, fails) when the AWS CLI is missing.
func requireAWSCLI(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("aws"); err != nil {
		testenv.Missing(t, "the AWS CLI (aws)", "make tools installs it into .venv")
	}
}

// createSecret creates the secret the stack would create, with the
// template's placeholder value, and returns its ARN.
func createSecret(t *testing.T, endpoint, name string) string {
	t.Helper()
	out, err := moto.Client(endpoint).CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{
		Name:         aws.String(name),
		SecretString: aws.String(placeholder),
	})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.ARN)
}

// secretString reads the secret's current value back.
func secretString(t *testing.T, endpoint, id string) string {
	t.Helper()
	out, err := moto.Client(endpoint).GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.SecretString)
}

// createStack creates, in moto, a stack named name with the deployed
// stack's outputs (testdata/stack.json): moto cannot run the SAM transform,
// so the outputs' values come in as parameters.
func createStack(t *testing.T, endpoint, name string, params map[string]string) {
	t.Helper()
	args := []string{"--endpoint-url", endpoint, "cloudformation", "create-stack", "--stack-name", name,
		"--template-body", "file://" + filepath.Join("testdata", "stack.json")}
	if len(params) > 0 {
		// JSON, not the shorthand, which would split comma-separated values.
		type param struct{ ParameterKey, ParameterValue string }
		var list []param
		for k, v := range params {
			list = append(list, param{k, v})
		}
		b, _ := json.Marshal(list)
		args = append(args, "--parameters", string(b))
	}
	cmd := exec.Command("aws", args...)
	cmd.Env = scriptEnv()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("create stack %s in moto: %v\n%s", name, err, out)
	}
}

// startStack starts the local stack with the function's environment from
// events/env.json (what `sam local invoke --env-vars` gives it), aimed at mt
// and the stand-in instead of AWS and Trulience, and the secret (the file's
// TRULIENCE_SECRET_ID unless secretID says otherwise) holding secretValue
// (a key for testKey when empty).
func startStack(t *testing.T, mt *moto.Moto, secretID, secretValue string, extra map[string]string) *devstack.Stack {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "events", "env.json"))
	if err != nil {
		t.Fatal(err)
	}
	var file map[string]map[string]string
	if err := json.Unmarshal(b, &file); err != nil {
		t.Fatalf("events/env.json: %v", err)
	}
	env, ok := file["TokenFunction"]
	if !ok {
		t.Fatal(`events/env.json has no "TokenFunction" entry (SAM's --env-vars format)`)
	}
	// The stack aims the function at its own peers: TRULIENCE_API_URL at
	// the stand-in, and Secrets Manager at moto through
	// AWS_ENDPOINT_URL_SECRETS_MANAGER, which the template does not declare
	// (so it is not in the file: sam local invoke would drop it).
	delete(env, "TRULIENCE_API_URL")
	if secretID == "" {
		secretID = env["TRULIENCE_SECRET_ID"]
	}
	delete(env, "TRULIENCE_SECRET_ID")
	if secretValue == "" {
		secretValue = `{"api_key":"` + testKey + `"}`
	}
	maps.Copy(env, extra)
	s, _ := devstack.ForTest(t, devstack.Options{
		Moto: mt, SecretID: secretID, SecretValue: secretValue, APIKey: testKey,
		// The front door's CORS follows the function's origins, as the
		// template's CorsConfiguration does.
		AllowedOrigins: strings.Split(env["ALLOWED_ORIGINS"], ","),
		AvatarIDs:      strings.Split(env["ALLOWED_AVATAR_IDS"], ","),
		Env:            env, Timeout: 15 * time.Second,
	})
	return s
}

// response is the function's answer, in either API Gateway format.
type response struct {
	StatusCode      int               `json:"statusCode"`
	Headers         map[string]string `json:"headers"`
	Body            string            `json:"body"`
	IsBase64Encoded bool              `json:"isBase64Encoded"`
}

// header looks a response header up case-insensitively.
func (r response) header(name string) string {
	for k, v := range r.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// invoke sends an event to the function and decodes its answer.
func invoke(t *testing.T, e *rie.Emulator, event []byte) response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := e.Invoke(ctx, event)
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	var r response
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("invoke: answer is not an API Gateway response: %v\n%s", err, out)
	}
	return r
}

// readEvent reads events/<name>.
func readEvent(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "events", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
