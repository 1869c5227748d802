// Command bench prints the token function's performance table (make bench):
// deployment size, init duration, warm latency, Secrets Manager calls, TCP
// connections to Trulience and peak memory, each with its budget (see
// docs/performance.md). It exits 1 when a figure cannot be measured or a count (Secrets
// Manager calls, connections) breaks its budget; sizes and timings over
// budget only print FAIL, unless -strict is given.
//
//	go run ./cmd/bench            # full run (under a minute once built)
//	go run ./cmd/bench -short     # CI smoke run (seconds once built)
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/trulience-token/trulience-token/dev/bench"
	"github.com/trulience-token/trulience-token/dev/rie"
)

func main() {
	var o options
	flag.BoolVar(&o.short, "short", false, "smoke run for CI: fewer cold starts and invocations, short Go benchmarks")
	flag.IntVar(&o.n, "n", 500, "warm invocations through the RIE")
	flag.IntVar(&o.cold, "cold", 7, "cold starts each of the function and the minimal reference")
	flag.StringVar(&o.benchtime, "benchtime", "", "go test -benchtime for the in-process benchmarks (default: go test's)")
	flag.StringVar(&o.function, "function", rie.FunctionPackage, "package of the function to measure (to compare a candidate change)")
	flag.BoolVar(&o.tls, "tls", true, "serve the Trulience stand-in over https, as Trulience is (false: plain http)")
	flag.BoolVar(&o.strict, "strict", false, "exit 1 also when a size or a timing is over budget")
	flag.Parse()
	if o.short {
		o.n, o.cold = min(o.n, 100), min(o.cold, 3)
		if o.benchtime == "" {
			o.benchtime = "2000x"
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rows, err := run(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	fmt.Println()
	bench.PrintTable(os.Stdout, rows)
	if bench.Failed(rows, o.strict) {
		os.Exit(1)
	}
}

type options struct {
	short     bool
	n, cold   int
	benchtime string
	function  string
	tls       bool
	strict    bool
}

func run(ctx context.Context, o options) ([]bench.Row, error) {
	root, err := rie.RepoRoot(ctx)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	printMachine(o)

	step("building the arm64 bootstraps (deployment flags)")
	rows := sizeRows(ctx, root, o.function, dir)

	step("building the host bootstraps for the RIE")
	fn, err := rie.BuildPackage(ctx, o.function, filepath.Join(dir, "function"))
	if err != nil {
		return nil, err
	}
	ref, err := rie.BuildPackage(ctx, bench.MinimalPackage, filepath.Join(dir, "minimal"))
	if err != nil {
		return nil, err
	}
	refSecret, err := rie.BuildPackage(ctx, bench.MinimalSecretPackage, filepath.Join(dir, "minimalsecret"))
	if err != nil {
		return nil, err
	}
	step("starting Secrets Manager and the Trulience stand-in")
	tlsDir := ""
	if o.tls {
		tlsDir = dir
	}
	peers, err := bench.StartPeers(ctx, tlsDir)
	if err != nil {
		return nil, err
	}
	defer peers.Close()
	fmt.Printf("  Secrets Manager: moto behind a counting proxy at %s; Trulience: stand-in at %s\n", peers.SMURL, peers.TrulienceURL)

	step(fmt.Sprintf("%d cold starts each of the function and the two references", o.cold))
	rows = append(rows, coldRows(ctx, fn, ref, refSecret, peers, o.cold)...)

	step(fmt.Sprintf("1 cold + %d warm invocations through the RIE", o.n))
	rows = append(rows, warmRows(ctx, fn, ref, peers, o.n)...)

	step("in-process Go benchmarks of the handler (go test -bench)")
	rows = append(rows, goBenchRows(ctx, root, o.benchtime)...)
	return rows, nil
}

func step(s string) { fmt.Printf("%s  %s\n", time.Now().Format("15:04:05"), s) }
