package main

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/trulience-token/trulience-token/dev/bench"
	"github.com/trulience-token/trulience-token/dev/devstack"
	"github.com/trulience-token/trulience-token/dev/rie"
)

// sessionsSection measures the session ledger: the webhook function's
// warm latency, and what the session caps add to a mint when the limits
// (the other guard that reads DynamoDB) are on, on loopback and with
// DynamoDB's round-trip time added. The caps read the ledger beside the
// limits' write, so they should add no round trip.
func sessionsSection(ctx context.Context, o options, dir, fn string) []bench.Row {
	fail := func(err error) []bench.Row { return []bench.Row{{Figure: "session ledger", Err: err}} }
	hook, err := rie.BuildPackage(ctx, devstack.WebhookPackage, filepath.Join(dir, "webhook"))
	if err != nil {
		return fail(err)
	}
	tlsDir := ""
	if o.tls {
		tlsDir = filepath.Join(dir, "sessions-tls")
		if err := os.MkdirAll(tlsDir, 0o700); err != nil {
			return fail(err)
		}
	}
	peers, err := bench.StartPeersWith(ctx, tlsDir, bench.Guards{Limits: true, LimitsKey: "pk"})
	if err != nil {
		return fail(err)
	}
	defer peers.Close()
	if err := peers.StartSessions(ctx); err != nil {
		return fail(err)
	}
	delayed, err := peers.Delayed(bench.Latency{DynamoDB: o.rtt.DynamoDB})
	if err != nil {
		return fail(err)
	}
	n := o.sessionsN
	rtt := o.rtt.DynamoDB

	var rows []bench.Row
	var addedLoopback time.Duration
	for _, nw := range []bench.Network{peers.Loopback(), delayed} {
		where := "loopback"
		if nw.RTT.DynamoDB > 0 {
			where = "DynamoDB RTT " + ms(rtt)
		}
		w, err := bench.MeasureWebhook(ctx, hook, peers, nw, n)
		if err != nil {
			return append(rows, bench.Row{Figure: "webhook, warm events", Err: err})
		}
		rows = append(rows,
			bench.Row{
				Figure: fmt.Sprintf("webhook, %d warm session.connect, %s (REPORT Duration)", n, where),
				Value:  fmt.Sprintf("median %s, p99 %s", ms(bench.Median(w.Connect)), ms(bench.Percentile(w.Connect, 99))),
			},
			bench.Row{
				Figure: fmt.Sprintf("webhook, %d warm session.disconnect, %s", n, where),
				Value:  fmt.Sprintf("median %s, p99 %s", ms(bench.Median(w.Disconnect)), ms(bench.Percentile(w.Disconnect, 99))),
			},
		)
		if nw.RTT.DynamoDB == 0 {
			rows = append(rows, bench.Row{Figure: "  DynamoDB calls per event (the sweep included)", Value: perCall(w.Calls)})
		}

		c, err := bench.MeasureCapsCost(ctx, fn, peers, nw, n)
		if err != nil {
			return append(rows, bench.Row{Figure: "session caps on a mint", Err: err})
		}
		without, with := bench.Median(c.Without), bench.Median(c.With)
		added := with - without
		rows = append(rows, bench.Row{
			Figure: fmt.Sprintf("mint with the limits, %d warm, %s: without the session caps / with them", n, where),
			Value:  fmt.Sprintf("median %s / %s: the caps add %s", ms(without), ms(with), ms(added)),
		})
		if nw.RTT.DynamoDB == 0 {
			addedLoopback = added
		} else {
			// On loopback the caps add moto's time on their two reads.
			// One more round trip would add a whole RTT on top; the reads
			// run beside the limits' writes, so they should add well
			// under half of one.
			extra := added - addedLoopback
			rows = append(rows, bench.Row{
				Figure: "  what the RTT adds to the caps' cost (the line above minus loopback's: moto's own time on the reads)",
				Value:  ms(extra),
				Budget: fmt.Sprintf("< ½ RTT (%s): no added round trip", ms(rtt/2)),
				OK:     extra < rtt/2,
			})
		}
		if nw.RTT.DynamoDB == 0 {
			rows = append(rows, bench.Row{Figure: "  DynamoDB calls per mint with the caps", Value: perCall(c.Calls)})
		}
	}
	return rows
}

// perCall formats calls per event by operation.
func perCall(calls map[string]float64) string {
	var parts []string
	for _, op := range slices.Sorted(maps.Keys(calls)) {
		parts = append(parts, fmt.Sprintf("%s %.2f", op, calls[op]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
