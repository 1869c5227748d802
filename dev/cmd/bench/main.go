// Command bench prints the token function's performance tables (make bench):
// deployment size, init duration, warm latency, Secrets Manager calls, TCP
// connections to Trulience and peak memory, each with its budget; the
// webhook function's warm latency and what the session caps add to a mint;
// then the
// function beside the straightforward Go and the Node.js 20 implementations
// of the same job, on loopback and under production round-trip times, with
// the physical limit those set. It exits 1 when a figure cannot be measured
// or a count (Secrets Manager calls, connections) breaks its budget; sizes
// and timings over budget only print FAIL, unless -strict is given.
//
//	go run ./cmd/bench            # full run (a few minutes once built)
//	go run ./cmd/bench -short     # CI smoke run
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
	flag.BoolVar(&o.peers, "peers", true, "compare with the straightforward Go and the Node.js peers, on loopback and under latency")
	flag.BoolVar(&o.latency, "latency", true, "also measure with production round-trip times (-rtt-*) added by proxies")
	flag.IntVar(&o.compareCold, "compare-cold", 7, "cold starts of each implementation per network in the comparison")
	flag.IntVar(&o.latencyN, "latency-n", 200, "warm invocations of each implementation under latency")
	flag.DurationVar(&o.rtt.SecretsManager, "rtt-sm", 10*time.Millisecond, "round-trip time to Secrets Manager under latency")
	flag.DurationVar(&o.rtt.Trulience, "rtt-trulience", 40*time.Millisecond, "round-trip time to Trulience under latency")
	flag.DurationVar(&o.rtt.Turnstile, "rtt-turnstile", 30*time.Millisecond, "round-trip time to Turnstile's siteverify under latency (with -bot-check)")
	flag.DurationVar(&o.rtt.DynamoDB, "rtt-dynamodb", 5*time.Millisecond, "round-trip time to DynamoDB under latency (with -limits)")
	flag.StringVar(&o.guards.BotCheck, "bot-check", os.Getenv("BOT_CHECK"), "BOT_CHECK for the function (monitor or enforce; default $BOT_CHECK), against a siteverify stand-in with Cloudflare's test secret")
	flag.BoolVar(&o.guards.Limits, "limits", os.Getenv("CLIENT_TOKEN_LIMIT") != "", "switch the function's limits on (CLIENT_TOKEN_LIMIT, DAILY_TOKEN_LIMIT, LIMITS_TABLE in moto; default: on when $CLIENT_TOKEN_LIMIT is set)")
	flag.StringVar(&o.guards.LimitsKey, "limits-key", "pk", "partition key (a string attribute) of the limits table the bench creates in moto")
	flag.BoolVar(&o.sessions, "sessions", true, "measure the session ledger: the webhook function's warm latency, and what the session caps add to a mint")
	flag.IntVar(&o.sessionsN, "sessions-n", 200, "warm webhook sessions (connect and disconnect) and warm mints each way for the session rows")
	memory := flag.String("memory", "", "comma-separated Lambda memory sizes (MB), e.g. 128,256,512,1024: also run the comparison under latency with each size's CPU share (Linux cgroups, as root)")
	flag.Float64Var(&o.tokensPerRefresh, "tokens-per-refresh", 300, "tokens one container serves per SECRET_TTL, for the Secrets Manager reads in the cost per million tokens (300: one a second, 5 min)")
	flag.Parse()
	if *memory != "" {
		var err error
		if o.memory, err = parseMemory(*memory); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(2)
		}
	}
	if o.guards.BotCheck == "off" {
		o.guards.BotCheck = ""
	}
	if o.short {
		o.n, o.cold = min(o.n, 100), min(o.cold, 3)
		o.compareCold, o.latencyN = min(o.compareCold, 2), min(o.latencyN, 20)
		o.sessionsN = min(o.sessionsN, 20)
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

	peers, latency        bool
	compareCold, latencyN int
	rtt                   bench.Latency
	guards                bench.Guards

	memory           []int
	tokensPerRefresh float64

	sessions  bool
	sessionsN int
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
	rows := append(codeRows(root), sizeRows(ctx, root, o.function, dir)...)

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
	peers, err := bench.StartPeersWith(ctx, tlsDir, o.guards)
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

	if o.sessions {
		step("the session ledger: the webhook function, and the session caps on a mint")
		rows = append(rows, sessionsSection(ctx, o, dir, fn)...)
	}

	if o.peers {
		if !o.tls {
			return nil, fmt.Errorf("-peers needs -tls: the comparison runs over TLS")
		}
		step("the function against its peers, on loopback and under latency")
		rows = append(rows, comparison(ctx, o, root, dir, fn, peers)...)
	}
	if len(o.memory) > 0 {
		if !o.tls {
			return nil, fmt.Errorf("-memory needs -tls: the comparison runs over TLS")
		}
		step("the function against its peers under latency, at each memory size's CPU share")
		rows = append(rows, memorySection(ctx, o, root, dir, fn, peers)...)
	}
	return rows, nil
}

func step(s string) { fmt.Printf("%s  %s\n", time.Now().Format("15:04:05"), s) }
