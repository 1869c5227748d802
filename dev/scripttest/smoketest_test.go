package scripttest

import (
	"strings"
	"testing"

	"github.com/trulience-token/trulience-token/dev/moto"
)

// TestSmokeTest runs smoke-test.sh against the function behind a local API
// Gateway stand-in, with the endpoint and origins read from a moto stack or
// given on the command line, and checks its verdict and that it never prints
// a token.
func TestSmokeTest(t *testing.T) {
	t.Parallel()
	requireAWSCLI(t)
	mt := moto.ForTest(t)
	stack := startStack(t, mt, "", "", nil)
	trulience, endpoint := stack.StandIn, stack.TokenURL

	createStack(t, mt.URL, "trulience-token", map[string]string{
		"TokenEndpoint":  endpoint,
		"AllowedOrigins": exampleOrigin + ",https://www.example.com",
	})
	createStack(t, mt.URL, "other-site", map[string]string{
		"TokenEndpoint":  endpoint,
		"AllowedOrigins": "https://other.example",
	})

	cases := []struct {
		name     string
		args     []string
		wantCode int
		want     []string // lines the output must hold
	}{
		{
			name: "from the stack",
			args: []string{"--endpoint-url", mt.URL},
			want: []string{
				"PASS  token request answers 200",
				"PASS  body carries a JWT (not shown)",
				"PASS  Cache-Control: no-store",
				"PASS  Access-Control-Allow-Origin: " + exampleOrigin,
				"PASS  preflight answers 204",
				"PASS  refused origin answers 403 origin_not_allowed",
				"PASS  refused origin gets no Access-Control-Allow-Origin",
				"PASS: 8 checks passed",
			},
		},
		{
			name: "url and origin given",
			args: []string{"--url", endpoint, "--origin", exampleOrigin, "--avatar-id", exampleAvatar},
			want: []string{"PASS: 8 checks passed"},
		},
		{
			name: "server to server",
			args: []string{"--url", endpoint, "--origin", "none"},
			want: []string{"PASS  token request answers 200", "PASS: 6 checks passed"},
		},
		{
			name:     "origin the function refuses",
			args:     []string{"--stack-name", "other-site", "--endpoint-url", mt.URL},
			wantCode: 1,
			want: []string{
				"FAIL  token request answers 403, want 200 (origin_not_allowed)",
				"FAIL  body carries no JWT",
				"PASS  refused origin answers 403",
				"FAIL: 5 of 8 checks failed",
			},
		},
		{
			name:     "refused origin is allowed",
			args:     []string{"--url", endpoint, "--origin", "none", "--refused-origin", exampleOrigin},
			wantCode: 1,
			want: []string{
				"FAIL  refused origin answers 200, want 403",
				"FAIL  refused origin gets Access-Control-Allow-Origin: " + exampleOrigin,
				"FAIL: 2 of 6 checks failed",
			},
		},
		{
			name:     "no such stack",
			args:     []string{"--stack-name", "never-deployed", "--endpoint-url", mt.URL},
			wantCode: 2,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := runScript(t, "smoke-test.sh", "", scriptEnv(), tc.args...)
			if r.code != tc.wantCode {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tc.wantCode, r.stdout, r.stderr)
			}
			for _, line := range tc.want {
				if !strings.Contains(r.stdout, line) {
					t.Errorf("output lacks %q:\n%s", line, r.stdout)
				}
			}
			for _, tok := range trulience.Minted() {
				if strings.Contains(r.stdout+r.stderr, tok.JWT) {
					t.Fatal("the smoke test printed a token")
				}
			}
		})
	}
}

// TestSmokeTestLiveVersion: the smoke test checks that the alias live runs
// what the deploy put in $LATEST, and fails when a change of configuration
// alone left live on the older version (no version was published).
func TestSmokeTestLiveVersion(t *testing.T) {
	t.Parallel()
	requireAWSCLI(t)
	mt := moto.ForTest(t)
	stack := startStack(t, mt, "", "", nil)
	const fn = "live-TokenFunction-AbCdEf"
	createFunctionEnv(t, mt.URL, fn, map[string]string{"BOT_CHECK": "off"})
	awsCLI(t, mt.URL, "lambda", "publish-version", "--function-name", fn)
	awsCLI(t, mt.URL, "lambda", "create-alias", "--function-name", fn, "--name", "live", "--function-version", "1")
	createStack(t, mt.URL, "live", map[string]string{
		"TokenEndpoint": stack.TokenURL, "AllowedOrigins": exampleOrigin, "FunctionName": fn,
	})
	args := []string{"--stack-name", "live", "--endpoint-url", mt.URL}

	r := runScript(t, "smoke-test.sh", "", scriptEnv(), args...)
	if r.code != 0 || !strings.Contains(r.stdout, "PASS  the alias live runs the deployed code and configuration") {
		t.Fatalf("published: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// A deploy that changed a parameter alone: $LATEST changes, live does not.
	awsCLI(t, mt.URL, "lambda", "update-function-configuration", "--function-name", fn,
		"--environment", `{"Variables":{"BOT_CHECK":"enforce"}}`)
	r = runScript(t, "smoke-test.sh", "", scriptEnv(), args...)
	if r.code != 1 || !strings.Contains(r.stdout, "FAIL  the alias live runs an older version than the one deployed") {
		t.Fatalf("not published: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
