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

// capsRTT is the round trip to DynamoDB under which the caps' cost is
// measured: long enough that one more would stand out of moto's noise.
const capsRTT = 20 * time.Millisecond

// sessionsSection measures the session ledger: the webhook function's
// warm latency, and what the session caps add to a mint when the limits
// (the other guard that reads DynamoDB) are on, on loopback and with
// capsRTT to DynamoDB. The caps read the ledger beside the
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
	n := o.sessionsN

	var rows []bench.Row
	w, err := bench.MeasureWebhook(ctx, hook, peers, peers.Loopback(), n)
	if err != nil {
		return append(rows, bench.Row{Figure: "webhook, warm events", Err: err})
	}
	for _, ev := range []struct {
		name     string
		all, own []time.Duration
	}{{"connect", w.Connect, w.ConnectOwn}, {"disconnect", w.Disconnect, w.DisconnectOwn}} {
		rows = append(rows,
			bench.Row{
				Figure: fmt.Sprintf("webhook, %d warm session.%s, loopback (REPORT Duration)", n, ev.name),
				Value:  fmt.Sprintf("median %s, p99 %s", ms(bench.Median(ev.all)), ms(bench.Percentile(ev.all, 99))),
			},
			bench.Row{
				Figure: "  less moto's time on its calls (moto copies the table per transaction item)",
				Value:  fmt.Sprintf("median %s, p99 %s", ms(bench.Median(ev.own)), ms(bench.Percentile(ev.own, 99))),
			})
	}
	rows = append(rows, bench.Row{Figure: "  DynamoDB calls per event (the sweep included)", Value: perCall(w.Calls)})

	// The caps' cost on a mint, on loopback and with a round trip to
	// DynamoDB long enough that one more would stand out of moto's noise.
	probe, err := peers.Delayed(bench.Latency{DynamoDB: capsRTT})
	if err != nil {
		return append(rows, bench.Row{Figure: "session caps on a mint", Err: err})
	}
	var cost [2]time.Duration
	for i, nw := range []bench.Network{peers.Loopback(), probe} {
		c, err := bench.MeasureCapsCost(ctx, fn, peers, nw, n)
		if err != nil {
			return append(rows, bench.Row{Figure: "session caps on a mint", Err: err})
		}
		without, with := bench.Median(c.Without), bench.Median(c.With)
		cost[i] = with - without
		where := "loopback"
		if i == 1 {
			where = "DynamoDB RTT " + ms(capsRTT)
		}
		rows = append(rows, bench.Row{
			Figure: fmt.Sprintf("mint with the limits, %d warm, %s: without the session caps / with them", n, where),
			Value:  fmt.Sprintf("median %s / %s: the caps add %s", ms(without), ms(with), ms(cost[i])),
		})
		if i == 0 {
			rows = append(rows, bench.Row{Figure: "  DynamoDB calls per mint with the caps", Value: perCall(c.Calls)})
		}
	}
	// On loopback the caps cost moto's time on their two reads. One more
	// round trip would add a whole RTT on top; the reads run beside the
	// limits' writes, so the RTT should add well under half of one.
	extra := cost[1] - cost[0]
	rows = append(rows, bench.Row{
		Figure: "  what the RTT adds to the caps' cost (the line above minus loopback's)",
		Value:  ms(extra),
		Budget: fmt.Sprintf("< ½ RTT (%s): no added round trip", ms(capsRTT/2)),
		OK:     extra < capsRTT/2,
	})
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
