package rie

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
)

// FunctionPackage is the package of the function's bootstrap.
const FunctionPackage = "./functions/token"

// Build builds the function (FunctionPackage) for the host into outDir/bootstrap.
func Build(ctx context.Context, outDir string) (string, error) {
	return BuildPackage(ctx, FunctionPackage, outDir)
}

// BuildPackage builds pkg (a path relative to the repository root) for the host
// GOOS/GOARCH with the deployment's flags (CGO_ENABLED=0, -tags lambda.norpc,
// -trimpath, -ldflags="-s -w") into outDir/bootstrap.
func BuildPackage(ctx context.Context, pkg, outDir string) (string, error) {
	root, err := RepoRoot(ctx)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return "", err
	}
	out, err := filepath.Abs(filepath.Join(outDir, "bootstrap"))
	if err != nil {
		return "", err
	}
	// Build beside the target and rename, so a process running the old
	// binary (another test package) never sees a half-written file.
	tmp := out + ".tmp" + strconv.Itoa(os.Getpid())
	if err := GoBuild(ctx, root, pkg, runtime.GOOS, runtime.GOARCH, tmp); err != nil {
		_ = os.Remove(tmp)
		return "", fmt.Errorf("rie: %w", err)
	}
	return out, os.Rename(tmp, out)
}

// GoBuild compiles pkg (relative to the repository root dir) for goos/goarch
// into out with the deployment's flags, the same as the Makefile's
// build-TokenFunction: CGO_ENABLED=0, -tags lambda.norpc, -trimpath,
// -ldflags="-s -w". A package under dev/ is built in the development module.
func GoBuild(ctx context.Context, dir, pkg, goos, goarch, out string) error {
	if rest, ok := strings.CutPrefix(filepath.ToSlash(pkg), "./dev/"); ok {
		dir, pkg = filepath.Join(dir, "dev"), "./"+rest
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", out, pkg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goarch)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %s (%s/%s): %w\n%s", pkg, goos, goarch, err, stderr.String())
	}
	return nil
}

var cached struct {
	sync.Mutex
	paths map[string]string
}

// BuildCached builds pkg once per process into <repository root>/bin/rie/<name>
// (bin/ is git-ignored) and returns the same path on later calls.
func BuildCached(ctx context.Context, pkg string) (string, error) {
	cached.Lock()
	defer cached.Unlock()
	if p, ok := cached.paths[pkg]; ok {
		return p, nil
	}
	root, err := RepoRoot(ctx)
	if err != nil {
		return "", err
	}
	p, err := BuildPackage(ctx, pkg, filepath.Join(root, "bin", "rie", filepath.Base(pkg)))
	if err != nil {
		return "", err
	}
	if cached.paths == nil {
		cached.paths = map[string]string{}
	}
	cached.paths[pkg] = p
	return p, nil
}

// RepoRoot is the repository's root: the directory of the function's
// module, found from the current Go module (the root one or dev/).
func RepoRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("rie: go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("rie: not inside a Go module")
	}
	for dir := filepath.Dir(gomod); ; dir = filepath.Dir(dir) {
		if st, err := os.Stat(filepath.Join(dir, filepath.FromSlash(FunctionPackage))); err == nil && st.IsDir() {
			return dir, nil
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("rie: no %s above %s", FunctionPackage, gomod)
		}
	}
}
