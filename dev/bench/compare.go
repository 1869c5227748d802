package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/trulience-token/trulience-token/dev/rie"
)

// StraightforwardPackage is the peer written the usual way in Go: secret
// read in init, one keep-alive http.Client, aws-lambda-go's event types.
const StraightforwardPackage = "./dev/bench/testdata/straightforward"

// NodeDir is the Node.js peer's folder (relative to the repository root):
// runtime.mjs (the Runtime API loop), handler.mjs, package.json and its lockfile.
const NodeDir = "dev/bench/node"

// Impl is one implementation of the job, run under the RIE.
type Impl struct {
	Name string
	// Bootstrap is the executable the RIE starts.
	Bootstrap string
	// Process is the path that names its running process, for peak RSS:
	// the executable, or an argument of it (node's script).
	Process string
	// Env is added to the network's environment (the memory size).
	Env map[string]string
	// Group, when set, holds the RIE and the function (a CPU share).
	Group interface{ Add(pid int) error }
}

// options are the RIE options of one run of impl with env.
func (impl Impl) options(env map[string]string) rie.Options {
	env = maps.Clone(env)
	maps.Copy(env, impl.Env)
	return rie.Options{Bootstrap: impl.Bootstrap, Env: env, Group: impl.Group}
}

// GoImpl is a Go bootstrap, which is its own process.
func GoImpl(name, bootstrap string) Impl {
	return Impl{Name: name, Bootstrap: bootstrap, Process: bootstrap}
}

// NodeImpl prepares the Node.js peer: npm ci into NodeDir when its
// node_modules is missing, and a bootstrap in dir that execs node on
// runtime.mjs. It fails when node or npm is not installed.
func NodeImpl(ctx context.Context, root, dir string) (Impl, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return Impl{}, errors.New("node not found: install Node.js 20 to measure the Node.js peer")
	}
	out, err := exec.CommandContext(ctx, node, "--version").Output()
	if err != nil {
		return Impl{}, fmt.Errorf("node --version: %w", err)
	}
	version := strings.TrimSpace(string(out))
	src := filepath.Join(root, filepath.FromSlash(NodeDir))
	if _, err := os.Stat(filepath.Join(src, "node_modules", ".package-lock.json")); err != nil {
		cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
		cmd.Dir = src
		if out, err := cmd.CombinedOutput(); err != nil {
			return Impl{}, fmt.Errorf("npm ci in %s: %w\n%s", NodeDir, err, out)
		}
	}
	script := filepath.Join(src, "runtime.mjs")
	bootstrap := filepath.Join(dir, "node-bootstrap", "bootstrap")
	if err := os.MkdirAll(filepath.Dir(bootstrap), 0o755); err != nil {
		return Impl{}, err
	}
	sh := "#!/bin/sh\nexec " + strconv.Quote(node) + " " + strconv.Quote(script) + "\n"
	if err := os.WriteFile(bootstrap, []byte(sh), 0o755); err != nil {
		return Impl{}, err
	}
	return Impl{Name: "Node.js " + version + " (AWS SDK v3)", Bootstrap: bootstrap, Process: script}, nil
}

// Profile is what one implementation measured on one network.
type Profile struct {
	// Init, First and Cold (their sum: what the first visitor waits) per
	// cold start.
	Init, First, Cold []time.Duration
	// Warm are the REPORT Durations of the warm invocations.
	Warm []time.Duration
	// PeakRSS is the process's VmHWM after the warm run, in bytes.
	PeakRSS int64
	// SecretCalls and Connections count GetSecretValue calls and TCP
	// connections to Trulience over the warm run (1 cold + n warm).
	SecretCalls, Connections int
}

// MeasureColdOK is MeasureColdStart that also requires the answer to be 200.
func MeasureColdOK(ctx context.Context, impl Impl, env map[string]string, payload []byte) (ColdStart, error) {
	e, err := rie.Start(ctx, impl.options(env))
	if err != nil {
		return ColdStart{}, err
	}
	defer e.Close()
	if err := invokeOK(ctx, e, payload); err != nil {
		return ColdStart{}, fmt.Errorf("%s, cold invocation: %w", impl.Name, err)
	}
	inits, reps := e.InitDurations(), e.Reports()
	if len(inits) != 1 || len(reps) != 1 {
		return ColdStart{}, fmt.Errorf("%s: the RIE printed %d INIT REPORT and %d REPORT lines, want 1 and 1:\n%s", impl.Name, len(inits), len(reps), e.Logs())
	}
	return ColdStart{Init: inits[0], First: reps[0].Duration - inits[0]}, nil
}

// MeasureWarmOK runs impl under a fresh RIE: one cold invocation, then n
// warm ones, each of which must answer 200; it fills the warm part of a Profile.
func MeasureWarmOK(ctx context.Context, impl Impl, env map[string]string, payload []byte, peers *Peers, n int, p *Profile) error {
	e, err := rie.Start(ctx, impl.options(env))
	if err != nil {
		return err
	}
	defer e.Close()
	smBefore := peers.Counter.Calls("GetSecretValue")
	peers.Reset()
	for i := range n + 1 {
		if err := invokeOK(ctx, e, payload); err != nil {
			return fmt.Errorf("%s, invocation %d: %w", impl.Name, i, err)
		}
	}
	reps := e.Reports()
	if len(reps) != n+1 {
		return fmt.Errorf("%s: %d REPORT lines for %d invocations", impl.Name, len(reps), n+1)
	}
	for _, r := range reps[1:] {
		p.Warm = append(p.Warm, r.Duration)
	}
	p.SecretCalls = peers.Counter.Calls("GetSecretValue") - smBefore
	p.Connections = peers.Trulience.Connections()
	pid := FindProcessArg(impl.Process)
	if pid == 0 {
		return fmt.Errorf("no running process of %s under the RIE", impl.Process)
	}
	p.PeakRSS, err = PeakRSS(pid)
	return err
}

func invokeOK(ctx context.Context, e *rie.Emulator, payload []byte) error {
	out, err := e.Invoke(ctx, payload)
	if err != nil {
		return fmt.Errorf("%w\n%s", err, e.Logs())
	}
	var r struct {
		StatusCode int `json:"statusCode"`
	}
	if err := json.Unmarshal(out, &r); err != nil || r.StatusCode != 200 {
		return fmt.Errorf("answered %s, want status 200\n%s", out, e.Logs())
	}
	return nil
}

// FindProcessArg is FindProcess that also matches a process one of whose
// arguments is path (a script run by an interpreter).
func FindProcessArg(path string) int {
	if pid := FindProcess(path); pid != 0 {
		return pid
	}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err != nil {
			continue
		}
		for _, arg := range strings.Split(string(b), "\x00") {
			if arg == path {
				if pid, err := strconv.Atoi(filepath.Base(d)); err == nil {
					return pid
				}
			}
		}
	}
	return 0
}

// Compare measures every implementation on network: cold starts
// interleaved (so drift on the machine hits all alike), then a warm run of
// each. The results are in the order of impls.
func Compare(ctx context.Context, impls []Impl, peers *Peers, network Network, cold, n int) ([]Profile, error) {
	env, payload := peers.Env(network), peers.Event()
	res := make([]Profile, len(impls))
	for range cold {
		for i, impl := range impls {
			c, err := MeasureColdOK(ctx, impl, env, payload)
			if err != nil {
				return nil, err
			}
			p := &res[i]
			p.Init, p.First, p.Cold = append(p.Init, c.Init), append(p.First, c.First), append(p.Cold, c.Init+c.First)
		}
	}
	for i, impl := range impls {
		if err := MeasureWarmOK(ctx, impl, env, payload, peers, n, &res[i]); err != nil {
			return nil, err
		}
	}
	return res, nil
}
