package scripttest

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/trulience-token/trulience-token/dev/moto"
)

const testTurnstileSecret = "0x4AAAAAAAscriptTESTsecret"

// TestPutTurnstileSecret stores the Turnstile secret key with
// put-api-key.sh --turnstile-secret (from standard input), keeping the API
// key, and a later API key rotation keeps the Turnstile secret: neither
// value is ever an argument of any process.
func TestPutTurnstileSecret(t *testing.T) {
	t.Parallel()
	requireAWSCLI(t)
	mt := moto.ForTest(t)
	base := []string{"--endpoint-url", mt.URL, "--region", "us-east-1"}

	stored := func(arn string) map[string]string {
		t.Helper()
		var m map[string]string
		if err := json.Unmarshal([]byte(secretString(t, mt.URL, arn)), &m); err != nil {
			t.Fatalf("secret is not a JSON object of strings: %v", err)
		}
		return m
	}
	put := func(t *testing.T, arn, stdin, secret string, args ...string) result {
		t.Helper()
		w := watchArgv(t)
		r := runScript(t, "put-api-key.sh", stdin, w.env, append(append([]string{"--secret-id", arn}, args...), base...)...)
		w.check(t, secret)
		if strings.Contains(r.stdout+r.stderr, secret) {
			t.Errorf("the script printed the secret:\n%s%s", r.stdout, r.stderr)
		}
		return r
	}

	t.Run("kept across both orders", func(t *testing.T) {
		arn := createSecret(t, mt.URL, "turnstile-both")
		if r := put(t, arn, testKey+"\n", testKey); r.code != 0 {
			t.Fatalf("api key: exit %d %s", r.code, r.stderr)
		}
		r := put(t, arn, testTurnstileSecret+"\n", testTurnstileSecret, "--turnstile-secret")
		if r.code != 0 {
			t.Fatalf("turnstile secret: exit %d %s", r.code, r.stderr)
		}
		if !strings.Contains(r.stdout, "Turnstile secret key") {
			t.Errorf("stdout does not say what was stored: %s", r.stdout)
		}
		if m := stored(arn); len(m) != 2 || m["api_key"] != testKey || m["turnstile_secret"] != testTurnstileSecret {
			t.Errorf("secret holds %v", m)
		}
		// Rotating the API key keeps the Turnstile secret.
		rotated := "tru_live_rotated_0123456789"
		if r := put(t, arn, rotated+"\n", rotated); r.code != 0 {
			t.Fatalf("rotation: exit %d %s", r.code, r.stderr)
		}
		if m := stored(arn); m["api_key"] != rotated || m["turnstile_secret"] != testTurnstileSecret {
			t.Errorf("after rotating the API key the secret holds %v", m)
		}
	})

	t.Run("bare key kept", func(t *testing.T) {
		arn := createSecret(t, mt.URL, "turnstile-bare")
		_, err := moto.Client(mt.URL).PutSecretValue(context.Background(), &secretsmanager.PutSecretValueInput{SecretId: aws.String(arn), SecretString: aws.String(testKey)})
		if err != nil {
			t.Fatal(err)
		}
		if r := put(t, arn, testTurnstileSecret, testTurnstileSecret, "--turnstile-secret"); r.code != 0 {
			t.Fatalf("exit %d %s", r.code, r.stderr)
		}
		if m := stored(arn); m["api_key"] != testKey || m["turnstile_secret"] != testTurnstileSecret {
			t.Errorf("secret holds %v", m)
		}
	})

	refusals := []struct {
		name, stdin, want string
		args              []string
	}{
		{"empty", "", "no Turnstile secret key on standard input", []string{"--turnstile-secret"}},
		{"a Trulience key", testKey, "not a Turnstile secret key", []string{"--turnstile-secret"}},
		{"a quote", `0x4AAA"AAA`, "characters", []string{"--turnstile-secret"}},
		{"as an argument", "", "never from arguments", []string{"--turnstile-secret=" + testTurnstileSecret}},
		{"as a trailing argument", "", "never from arguments", []string{"--turnstile-secret", testTurnstileSecret}},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			arn := createSecret(t, mt.URL, "turnstile-"+strings.ReplaceAll(tc.name, " ", "-"))
			w := watchArgv(t)
			r := runScript(t, "put-api-key.sh", tc.stdin, w.env, append(append([]string{"--secret-id", arn}, tc.args...), base...)...)
			w.finish()
			if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want a failure with %q", r.code, r.stderr, tc.want)
			}
			if strings.Contains(r.stdout+r.stderr, testTurnstileSecret) {
				t.Error("the script printed the secret")
			}
			if got := secretString(t, mt.URL, arn); got != placeholder {
				t.Errorf("a refused run changed the secret to %q", got)
			}
		})
	}

	t.Run("placeholder has no API key yet", func(t *testing.T) {
		arn := createSecret(t, mt.URL, "turnstile-placeholder")
		r := put(t, arn, testTurnstileSecret, testTurnstileSecret, "--turnstile-secret")
		// The placeholder's api_key is kept as is: the function keeps
		// answering secret_unavailable until the real key is stored.
		if r.code != 0 {
			t.Fatalf("exit %d %s", r.code, r.stderr)
		}
		if m := stored(arn); m["api_key"] != "REPLACE_ME: run scripts/put-api-key.sh" || m["turnstile_secret"] != testTurnstileSecret {
			t.Errorf("secret holds %v", m)
		}
	})
}
