package scripttest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trulience-token/trulience-token/dev/moto"
	"github.com/trulience-token/trulience-token/dev/testenv"
)

// samCall is one call of the fake SAM CLI (testdata/fake_sam.py).
type samCall struct {
	Args      []string          `json:"args"`
	Cwd       string            `json:"cwd"`
	Config    map[string]any    `json:"config"`
	Overrides map[string]string `json:"overrides"`
	// ReleaseDigest is the override of that name, taken out of Overrides.
	ReleaseDigest string `json:"-"`
}

// deployProject is a copy of the project's deploy.py, template.yaml and
// samconfig.toml in a temporary root, with a fake sam first on PATH.
type deployProject struct {
	root, log string
	env       []string
}

// newDeployProject copies the project into a temporary root; samconfig, when
// not empty, replaces the project's samconfig.toml there.
func newDeployProject(t *testing.T, samconfig string) *deployProject {
	t.Helper()
	python := filepath.Join(repoRoot(t), ".venv", "bin", "python")
	if err := exec.Command(python, "-c", "import tomllib").Run(); err != nil {
		testenv.Missing(t, "Python 3.11+ in .venv (tomllib)", "make tools creates it")
	}
	p := &deployProject{root: t.TempDir()}
	for _, f := range []string{"scripts/deploy.py", "template.yaml", "samconfig.toml"} {
		copyFile(t, filepath.Join(repoRoot(t), f), filepath.Join(p.root, f))
	}
	if samconfig != "" {
		if err := os.WriteFile(filepath.Join(p.root, "samconfig.toml"), []byte(samconfig), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(t.TempDir(), "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	fake, err := filepath.Abs(filepath.Join("testdata", "fake_sam.py"))
	if err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\nexec '" + python + "' '" + fake + "' \"$@\"\n"
	if err := os.WriteFile(filepath.Join(bin, "sam"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	p.log = filepath.Join(t.TempDir(), "sam.log")
	p.env = scriptEnv("FAKE_SAM_LOG=" + p.log)
	for i, kv := range p.env {
		if strings.HasPrefix(kv, "PATH=") {
			p.env[i] = "PATH=" + bin + string(os.PathListSeparator) + strings.TrimPrefix(kv, "PATH=")
		}
	}
	return p
}

// run runs the copy's scripts/deploy.py with stdin and args.
func (p *deployProject) run(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(p.root, "scripts", "deploy.py"), args...)
	cmd.Dir = t.TempDir()
	cmd.Env = p.env
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
		t.Fatalf("run deploy.py: %v", err)
	}
	return r
}

// calls reads what the fake sam was called with.
func (p *deployProject) calls(t *testing.T) []samCall {
	t.Helper()
	f, err := os.Open(p.log)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var calls []samCall
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var c samCall
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("fake sam log: %v", err)
		}
		if d, ok := c.Overrides["ReleaseDigest"]; ok {
			c.ReleaseDigest = d
			delete(c.Overrides, "ReleaseDigest")
		}
		calls = append(calls, c)
	}
	return calls
}

// samconfig reads the copy's samconfig.toml.
func (p *deployProject) samconfig(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(p.root, "samconfig.toml"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// otherEnvironments is a samconfig.toml with the staging and prod
// environments beside the default one, and a comment.
const otherEnvironments = `# More information about the configuration file can be found here:
# https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/serverless-sam-cli-config.html
version = 0.1

[default.global.parameters]
stack_name = "trulience-token"

[default.build.parameters]
cached = true

[default.deploy.parameters]
capabilities = "CAPABILITY_IAM"
confirm_changeset = false # the operator's choice, kept
resolve_s3 = true
parameter_overrides = "LogLevel=\"debug\" AllowedAvatarIds=\"1\""

[staging.deploy.parameters]
stack_name = "trulience-token-staging"
parameter_overrides = "AllowedAvatarIds=\"42\" AllowedOrigins=\"https://staging.example.com\""

[prod.deploy.parameters]
stack_name = "trulience-token-prod"
parameter_overrides = [
  "AllowedAvatarIds=43",
  "AllowedOrigins=https://www.example.com",
]
`

// TestDeployFirst: on a stack that does not exist, deploy.py asks four
// questions and the optional features, writes samconfig.toml so that a plain
// sam deploy has every answer, runs sam build and sam deploy, and says what
// to do next.
func TestDeployFirst(t *testing.T) {
	t.Parallel()
	requireAWSCLI(t)
	mt := moto.ForTest(t)
	createStack(t, mt.URL, "taken", nil)

	t.Run("every feature the template has", func(t *testing.T) {
		p := newDeployProject(t, otherEnvironments)
		answers := strings.Join([]string{
			"my-stack",                 // stack name
			"eu-west-1",                // region
			"abc",                      // not an avatar ID: asked again
			" 123, 456 ",               // spaces squeezed out
			"https://www.example.com/", // a path: asked again
			"https://www.example.com, http://localhost:8000",
			"y", "ops@example.com", // alarms
			"y", "", "1000", // limits: 5/10m offered as the default
			"yes", "sometimes", "enforce", // bot check
			"n", // signed-in mode
			"n", // custom domain
		}, "\n") + "\n"
		r := p.run(t, answers, "--endpoint-url", mt.URL)
		if r.code != 0 {
			t.Fatalf("deploy.py: exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
		}
		for _, want := range []string{
			"Stack trulience-token does not exist",
			"'abc': must be a comma-separated list of digit avatar IDs",
			"'https://www.example.com/': must be empty",
			"'sometimes': must be one of off, monitor, enforce",
			"scripts/put-api-key.sh --stack-name my-stack --region eu-west-1",
			"make smoke STACK_NAME=my-stack AWS_REGION=eu-west-1 ORIGIN=https://www.example.com",
			"scripts/put-api-key.sh --turnstile-secret --stack-name my-stack --region eu-west-1",
			"ops@example.com",
		} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("stdout does not say %q:\n%s", want, r.stdout)
			}
		}
		calls := p.calls(t)
		if len(calls) != 2 || strings.Join(calls[0].Args, " ") != "build" ||
			!strings.HasPrefix(strings.Join(calls[1].Args, " "), "deploy --parameter-overrides ") || calls[1].ReleaseDigest == "" {
			t.Fatalf("sam calls %+v, want sam build, then sam deploy with the saved parameters and their ReleaseDigest", calls)
		}
		if calls[1].Cwd != p.root {
			t.Errorf("sam deploy ran in %s, want the project root %s", calls[1].Cwd, p.root)
		}
		config := calls[1].Config
		for k, want := range map[string]any{
			"stack_name": "my-stack", "region": "eu-west-1", "capabilities": "CAPABILITY_IAM",
			"resolve_s3": true, "confirm_changeset": false,
		} {
			if config[k] != want {
				t.Errorf("sam deploy would read %s = %v, want %v", k, config[k], want)
			}
		}
		wantOverrides := map[string]string{
			"AllowedAvatarIds": "123,456",
			"AllowedOrigins":   "https://www.example.com,http://localhost:8000",
			"AlarmEmail":       "ops@example.com",
			"ClientTokenLimit": "5/10m",
			"DailyTokenLimit":  "1000",
			"BotCheck":         "enforce",
			"LogLevel":         "debug", // not asked: kept
		}
		if !maps.Equal(calls[1].Overrides, wantOverrides) {
			t.Errorf("sam deploy would read parameter_overrides\n %v\nwant\n %v", calls[1].Overrides, wantOverrides)
		}
		after := p.samconfig(t)
		for _, keep := range []string{
			"# More information about the configuration file",
			"[default.build.parameters]\ncached = true\n",
			"confirm_changeset = false # the operator's choice, kept\n",
			"[staging.deploy.parameters]\nstack_name = \"trulience-token-staging\"\nparameter_overrides = \"AllowedAvatarIds=\\\"42\\\" AllowedOrigins=\\\"https://staging.example.com\\\"\"\n",
			"[prod.deploy.parameters]\nstack_name = \"trulience-token-prod\"\nparameter_overrides = [\n  \"AllowedAvatarIds=43\",\n  \"AllowedOrigins=https://www.example.com\",\n]\n",
			"[default.global.parameters]\nstack_name = \"my-stack\"\nregion = \"eu-west-1\"\n",
		} {
			if !strings.Contains(after, keep) {
				t.Errorf("samconfig.toml lacks %q:\n%s", keep, after)
			}
		}
	})

	t.Run("the project's samconfig.toml and a custom domain", func(t *testing.T) {
		p := newDeployProject(t, "")
		const cert = "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"
		answers := strings.Join([]string{
			"", "", // the defaults: trulience-token, the caller's region
			"4386676996480451678", "",
			"n", "n", "n",
			"y", "https://issuer.example.com/", "client-1", // signed-in mode
			"y", "Token.Example.com", "token.example.com", cert, "", // custom domain
		}, "\n") + "\n"
		r := p.run(t, answers, "--endpoint-url", mt.URL)
		if r.code != 0 {
			t.Fatalf("deploy.py: exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
		}
		calls := p.calls(t)
		if len(calls) != 2 {
			t.Fatalf("sam calls %+v", calls)
		}
		want := map[string]string{
			"AllowedAvatarIds": "4386676996480451678", "AllowedOrigins": "",
			"JwtIssuer": "https://issuer.example.com/", "JwtAudience": "client-1",
			"DomainName": "token.example.com", "CertificateArn": cert,
		}
		if !maps.Equal(calls[1].Overrides, want) {
			t.Errorf("parameter_overrides %v, want %v", calls[1].Overrides, want)
		}
		if calls[1].Config["stack_name"] != "trulience-token" || calls[1].Config["region"] != "us-east-1" {
			t.Errorf("stack %v in %v, want trulience-token in us-east-1 (AWS_DEFAULT_REGION)", calls[1].Config["stack_name"], calls[1].Config["region"])
		}
		if !strings.Contains(r.stdout, "make smoke STACK_NAME=trulience-token AWS_REGION=us-east-1\n") {
			t.Errorf("no smoke-test line without an origin:\n%s", r.stdout)
		}
		// Every table the project's file had is still there, unchanged but
		// for the two keys of the default environment.
		orig, err := os.ReadFile(filepath.Join(repoRoot(t), "samconfig.toml"))
		if err != nil {
			t.Fatal(err)
		}
		after := p.samconfig(t)
		for _, block := range strings.Split(string(orig), "\n\n") {
			if !strings.Contains(block, "[default.deploy.parameters]") && !strings.Contains(block, "[default.global.parameters]") &&
				!strings.Contains(after, block) {
				t.Errorf("samconfig.toml lost %q", block)
			}
		}
	})

	t.Run("the stack named exists already", func(t *testing.T) {
		p := newDeployProject(t, "")
		r := p.run(t, "taken\nus-east-1\n", "--endpoint-url", mt.URL)
		if r.code == 0 || !strings.Contains(r.stderr, "stack taken already exists in us-east-1") {
			t.Errorf("exit %d, stderr %q; want a refusal", r.code, r.stderr)
		}
		if calls := p.calls(t); len(calls) != 0 {
			t.Errorf("sam called: %+v", calls)
		}
	})

	t.Run("answers end early", func(t *testing.T) {
		p := newDeployProject(t, "")
		before := p.samconfig(t)
		r := p.run(t, "my-stack\neu-west-1\n123\n", "--endpoint-url", mt.URL)
		if r.code == 0 || !strings.Contains(r.stderr, "nothing was changed or deployed") {
			t.Errorf("exit %d, stderr %q", r.code, r.stderr)
		}
		if p.samconfig(t) != before || len(p.calls(t)) != 0 {
			t.Error("samconfig.toml changed or sam ran after the answers ran out")
		}
	})

	t.Run("sam deploy fails", func(t *testing.T) {
		p := newDeployProject(t, "")
		p.env = append(p.env, "FAKE_SAM_DEPLOY_EXIT=1")
		r := p.run(t, "my-stack\neu-west-1\n123\n\nn\nn\nn\nn\nn\n", "--endpoint-url", mt.URL)
		if r.code == 0 || !strings.Contains(r.stderr, "sam deploy failed") || strings.Contains(r.stdout, "Deployed.") {
			t.Errorf("exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
		}
	})
}

// TestDeployExisting: on a stack that exists, deploy.py asks nothing and
// runs sam build and sam deploy with samconfig.toml as it is.
func TestDeployExisting(t *testing.T) {
	t.Parallel()
	requireAWSCLI(t)
	mt := moto.ForTest(t)
	createStack(t, mt.URL, "trulience-token", nil)

	p := newDeployProject(t, "")
	// A profile, which the AWS CLI and sam both get.
	dir := t.TempDir()
	config, creds := filepath.Join(dir, "config"), filepath.Join(dir, "credentials")
	if err := os.WriteFile(config, []byte("[profile dev]\nregion = us-east-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(creds, []byte("[dev]\naws_access_key_id = testing\naws_secret_access_key = testing\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p.env = append(p.env, "AWS_CONFIG_FILE="+config, "AWS_SHARED_CREDENTIALS_FILE="+creds)
	before := p.samconfig(t)
	r := p.run(t, "", "--endpoint-url="+mt.URL, "--profile", "dev")
	if r.code != 0 {
		t.Fatalf("deploy.py: exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	calls := p.calls(t)
	if len(calls) != 2 || strings.Join(calls[0].Args, " ") != "build --profile dev" ||
		!strings.HasPrefix(strings.Join(calls[1].Args, " "), "deploy --profile dev --parameter-overrides ") {
		t.Errorf("sam calls %+v, want build and deploy with the profile", calls)
	}
	if p.samconfig(t) != before {
		t.Error("samconfig.toml changed")
	}
	if !strings.Contains(r.stdout, "Stack trulience-token exists in us-east-1") {
		t.Errorf("stdout %s", r.stdout)
	}
}

// TestDeployReleaseDigest: deploy.py passes samconfig.toml's parameters and
// a digest of them, ReleaseDigest, which changes exactly when one of them
// does: a change of parameters alone then publishes a new version.
func TestDeployReleaseDigest(t *testing.T) {
	t.Parallel()
	requireAWSCLI(t)
	mt := moto.ForTest(t)
	createStack(t, mt.URL, "trulience-token", nil)
	deploy := func(overrides string) samCall {
		t.Helper()
		p := newDeployProject(t, "")
		cfg := strings.Replace(p.samconfig(t), "[default.deploy.parameters]\n",
			"[default.deploy.parameters]\nparameter_overrides = "+strconv.Quote(overrides)+"\n", 1)
		if err := os.WriteFile(filepath.Join(p.root, "samconfig.toml"), []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
		if r := p.run(t, "", "--endpoint-url", mt.URL); r.code != 0 {
			t.Fatalf("deploy.py: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		calls := p.calls(t)
		if len(calls) != 2 {
			t.Fatalf("sam calls %+v", calls)
		}
		return calls[1]
	}
	a := deploy(`AllowedAvatarIds="123" BotCheck="off"`)
	b := deploy(`BotCheck="off" AllowedAvatarIds="123"`)
	c := deploy(`AllowedAvatarIds="123" BotCheck="enforce"`)
	if !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(a.ReleaseDigest) {
		t.Fatalf("ReleaseDigest %q", a.ReleaseDigest)
	}
	if want := map[string]string{"AllowedAvatarIds": "123", "BotCheck": "enforce"}; !maps.Equal(c.Overrides, want) {
		t.Errorf("overrides %v, want samconfig.toml's %v", c.Overrides, want)
	}
	if a.ReleaseDigest != b.ReleaseDigest {
		t.Error("the same parameters in another order gave another digest")
	}
	if a.ReleaseDigest == c.ReleaseDigest {
		t.Error("a changed parameter kept the digest: no version would be published")
	}
}

// TestDeployHelp: deploy.py explains itself and touches nothing.
func TestDeployHelp(t *testing.T) {
	r := runScript(t, "deploy.py", "", scriptEnv(), "--help")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "Usage: scripts/deploy.py") {
		t.Fatalf("--help: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"--profile", "--region", "--endpoint-url", "samconfig.toml", "GUIDED=1"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("--help does not mention %s", want)
		}
	}
	r = runScript(t, "deploy.py", "", scriptEnv(), "--force")
	if r.code == 0 || !strings.Contains(r.stderr, "unknown argument: --force") {
		t.Errorf("--force: exit %d, stderr %q", r.code, r.stderr)
	}
}
