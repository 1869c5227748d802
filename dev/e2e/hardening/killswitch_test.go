package hardening

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/trulience-token/trulience-token/dev/devstack"
	"github.com/trulience-token/trulience-token/dev/moto"
)

// revokedSM names the smCases that mean access to the key was taken away:
// the function must stop serving the key it holds, not fall back to it.
var revokedSM = map[string]bool{"access-denied": true, "not-found": true, "decryption-failure": true}

// transientSMCases are the smCases that say nothing about access (throttling,
// 5xx, the network, a value that is not a key): the held key keeps serving.
func transientSMCases() []smCase {
	var out []smCase
	for _, c := range smCases() {
		if !revokedSM[c.name] {
			out = append(out, c)
		}
	}
	return out
}

// revocation is one way an operator takes the key away from a running function.
type revocation struct {
	name    string
	revoke  func(t *testing.T, f *fixture) // takes access away
	restore func(t *testing.T, f *fixture) // gives it back
}

func faultRevocation(name string, fault *devstack.Fault) revocation {
	return revocation{
		name:    name,
		revoke:  func(_ *testing.T, f *fixture) { f.sm.SetFault("GetSecretValue", fault) },
		restore: func(_ *testing.T, f *fixture) { f.sm.SetFault("GetSecretValue", nil) },
	}
}

func smClient(t *testing.T) *secretsmanager.Client {
	t.Helper()
	_, mt := need(t)
	return moto.Client(mt.URL)
}

// TestKillSwitch: a warm function holds a key; the operator takes access to
// it away (the role loses secretsmanager:GetSecretValue, the secret is
// deleted, the KMS key refuses, or the secret is scheduled for deletion in
// moto itself). At the next refresh the function stops minting at once,
// 503 secret_unavailable, without calling Trulience and without serving the
// key it holds even once; when access comes back the same process mints again.
func TestKillSwitch(t *testing.T) {
	t.Parallel()
	const ttl = 300 * time.Millisecond
	cases := []revocation{
		faultRevocation("access-denied", devstack.Denied),
		faultRevocation("not-found", devstack.NotFound),
		faultRevocation("decryption-failure", devstack.Decrypt),
		{
			name: "marked-for-deletion",
			revoke: func(t *testing.T, f *fixture) {
				_, err := smClient(t).DeleteSecret(context.Background(), &secretsmanager.DeleteSecretInput{
					SecretId: aws.String(f.secretID), RecoveryWindowInDays: aws.Int64(7),
				})
				if err != nil {
					t.Fatalf("DeleteSecret: %v", err)
				}
			},
			restore: func(t *testing.T, f *fixture) {
				if _, err := smClient(t).RestoreSecret(context.Background(), &secretsmanager.RestoreSecretInput{SecretId: aws.String(f.secretID)}); err != nil {
					t.Fatalf("RestoreSecret: %v", err)
				}
			},
		},
	}
	concurrently(t, 4, cases, func(c revocation) string { return c.name }, func(t *testing.T, c revocation) {
		f := newFixture(t, opts{env: map[string]string{"SECRET_TTL": ttl.String()}})
		f.wantToken(t, f.post(`{}`))
		minted := f.sin.Calls()

		c.revoke(t, f)
		time.Sleep(ttl + 50*time.Millisecond)
		for i := 0; i < 3; i++ {
			a := f.post(`{}`)
			want(t, a, 503, "secret_unavailable")
			if a.Headers["Access-Control-Allow-Origin"] != site {
				t.Errorf("no Access-Control-Allow-Origin on the 503: a browser could not read it")
			}
		}
		if n := f.sin.Calls() - minted; n != 0 {
			t.Errorf("Trulience called %d times after access to the key was taken away", n)
		}
		logs := f.emu.Logs()
		if !strings.Contains(logs, "access to the secret was taken away") {
			t.Error("the revocation was not logged")
		}
		if strings.Contains(logs, "using the previously read key") {
			t.Error("the revoked key was served stale")
		}

		c.restore(t, f)
		f.wantToken(t, f.post(`{}`))
		if n := len(f.emu.InitDurations()); n != 1 {
			t.Errorf("%d inits: the function restarted", n)
		}
	})
}

// TestStaleKeyExpires: while Secrets Manager fails transiently the held key
// keeps serving, but not longer than MAX_KEY_STALENESS after the last
// successful read; then 503 secret_unavailable until a read succeeds.
func TestStaleKeyExpires(t *testing.T) {
	t.Parallel()
	const ttl, staleness = 200 * time.Millisecond, 1500 * time.Millisecond
	f := newFixture(t, opts{env: map[string]string{"SECRET_TTL": ttl.String(), "MAX_KEY_STALENESS": staleness.String()}})
	f.wantToken(t, f.post(`{}`))
	read := time.Now() // the last successful read happened before this

	f.sm.SetFault("GetSecretValue", devstack.Throttled)
	time.Sleep(ttl + 50*time.Millisecond)
	a := f.post(`{}`)
	if time.Since(read) < staleness { // a slow machine may already be past the bound
		f.wantToken(t, a)
	}
	time.Sleep(time.Until(read.Add(staleness + 50*time.Millisecond)))
	want(t, f.post(`{}`), 503, "secret_unavailable")
	want(t, f.post(`{}`), 503, "secret_unavailable")
	if !strings.Contains(f.emu.Logs(), "MAX_KEY_STALENESS") {
		t.Error("dropping the stale key was not logged")
	}

	f.sm.SetFault("GetSecretValue", nil)
	f.wantToken(t, f.post(`{}`))
}
