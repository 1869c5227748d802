package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/trulience-token/trulience-token/dev/bench"
	"github.com/trulience-token/trulience-token/dev/rie"
)

// Targets of the latency scenario (printed, never failing on timing).
const (
	limitTarget     = 1.12                 // cold path ≤ 1.12× the physical limit
	warmSlackTarget = 2 * time.Millisecond // warm p99 ≤ RTT(Trulience) + 2 ms
	guardSlack      = time.Millisecond     // with guards: warm p50 ≤ their limit + 1 ms
)

// comparison builds the peers and measures the three implementations on
// loopback and under latency, printing one table per network; it returns
// the rows with targets for the main table.
func comparison(ctx context.Context, o options, root, dir, fn string, peers *bench.Peers) []bench.Row {
	impls, err := implementations(ctx, root, dir, fn)
	if err != nil {
		return []bench.Row{{Figure: "peers", Err: err}}
	}
	var rows []bench.Row
	networks := []bench.Network{peers.Loopback()}
	if o.latency {
		delayed, err := peers.Delayed(o.rtt)
		if err != nil {
			return append(rows, bench.Row{Figure: "latency proxies", Err: err})
		}
		networks = append(networks, delayed)
	}
	for _, nw := range networks {
		n := o.n
		if nw.RTT != (bench.Latency{}) {
			n = o.latencyN
		}
		step(fmt.Sprintf("%s: %d cold starts and 1 cold + %d warm invocations of each of %d implementations", nw.Name, o.compareCold, n, len(impls)))
		res, err := bench.Compare(ctx, impls, peers, nw, o.compareCold, n)
		if err != nil {
			rows = append(rows, bench.Row{Figure: nw.Name + " comparison", Err: err})
			continue
		}
		var floor emulation
		if nw.RTT != (bench.Latency{}) {
			if floor.cold, err = bench.EmulationFloor(ctx, peers, nw, max(o.compareCold, 5)); err != nil {
				rows = append(rows, bench.Row{Figure: "emulation floor", Err: err})
			}
			if floor.warm, err = bench.EmulationWarm(ctx, peers, nw, n); err != nil {
				rows = append(rows, bench.Row{Figure: "emulation floor, warm", Err: err})
			}
		}
		printComparison(nw, impls, res, peers.Guards, floor)
		if nw.RTT != (bench.Latency{}) {
			rows = append(rows, latencyRows(nw, impls, res, peers.Guards, floor)...)
		}
	}
	return rows
}

// emulation is what the bench's bare client measured on a network: the
// cold path of a new connection and one request, and warm requests.
type emulation struct {
	cold time.Duration
	warm []time.Duration
}

func printComparison(nw bench.Network, impls []bench.Impl, res []bench.Profile, g bench.Guards, floor emulation) {
	fmt.Println()
	if nw.RTT == (bench.Latency{}) {
		fmt.Println("== loopback: every peer over TLS on this machine, no added latency")
	} else {
		fmt.Printf("== latency: every peer over TLS behind a proxy adding round-trip time: Secrets Manager %s, Trulience %s",
			ms(nw.RTT.SecretsManager), ms(nw.RTT.Trulience))
		if g.BotCheck != "" {
			fmt.Printf(", Turnstile %s", ms(nw.RTT.Turnstile))
		}
		if g.Limits {
			fmt.Printf(", DynamoDB %s", ms(nw.RTT.DynamoDB))
		}
		fmt.Println()
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "implementation\tinit\tfirst request\tcold path\twarm p50\twarm p99\tpeak RSS\t")
	for i, p := range res {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", impls[i].Name, ms(bench.Median(p.Init)), ms(bench.Median(p.First)),
			ms(bench.Median(p.Cold)), ms(bench.Median(p.Warm)), ms(bench.Percentile(p.Warm, 99)), bench.MiB(p.PeakRSS))
	}
	if nw.RTT != (bench.Latency{}) {
		warm := nw.RTT.GuardedWarmLimit(g)
		fmt.Fprintf(tw, "physical limit\t\t\t%s\t%s\t%s\t\t\n", ms(nw.RTT.GuardedColdLimit(g)), ms(warm), ms(warm))
		if floor.cold > 0 {
			warm50, warm99 := "", ""
			if len(floor.warm) > 0 {
				warm50, warm99 = ms(bench.Median(floor.warm)), ms(bench.Percentile(floor.warm, 99))
			}
			fmt.Fprintf(tw, "bare client in the bench process\t\t\t%s\t%s\t%s\t\t\n", ms(floor.cold), warm50, warm99)
		}
	}
	_ = tw.Flush()
	fmt.Printf("(medians of %d cold starts; cold path = init + first request, what the first visitor waits; %d warm invocations)\n",
		len(res[0].Cold), len(res[0].Warm))
	for i := 1; i < len(res); i++ {
		f, p := res[0], res[i]
		fmt.Printf("function ÷ %s: cold path %.2f×, warm p50 %.2f×, peak RSS %.2f×\n", impls[i].Name,
			ratio(bench.Median(f.Cold), bench.Median(p.Cold)), ratio(bench.Median(f.Warm), bench.Median(p.Warm)), float64(f.PeakRSS)/float64(p.PeakRSS))
	}
	if l := nw.RTT; l != (bench.Latency{}) {
		if g.BotCheck == "" && !g.Limits {
			fmt.Printf("physical limit = %s\n  = max(3 × %s, 2 × %s) + %s = %s\n", bench.LimitFormula,
				ms(l.SecretsManager), ms(l.Trulience), ms(l.Trulience), ms(l.Limit()))
		} else {
			fmt.Printf("physical limit with the checks on = %s = %s (the peers run no checks)\n", bench.GuardedColdFormula(g), ms(l.GuardedColdLimit(g)))
		}
		fmt.Printf("function's cold path ÷ limit: %.3f×\n", ratio(bench.Median(res[0].Cold), l.GuardedColdLimit(g)))
		if floor.cold > 0 {
			of, warm := "the limit", ""
			if g.BotCheck != "" || g.Limits {
				of = "the limit without the checks (" + ms(l.Limit()) + ")"
			}
			if g.BotCheck != "" {
				warm = ", each after a siteverify call"
			}
			fmt.Printf("bare client: one new TLS connection to Trulience and one token request, no process start, no runtime: %.3f× %s,\n"+
				"  what the proxies, TLS's CPU and this machine add by themselves; warm: token requests on that kept-alive connection%s\n",
				ratio(floor.cold, l.Limit()), of, warm)
		}
	}
}

func latencyRows(nw bench.Network, impls []bench.Impl, res []bench.Profile, g bench.Guards, floor emulation) []bench.Row {
	f, l := res[0], nw.RTT
	cold, limit := bench.Median(f.Cold), l.GuardedColdLimit(g)
	rows := []bench.Row{{
		Figure: fmt.Sprintf("latency: function's cold path, median of %d", len(f.Cold)),
		Value:  fmt.Sprintf("%s, %.3f× the physical limit %s", ms(cold), ratio(cold, limit), ms(limit)),
		Budget: fmt.Sprintf("≤ %.2f× limit", limitTarget),
		OK:     ratio(cold, limit) <= limitTarget,
	}}
	for i := 1; i < len(res); i++ {
		c := bench.Median(res[i].Cold)
		rows = append(rows, bench.Row{
			Figure: "  against " + impls[i].Name,
			Value:  fmt.Sprintf("%s: the function takes %.2f× its time", ms(c), ratio(cold, c)),
			Budget: "< 1×",
			OK:     cold < c,
		})
	}
	if g.BotCheck == "" && !g.Limits {
		p99 := bench.Percentile(f.Warm, 99)
		rows = append(rows, bench.Row{
			Figure: fmt.Sprintf("latency: function's warm p99 of %d − RTT(Trulience)", len(f.Warm)),
			Value:  fmt.Sprintf("%s (p99 %s)", ms(p99-l.Trulience), ms(p99)),
			Budget: "≤ " + ms(warmSlackTarget),
			OK:     p99-l.Trulience <= warmSlackTarget,
		})
		if len(floor.warm) > 0 {
			b99 := bench.Percentile(floor.warm, 99)
			rows = append(rows, bench.Row{
				Figure: "  the bare client's warm p99 − RTT(Trulience): the proxy and stand-in alone",
				Value:  fmt.Sprintf("%s (p50 %s)", ms(b99-l.Trulience), ms(bench.Median(floor.warm)-l.Trulience)),
			})
		}
	} else {
		var on, rtts []string
		if g.BotCheck != "" {
			on, rtts = append(on, "bot check "+g.BotCheck), append(rtts, "RTT Turnstile")
		}
		if g.Limits {
			on, rtts = append(on, "limits"), append(rtts, "RTT DynamoDB")
		}
		p50, limit := bench.Median(f.Warm), l.GuardedWarmLimit(g)
		rows = append(rows, bench.Row{
			Figure: fmt.Sprintf("latency, %s: warm p50 − (max(%s) + RTT Trulience)", strings.Join(on, " and "), strings.Join(rtts, ", ")),
			Value:  fmt.Sprintf("%s (p50 %s, p99 %s, floor %s)", ms(p50-limit), ms(p50), ms(bench.Percentile(f.Warm, 99)), ms(limit)),
			Budget: "< " + ms(guardSlack),
			OK:     p50-limit < guardSlack,
		})
		if len(floor.warm) > 0 && g.BotCheck != "" {
			b50 := bench.Median(floor.warm)
			rows = append(rows, bench.Row{
				Figure: "  the bare client's warm p50 − (RTT Turnstile + RTT Trulience): the proxies and stand-ins alone",
				Value:  fmt.Sprintf("%s (p99 %s)", ms(b50-l.Turnstile-l.Trulience), ms(bench.Percentile(floor.warm, 99)-l.Turnstile-l.Trulience)),
			})
		}
	}
	return append(rows,
		bench.Row{
			Figure: "latency: function's GetSecretValue calls, 1 cold + warm",
			Value:  fmt.Sprint(f.SecretCalls),
			Budget: "1", OK: f.SecretCalls == 1, Hard: true,
		},
		bench.Row{
			Figure: "latency: function's TCP connections to Trulience, 1 cold + warm",
			Value:  fmt.Sprint(f.Connections),
			Budget: "1 (the one opened in init)", OK: f.Connections == 1, Hard: true,
		})
}

func ratio(a, b time.Duration) float64 { return float64(a) / float64(b) }

// buildStraightforward builds the straightforward Go peer into dir, once.
func buildStraightforward(ctx context.Context, dir string) (string, error) {
	out := filepath.Join(dir, "straightforward")
	if _, err := os.Stat(filepath.Join(out, "bootstrap")); err == nil {
		return filepath.Join(out, "bootstrap"), nil
	}
	return rie.BuildPackage(ctx, bench.StraightforwardPackage, out)
}
