package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/trulience-token/trulience-token/dev/bench"
	"github.com/trulience-token/trulience-token/dev/cpushare"
)

// On-demand prices, us-east-1, as reviewed in late 2026 (docs/performance.md).
const (
	lambdaGBSecond  = 0.0000133334 // arm64, per GB-second
	lambdaRequest   = 0.20 / 1e6
	httpAPIRequest  = 1.00 / 1e6 // first 300 million a month
	secretsReadCall = 0.05 / 10000
)

// Targets at the chosen memory size's CPU share, under latency (printed,
// never failing on timing).
const (
	shareLimitTarget = 1.15                 // cold path ≤ 1.15× the physical limit
	shareWarmTarget  = 3 * time.Millisecond // warm p50 ≤ the bare client's + 3 ms
	// choiceMargin is the rule for the default MemorySize: the cheapest
	// size whose cold path is within this of the best size's. The medians
	// of 7 cold starts move by 5-10 % between runs on a shared machine; a
	// narrower margin lets that noise pick the size.
	choiceMargin = 0.15
)

// sized is what one memory size measured.
type sized struct {
	mb   int
	res  []bench.Profile
	cost cost
}

// cost is the function's cost per million tokens at one memory size.
type cost struct {
	billed                      time.Duration // mean billed duration of a warm token
	lambda, api, secrets, total float64
}

func parseMemory(v string) ([]int, error) {
	var sizes []int
	for _, f := range strings.Split(v, ",") {
		mb, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || mb < 128 || mb > 10240 {
			return nil, fmt.Errorf("-memory: %q is not a Lambda memory size in MB (128 to 10240)", f)
		}
		sizes = append(sizes, mb)
	}
	return sizes, nil
}

// costOf prices a million tokens at mb from the warm durations: Lambda's
// requests and GB-seconds at the billed duration (rounded up to 1 ms), the
// HTTP API's requests, and Secrets Manager's reads: one per container per
// SECRET_TTL, with each container serving tokensPerRefresh tokens in that
// time. Cold starts are left out (their share depends on the traffic).
func costOf(mb int, warm []time.Duration, tokensPerRefresh float64) cost {
	var sum time.Duration
	for _, d := range warm {
		sum += time.Duration(math.Ceil(float64(d)/float64(time.Millisecond))) * time.Millisecond
	}
	c := cost{billed: sum / time.Duration(max(len(warm), 1))}
	c.lambda = 1e6 * (c.billed.Seconds()*float64(mb)/1024*lambdaGBSecond + lambdaRequest)
	c.api = 1e6 * httpAPIRequest
	c.secrets = 1e6 / tokensPerRefresh * secretsReadCall
	c.total = c.lambda + c.api + c.secrets
	return c
}

// choose applies the rule: among the sizes whose function's cold path is
// within choiceMargin of the best measured, the cheapest.
func choose(runs []sized) int {
	best := time.Duration(math.MaxInt64)
	for _, r := range runs {
		best = min(best, bench.Median(r.res[0].Cold))
	}
	pick := -1
	for i, r := range runs {
		if ratio(bench.Median(r.res[0].Cold), best) <= 1+choiceMargin && (pick < 0 || r.cost.total < runs[pick].cost.total) {
			pick = i
		}
	}
	return pick
}

// memorySection measures the function and its peers under latency with
// the CPU share of each memory size, prints one table, and returns the rows
// with targets at the size the rule picks.
func memorySection(ctx context.Context, o options, root, dir, fn string, peers *bench.Peers) []bench.Row {
	impls, err := implementations(ctx, root, dir, fn)
	if err != nil {
		return []bench.Row{{Figure: "memory sizes", Err: err}}
	}
	nw, err := peers.Delayed(o.rtt)
	if err != nil {
		return []bench.Row{{Figure: "memory sizes: latency proxies", Err: err}}
	}
	bare, err := bench.EmulationWarm(ctx, peers, nw, o.latencyN)
	if err != nil {
		return []bench.Row{{Figure: "memory sizes: bare client", Err: err}}
	}
	var runs []sized
	for _, mb := range o.memory {
		share := cpushare.Share(mb)
		step(fmt.Sprintf("%d MB: %s; %d cold starts and 1 cold + %d warm invocations of each of %d implementations",
			mb, cpushare.Describe(share), o.compareCold, o.latencyN, len(impls)))
		res, err := measureAtShare(ctx, impls, peers, nw, mb, share, o)
		if err != nil {
			return []bench.Row{{Figure: fmt.Sprintf("memory %d MB", mb), Err: err}}
		}
		runs = append(runs, sized{mb: mb, res: res, cost: costOf(mb, res[0].Warm, o.tokensPerRefresh)})
	}
	pick := choose(runs)
	printMemory(nw, impls, runs, bare, pick, o)
	return memoryRows(nw, impls, runs, bare, pick)
}

// implementations are the function and its peers (Node.js when installed).
func implementations(ctx context.Context, root, dir, fn string) ([]bench.Impl, error) {
	impls := []bench.Impl{bench.GoImpl("function", fn)}
	straight, err := buildStraightforward(ctx, dir)
	if err != nil {
		return nil, err
	}
	impls = append(impls, bench.GoImpl("Go, straightforward", straight))
	if node, err := bench.NodeImpl(ctx, root, dir); err != nil {
		fmt.Printf("  Node.js peer skipped: %v\n", err)
	} else {
		impls = append(impls, node)
	}
	return impls, nil
}

// measureAtShare runs each implementation in a CPU group of its own.
func measureAtShare(ctx context.Context, impls []bench.Impl, peers *bench.Peers, nw bench.Network, mb int, share float64, o options) ([]bench.Profile, error) {
	sized := slices.Clone(impls)
	for i := range sized {
		g, err := cpushare.New(fmt.Sprintf("%dmb-%d", mb, i), share)
		if err != nil {
			return nil, err
		}
		defer g.Close()
		sized[i].Group = g
		sized[i].Env = map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(mb)}
	}
	return bench.Compare(ctx, sized, peers, nw, o.compareCold, o.latencyN)
}

func printMemory(nw bench.Network, impls []bench.Impl, runs []sized, bare []time.Duration, pick int, o options) {
	fmt.Println()
	fmt.Printf("== Lambda's CPU share (memory / 1,769 MB of one CPU, for the RIE and the function), under latency: Secrets Manager %s, Trulience %s\n",
		ms(nw.RTT.SecretsManager), ms(nw.RTT.Trulience))
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "memory\tCPU share\timplementation\tcold path\t÷ limit\twarm p50\twarm p99\tbilled (mean)\t$/M tokens\t")
	for i, r := range runs {
		for j, p := range r.res {
			size, share, billed, price := "", "", "", ""
			if j == 0 {
				size, share = fmt.Sprintf("%d MB", r.mb), fmt.Sprintf("%.1f %%", 100*cpushare.Share(r.mb))
				billed, price = fmt.Sprintf("%d ms", r.cost.billed.Milliseconds()), fmt.Sprintf("$%.3f", r.cost.total)
				if i == pick {
					price += " (default)"
				}
			}
			cold := bench.Median(p.Cold)
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.2f×\t%s\t%s\t%s\t%s\t\n", size, share, impls[j].Name, ms(cold), ratio(cold, nw.RTT.Limit()),
				ms(bench.Median(p.Warm)), ms(bench.Percentile(p.Warm, 99)), billed, price)
		}
	}
	_ = tw.Flush()
	fmt.Printf("(medians of %d cold starts and %d warm invocations per implementation and size; physical limit %s cold, %s warm;\n"+
		"  the bare client in the bench process, at a whole CPU: warm p50 %s, p99 %s)\n",
		o.compareCold, o.latencyN, ms(nw.RTT.Limit()), ms(nw.RTT.Trulience), ms(bench.Median(bare)), ms(bench.Percentile(bare, 99)))
	fmt.Printf("$/M tokens: the function's warm tokens: Lambda arm64 $%.10f/GB-s at the mean billed duration (rounded up to 1 ms) + $%.2f/M requests,\n"+
		"  HTTP API $%.2f/M, Secrets Manager $%.2f/10k reads at one read per %.0f tokens (-tokens-per-refresh); cold starts not included\n",
		lambdaGBSecond, lambdaRequest*1e6, httpAPIRequest*1e6, secretsReadCall*1e4, o.tokensPerRefresh)
	for _, r := range runs {
		fmt.Printf("  %d MB: Lambda $%.3f + HTTP API $%.3f + Secrets Manager $%.3f = $%.3f\n", r.mb, r.cost.lambda, r.cost.api, r.cost.secrets, r.cost.total)
	}
	if pick >= 0 {
		fmt.Printf("default MemorySize by the rule (the cheapest size whose cold path is within %.0f %% of the best measured): %d MB\n",
			100*choiceMargin, runs[pick].mb)
	}
}

func memoryRows(nw bench.Network, impls []bench.Impl, runs []sized, bare []time.Duration, pick int) []bench.Row {
	if pick < 0 {
		return nil
	}
	r := runs[pick]
	f, l := r.res[0], nw.RTT
	cold, limit := bench.Median(f.Cold), l.Limit()
	rows := []bench.Row{{
		Figure: fmt.Sprintf("%d MB share, latency: function's cold path, median of %d", r.mb, len(f.Cold)),
		Value:  fmt.Sprintf("%s, %.3f× the physical limit %s", ms(cold), ratio(cold, limit), ms(limit)),
		Budget: fmt.Sprintf("≤ %.2f× limit", shareLimitTarget),
		OK:     ratio(cold, limit) <= shareLimitTarget,
	}}
	for i := 1; i < len(r.res); i++ {
		c := bench.Median(r.res[i].Cold)
		rows = append(rows, bench.Row{
			Figure: "  against " + impls[i].Name + " at the same share",
			Value:  fmt.Sprintf("%s: the function takes %.2f× its time", ms(c), ratio(cold, c)),
			Budget: "< 1×",
			OK:     cold < c,
		})
	}
	p50, b50 := bench.Median(f.Warm), bench.Median(bare)
	return append(rows, bench.Row{
		Figure: fmt.Sprintf("%d MB share, latency: function's warm p50 − the bare client's", r.mb),
		Value:  fmt.Sprintf("%s (p50 %s, bare client %s)", ms(p50-b50), ms(p50), ms(b50)),
		Budget: "≤ " + ms(shareWarmTarget),
		OK:     p50-b50 <= shareWarmTarget,
	})
}
