// Package layout checks the repository's split: the root module is exactly
// what the Lambda links, and nothing of dev/ reaches it.
package layout

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/modfile"
)

const module = "github.com/trulience-token/trulience-token"

func root(t *testing.T) string {
	t.Helper()
	r, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestFunctionDeps: the function depends on its own shipped packages, the
// AWS SDK, aws-lambda-go and the standard library, nothing else.
func TestFunctionDeps(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "./functions/...")
	cmd.Dir = root(t)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		switch {
		case strings.HasPrefix(p, module+"/internal/"), strings.HasPrefix(p, module+"/functions/"):
		case strings.HasPrefix(p, "github.com/aws/"):
		default:
			t.Errorf("the function links %s, which is neither shipped code, the AWS SDK nor aws-lambda-go", p)
		}
	}
}

// TestRootModule: the root go.mod requires only the AWS modules.
func TestRootModule(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root(t), "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := modfile.Parse("go.mod", b, nil)
	if err != nil {
		t.Fatal(err)
	}
	if f.Module.Mod.Path != module {
		t.Errorf("module %s", f.Module.Mod.Path)
	}
	for _, r := range f.Require {
		if !strings.HasPrefix(r.Mod.Path, "github.com/aws/") {
			t.Errorf("the root module requires %s: development tools belong in dev/go.mod", r.Mod.Path)
		}
	}
}
