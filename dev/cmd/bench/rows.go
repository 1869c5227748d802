package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/trulience-token/trulience-token/dev/bench"
)

// Budgets of the loopback table.
const (
	sizeBudget      = 0.15             // bootstrap and zip within 15 % of the minimal reference that reads a secret
	initBudget      = 1.5              // cold path at most 1.5× that reference's
	addedP99Budget  = time.Millisecond // "well under 1 ms at p99"
	inProcessBudget = 500 * time.Microsecond
	rssBudget       = 40 << 20
)

func sizeRows(ctx context.Context, root, function, dir string) []bench.Row {
	fn, err := bench.MeasureSizes(ctx, root, function, dir, "bootstrap-arm64")
	if err != nil {
		return []bench.Row{{Figure: "bootstrap size (arm64)", Err: err}}
	}
	ref, err := bench.MeasureSizes(ctx, root, bench.MinimalPackage, dir, "minimal-arm64")
	if err != nil {
		return []bench.Row{{Figure: "bootstrap size (arm64)", Err: err}}
	}
	// The budget compares with the reference that also calls GetSecretValue:
	// the first API call links the SDK's signing, retries and credential
	// chain, which any function that reads a secret carries. The reference
	// that only creates the client is shown beside it, without a budget.
	sec, err := bench.MeasureSizes(ctx, root, bench.MinimalSecretPackage, dir, "minimalsecret-arm64")
	if err != nil {
		return []bench.Row{{Figure: "bootstrap size (arm64)", Err: err}}
	}
	row := func(name string, f, r, literal int64) bench.Row {
		ratio := float64(f)/float64(r) - 1
		return bench.Row{
			Figure: name,
			Value: fmt.Sprintf("%s (reference %s, %+.1f %%; the client-only reference %s, %+.1f %%)",
				bench.MB(f), bench.MB(r), 100*ratio, bench.MB(literal), 100*(float64(f)/float64(literal)-1)),
			Budget: fmt.Sprintf("≤ +%.0f %% of reference", 100*sizeBudget),
			OK:     ratio <= sizeBudget,
		}
	}
	return []bench.Row{
		row("bootstrap size (arm64)", fn.Binary, sec.Binary, ref.Binary),
		row("bootstrap.zip size (deflate)", fn.Zip, sec.Zip, ref.Zip),
	}
}

func coldRows(ctx context.Context, fn, ref, refSecret string, peers *bench.Peers, n int) []bench.Row {
	var fnInit, fnCold, sm, refInit, secCold, first []time.Duration
	env := peers.FunctionEnv()
	payload := peers.Event()
	for range n { // interleaved, so drift on the machine hits both alike
		peers.ResetSecretsManagerSpan()
		c, err := bench.MeasureColdStart(ctx, fn, env, payload)
		if err != nil {
			return []bench.Row{{Figure: "cold path", Err: err}}
		}
		fnInit, first, fnCold = append(fnInit, c.Init), append(first, c.First), append(fnCold, c.Init+c.First)
		sm = append(sm, peers.SecretsManagerSpan())
		r, err := bench.MeasureColdStart(ctx, ref, env, payload)
		if err != nil {
			return []bench.Row{{Figure: "cold path", Err: fmt.Errorf("minimal reference: %w", err)}}
		}
		refInit = append(refInit, r.Init)
		r, err = bench.MeasureColdStart(ctx, refSecret, env, payload)
		if err != nil {
			return []bench.Row{{Figure: "cold path", Err: fmt.Errorf("minimal reference reading the secret: %w", err)}}
		}
		secCold = append(secCold, r.Init+r.First)
	}
	// Init returns before the key and the Trulience connection are there
	// (the first invocation waits for them), so the budget applies to init
	// and the first invocation together: what the first visitor waits.
	f, rs := bench.Median(fnCold), bench.Median(secCold)
	return []bench.Row{
		{
			Figure: fmt.Sprintf("cold path, median of %d (INIT REPORT + first REPORT Duration − init)", n),
			Value:  fmt.Sprintf("%s (reference reading its secret in init, then answering a constant: %s, %.2f×)", ms(f), ms(rs), float64(f)/float64(rs)),
			Budget: fmt.Sprintf("≤ %.1f× reference", initBudget),
			OK:     float64(f)/float64(rs) <= initBudget,
		},
		{
			Figure: "  of which init (INIT REPORT)",
			Value:  fmt.Sprintf("%s (client-only reference %s)", ms(bench.Median(fnInit)), ms(bench.Median(refInit))),
		},
		{Figure: "  of which the first invocation", Value: ms(bench.Median(first))},
		{
			// Context: the key is read while init ends and the first
			// invocation starts, beside the Trulience connection.
			Figure: "  Secrets Manager read (connect, TLS, GetSecretValue), overlapped",
			Value:  ms(bench.Median(sm)),
		},
	}
}

func warmRows(ctx context.Context, fn, ref string, peers *bench.Peers, n int) []bench.Row {
	w, err := bench.MeasureWarm(ctx, fn, peers, n)
	if err != nil {
		return []bench.Row{{Figure: "warm invocations", Err: err}}
	}
	floor, err := bench.MeasureDurations(ctx, ref, peers.FunctionEnv(), bench.TokenEvent(), n)
	if err != nil {
		return []bench.Row{{Figure: "warm invocations", Err: fmt.Errorf("minimal reference: %w", err)}}
	}
	// What the function adds to Trulience's latency, at each percentile:
	// REPORT Duration minus the stand-in's own time, against the same
	// percentile of the RIE's floor (a function that does nothing), so the
	// emulator's own jitter is not counted as the function's.
	floorMedian := bench.Median(floor)
	addedMedian := bench.Median(w.Added) - floorMedian
	p99 := bench.Percentile(w.Added, 99) - bench.Percentile(floor, 99)
	return []bench.Row{
		{
			Figure: fmt.Sprintf("warm invocation, %d (REPORT Duration)", n),
			Value:  fmt.Sprintf("median %s, p99 %s", ms(bench.Median(w.Durations)), ms(bench.Percentile(w.Durations, 99))),
		},
		{
			Figure: "  the RIE's floor (minimal reference, same RIE)",
			Value:  fmt.Sprintf("median %s, p99 %s", ms(floorMedian), ms(bench.Percentile(floor, 99))),
		},
		{
			Figure: "  the stand-in's own time (Trulience's part)",
			Value:  fmt.Sprintf("median %s, p99 %s", ms(bench.Median(w.Served)), ms(bench.Percentile(w.Served, 99))),
		},
		{
			Figure: "  what the function adds (Duration − stand-in, minus the floor, per percentile)",
			Value:  fmt.Sprintf("median %s, p99 %s", ms(addedMedian), ms(p99)),
			Budget: "p99 ≤ " + ms(addedP99Budget),
			OK:     p99 <= addedP99Budget,
		},
		{
			Figure: fmt.Sprintf("GetSecretValue calls, init + 1 cold + %d warm", n),
			Value:  fmt.Sprint(w.SecretCalls),
			Budget: "1 (the init prefetch)",
			OK:     w.SecretCalls == 1,
			Hard:   true,
		},
		{
			Figure: fmt.Sprintf("TCP connections to Trulience, 1 cold + %d warm", n),
			Value:  fmt.Sprint(w.Connections),
			Budget: "1 (kept alive)",
			OK:     w.Connections == 1,
			Hard:   true,
		},
		{
			Figure: "peak RSS of the bootstrap (VmHWM)",
			Value:  fmt.Sprintf("%s (the RIE's Max Memory Used says %d MB: not measured)", bench.MiB(w.PeakRSS), w.MaxMemoryUsed),
			Budget: "≤ " + bench.MiB(rssBudget) + " (function has 128 MB)",
			OK:     w.PeakRSS <= rssBudget,
		},
	}
}

func goBenchRows(ctx context.Context, root, benchtime string) []bench.Row {
	res, err := bench.RunGoBench(ctx, root, "./internal/httpapi", benchtime)
	if err != nil {
		return []bench.Row{{Figure: "in-process handler benchmarks", Err: err}}
	}
	var rows []bench.Row
	for _, b := range res {
		d := time.Duration(b.NsPerOp)
		rows = append(rows, bench.Row{
			Figure: "in process: " + b.Name,
			Value:  fmt.Sprintf("%s/op, %.0f B/op, %.0f allocs/op", us(d), b.BytesPerOp, b.AllocsPerOp),
			Budget: "≤ " + us(inProcessBudget) + "/op",
			OK:     d <= inProcessBudget,
		})
	}
	return rows
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

func us(d time.Duration) string { return fmt.Sprintf("%.1f µs", float64(d)/float64(time.Microsecond)) }

// codeRows are the targets on the shipped code itself.
func codeRows(root string) []bench.Row {
	c, err := bench.MeasureCode(root)
	if err != nil {
		return []bench.Row{{Figure: "shipped code", Err: err}}
	}
	list := func(s []string) string {
		if len(s) == 0 {
			return "none"
		}
		return strings.Join(s, ", ")
	}
	return []bench.Row{
		{Figure: "internal/trulience and below, non-test lines", Value: fmt.Sprint(c.TrulienceLines), Budget: "≤ 700", OK: c.TrulienceLines <= 700, Hard: true},
		{Figure: "shipped files importing syscall or golang.org/x/sys", Value: list(c.LowLevel), Budget: "none", OK: len(c.LowLevel) == 0, Hard: true},
		{Figure: "shipped packages with an init()", Value: list(c.Inits), Budget: "none (at most one, for an early dial that measurably pays)", OK: len(c.Inits) == 0, Hard: true},
	}
}
