package scripttest

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// shellScripts are the user-facing scripts this package tests.
var shellScripts = []string{"put-api-key.sh", "smoke-test.sh", "pause.sh", "resume.sh", "sam-env.sh", "sessions.sh", "webhook-header.sh"}

// TestHelp checks that each script explains itself with --help and exits 0
// without touching AWS.
func TestHelp(t *testing.T) {
	for _, name := range shellScripts {
		t.Run(name, func(t *testing.T) {
			r := runScript(t, name, "", scriptEnv("PATH=/usr/bin:/bin"), "--help")
			if r.code != 0 || !strings.HasPrefix(r.stdout, "Usage: scripts/"+name) {
				t.Errorf("--help: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
			}
			for _, flag := range []string{"--profile", "--region", "--endpoint-url", "--stack-name"} {
				if !strings.Contains(r.stdout, flag) {
					t.Errorf("--help does not mention %s", flag)
				}
			}
		})
	}
}

// TestShellcheck runs shellcheck on the scripts and the lib.sh they source,
// when it is installed (Debian's shellcheck package).
func TestShellcheck(t *testing.T) {
	bin, err := exec.LookPath("shellcheck")
	if err != nil {
		t.Skip("shellcheck not installed")
	}
	args := []string{"--severity=style"}
	for _, name := range append(shellScripts, "lib.sh") {
		args = append(args, filepath.Join(repoRoot(t), "scripts", name))
	}
	if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		t.Errorf("shellcheck: %v\n%s", err, out)
	}
}
