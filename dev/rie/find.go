package rie

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Module is the RIE version this project runs, installed with go install
// when aws-lambda-rie is not found.
const Module = "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d"

// Find returns the path of aws-lambda-rie: on PATH, else in $(go env
// GOPATH)/bin, else after `go install` of Module.
func Find(ctx context.Context) (string, error) {
	if p, err := exec.LookPath("aws-lambda-rie"); err == nil {
		return p, nil
	}
	gobin := func() string {
		out, _ := exec.CommandContext(ctx, "go", "env", "GOBIN", "GOPATH").Output()
		lines := strings.Split(string(out), "\n") // GOBIN is often an empty first line
		if len(lines) > 0 && strings.TrimSpace(lines[0]) != "" {
			return strings.TrimSpace(lines[0])
		}
		if len(lines) > 1 {
			return filepath.Join(filepath.SplitList(strings.TrimSpace(lines[1]))[0], "bin")
		}
		return ""
	}()
	p := filepath.Join(gobin, "aws-lambda-rie")
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	cmd := exec.CommandContext(ctx, "go", "install", Module)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("rie: aws-lambda-rie not found and go install failed: %w\n%s", err, out.String())
	}
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("rie: go install %s did not produce %s", Module, p)
	}
	return p, nil
}
