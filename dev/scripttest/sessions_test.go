package scripttest

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trulience-token/trulience-token/dev/moto"
)

// createSessionsTable creates the session ledger's table as template.yaml
// does (pk and sk, both strings), with the AWS CLI.
func createSessionsTable(t *testing.T, endpoint, name string) {
	t.Helper()
	awsCLI(t, endpoint, "dynamodb", "create-table", "--table-name", name,
		"--attribute-definitions", "AttributeName=pk,AttributeType=S", "AttributeName=sk,AttributeType=S",
		"--key-schema", "AttributeName=pk,KeyType=HASH", "AttributeName=sk,KeyType=RANGE",
		"--billing-mode", "PAY_PER_REQUEST")
}

// putItem writes one item (DynamoDB JSON) with the AWS CLI.
func putItem(t *testing.T, endpoint, table, item string) {
	t.Helper()
	awsCLI(t, endpoint, "dynamodb", "put-item", "--table-name", table, "--item", item)
}

// liveMarker is the ledger's item for a live session: pk "live", sk the
// session ID, kept as long as its session item.
func liveMarker(session, avatar string, start, maxEnd int64) string {
	return fmt.Sprintf(`{"pk":{"S":"live"},"sk":{"S":%q},"avatar_id":{"S":%q},"start":{"N":"%d"},"max_end":{"N":"%d"},"expires_at":{"N":"%d"}}`,
		session, avatar, start, maxEnd, maxEnd+35*86400)
}

// dayItem is a day total (sk "total") or a day's total for one avatar (sk "avatar#<id>").
func dayItem(day, sk string, seconds, sessions int64) string {
	return fmt.Sprintf(`{"pk":{"S":"day#%s"},"sk":{"S":%q},"seconds":{"N":"%d"},"sessions":{"N":"%d"}}`, day, sk, seconds, sessions)
}

// sessionRow is one line of sessions.sh's table.
type sessionRow struct {
	live    int
	minutes float64
}

// parseSessions reads the date and the rows (by avatar, and "total") that
// sessions.sh printed.
func parseSessions(t *testing.T, out string) (string, map[string]sessionRow) {
	t.Helper()
	var day string
	rows := map[string]sessionRow{}
	for _, line := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(line, "Sessions of stack "); ok {
			if f := strings.Fields(rest); len(f) >= 3 {
				day = f[2]
			}
			continue
		}
		f := strings.Fields(line)
		if len(f) != 3 || f[0] == "avatar" || strings.HasPrefix(f[0], "(") {
			continue
		}
		live, err1 := strconv.Atoi(f[1])
		minutes, err2 := strconv.ParseFloat(f[2], 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("unreadable line %q in:\n%s", line, out)
		}
		rows[f[0]] = sessionRow{live, minutes}
	}
	return day, rows
}

// TestSessions: sessions.sh reads live markers and today's totals from the
// ledger's table (created and filled per the ledger's schema) and prints
// live sessions and today's minutes per avatar, as the caps count them.
func TestSessions(t *testing.T) {
	t.Parallel()
	requireAWSCLI(t)
	mt := moto.ForTest(t)
	env := scriptEnv()

	createStack(t, mt.URL, "trulience-token", map[string]string{"SessionLedger": "on"})
	createSessionsTable(t, mt.URL, "trulience-token-sessions")

	t.Run("empty ledger", func(t *testing.T) {
		r := runScript(t, "sessions.sh", "", env, "--endpoint-url", mt.URL)
		if r.code != 0 || !strings.Contains(r.stdout, "(no sessions today)") {
			t.Fatalf("exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
		}
		if _, rows := parseSessions(t, r.stdout); rows["total"] != (sessionRow{0, 0}) {
			t.Errorf("total %+v, want none", rows["total"])
		}
	})

	t.Run("live and ended sessions", func(t *testing.T) {
		const table = "trulience-token-sessions"
		t0 := time.Now().Unix()
		midnight := t0 - t0%86400
		today := time.Unix(t0, 0).UTC().Format("2006-01-02")
		yesterday := time.Unix(t0-86400, 0).UTC().Format("2006-01-02")
		type marker struct {
			avatar        string
			start, maxEnd int64
		}
		markers := map[string]marker{
			"s1": {"111", t0 - 600, t0 + 3000},       // live for 10 minutes
			"s2": {"111", midnight - 1200, t0 + 600}, // live since before midnight: only today's part counts
			"s3": {"333", t0 - 3600, t0 - 60},        // past its max_end, not yet swept: not live, its time counts
		}
		for id, m := range markers {
			putItem(t, mt.URL, table, liveMarker(id, m.avatar, m.start, m.maxEnd))
		}
		putItem(t, mt.URL, table, dayItem(today, "total", 1800, 2))
		putItem(t, mt.URL, table, dayItem(today, "avatar#111", 900, 1))
		putItem(t, mt.URL, table, dayItem(today, "avatar#222", 900, 1))
		// Other days and the session items themselves are not today's minutes.
		putItem(t, mt.URL, table, dayItem(yesterday, "total", 99999, 50))
		putItem(t, mt.URL, table, dayItem(yesterday, "avatar#444", 99999, 50))
		putItem(t, mt.URL, table, `{"pk":{"S":"session#s1"},"sk":{"S":"session"},"avatar_id":{"S":"111"},"state":{"S":"live"},"start":{"N":"1"}}`)

		r := runScript(t, "sessions.sh", "", env, "--endpoint-url", mt.URL, "--stack-name", "trulience-token", "--region", "us-east-1")
		t1 := time.Now().Unix()
		if r.code != 0 {
			t.Fatalf("exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
		}
		day, rows := parseSessions(t, r.stdout)
		if day != today {
			t.Skipf("the run crossed UTC midnight (%s, then %s)", today, day)
		}

		// Today's seconds of a marker at time now: from its start (or
		// midnight) to now (or its max_end).
		elapsed := func(m marker, now int64) int64 {
			from, to := max(m.start, midnight), min(now, m.maxEnd)
			return max(0, to-from)
		}
		want := func(name string, live int, ended int64, avatars ...string) {
			t.Helper()
			got, ok := rows[name]
			if !ok {
				t.Errorf("no row for %s in:\n%s", name, r.stdout)
				return
			}
			if got.live != live {
				t.Errorf("%s: %d live, want %d", name, got.live, live)
			}
			// The script read the clock between t0 and t1; it prints one decimal.
			var lo, hi float64
			for _, m := range markers {
				if len(avatars) == 0 || m.avatar == avatars[0] {
					lo += float64(elapsed(m, t0))
					hi += float64(elapsed(m, t1))
				}
			}
			lo, hi = (float64(ended)+lo)/60-0.05, (float64(ended)+hi)/60+0.05
			if got.minutes < lo || got.minutes > hi || math.IsNaN(got.minutes) {
				t.Errorf("%s: %.1f minutes today, want %.2f to %.2f", name, got.minutes, lo, hi)
			}
		}
		want("111", 2, 900, "111")
		want("222", 0, 900, "222")
		want("333", 0, 0, "333")
		want("total", 2, 1800)
		if _, ok := rows["444"]; ok {
			t.Errorf("yesterday's avatar is listed:\n%s", r.stdout)
		}
		if len(rows) != 4 {
			t.Errorf("rows %v, want 111, 222, 333 and total", rows)
		}
	})

	t.Run("stack without the ledger", func(t *testing.T) {
		createStack(t, mt.URL, "no-ledger", nil)
		r := runScript(t, "sessions.sh", "", env, "--endpoint-url", mt.URL, "--stack-name", "no-ledger")
		if r.code == 0 || !strings.Contains(r.stderr, "SessionLedger=on") {
			t.Errorf("exit %d, stderr %q: want a refusal naming SessionLedger=on", r.code, r.stderr)
		}
	})

	t.Run("no such stack", func(t *testing.T) {
		r := runScript(t, "sessions.sh", "", env, "--endpoint-url", mt.URL, "--stack-name", "missing")
		if r.code == 0 || !strings.Contains(r.stderr, "cannot read stack missing") {
			t.Errorf("exit %d, stderr %q", r.code, r.stderr)
		}
	})
}

// TestWebhookHeader: webhook-header.sh prints the webhook URL, the header's
// name (the stack's WebhookHeaderName) and the generated secret's value, to
// standard output only: the value is never an argument of any process and
// never on standard error.
func TestWebhookHeader(t *testing.T) {
	t.Parallel()
	requireAWSCLI(t)
	mt := moto.ForTest(t)
	const (
		value = "Zq8RkT2mVb7NcY4xLp0WsHd3JfGa6UeKo1Qi9Bnm" // 40 letters and digits, as the stack generates
		url   = "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/webhook"
	)

	createStack(t, mt.URL, "ledger", map[string]string{"SessionLedger": "on", "WebhookHeaderName": "X-Trulience-Auth", "WebhookUrl": url})
	if _, err := moto.PutSecret(context.Background(), mt.URL, "ledger-webhook-key", value); err != nil {
		t.Fatal(err)
	}

	t.Run("prints the url, name and value", func(t *testing.T) {
		w := watchArgv(t)
		r := runScript(t, "webhook-header.sh", "", w.env, "--endpoint-url", mt.URL, "--stack-name=ledger")
		w.check(t, value)
		if r.code != 0 {
			t.Fatalf("exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
		}
		for _, want := range []string{
			"Webhook URL:    " + url + "\n",
			"Custom header:  X-Trulience-Auth\n",
			"Header value:   " + value + "\n",
		} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
			}
		}
		if strings.Contains(r.stderr, value) {
			t.Errorf("the value is on standard error: %s", r.stderr)
		}
	})

	t.Run("stack without the ledger", func(t *testing.T) {
		createStack(t, mt.URL, "no-ledger", nil)
		r := runScript(t, "webhook-header.sh", "", scriptEnv(), "--endpoint-url", mt.URL, "--stack-name", "no-ledger")
		if r.code == 0 || !strings.Contains(r.stderr, "SessionLedger=on") || r.stdout != "" {
			t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
	})

	t.Run("secret missing", func(t *testing.T) {
		createStack(t, mt.URL, "no-secret", map[string]string{"SessionLedger": "on", "WebhookUrl": url})
		r := runScript(t, "webhook-header.sh", "", scriptEnv(), "--endpoint-url", mt.URL, "--stack-name", "no-secret")
		if r.code == 0 || !strings.Contains(r.stderr, "no-secret-webhook-key") || r.stdout != "" {
			t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
	})
}
