package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/trulience-token/trulience-token/dev/devstack"
	"github.com/trulience-token/trulience-token/dev/emf"
	"github.com/trulience-token/trulience-token/dev/moto"
	"github.com/trulience-token/trulience-token/dev/rie"
)

// The session ledger end to end: the webhook function's bootstrap, built
// like the deployment, under the Lambda RIE (two processes, as two Lambda
// containers), writing to moto's DynamoDB and reading its secret from
// moto's Secrets Manager; the token function reading the caps from the
// same table.

const customerID = "1234"

// ledgerEnv is a session ledger table and webhook secret in one moto.
type ledgerEnv struct {
	moto   *moto.Moto
	table  string
	secret string // the webhook header's value (never logged)
	// dynamo is where the functions reach DynamoDB: moto behind a proxy
	// that passes one call at a time (see serialDynamo).
	dynamo string
	hooks  []*rie.Emulator
}

// serialDynamo passes calls to moto's DynamoDB one at a time. moto_server
// serves each call on its own thread and applies TransactWriteItems with
// no lock (moto/dynamodb/models/__init__.py, transact_write_items: it
// checks each item's condition, writes, and on failure restores a deep
// copy of the whole table taken at the start, undoing other calls' writes
// made meanwhile), where DynamoDB isolates transactions. One call at a
// time gives DynamoDB's isolation; the ledger's own races (a read, then
// a conditional write another container may have beaten) still happen
// between calls.
func serialDynamo(t *testing.T, target string) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// newLedgerEnv starts moto, creates the table (pk + sk, TTL on
// expires_at, as the template does) and the webhook secret, and starts
// hooks webhook functions; env overrides their environment.
func newLedgerEnv(t *testing.T, hooks int, env map[string]string) *ledgerEnv {
	t.Helper()
	devstack.NeedTools(t, true)
	ctx := context.Background()
	l := &ledgerEnv{moto: moto.ForTest(t), table: "e2e-" + randID() + "-sessions", secret: randID() + randID()}
	db := moto.DynamoDB(l.moto.URL)
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:   aws.String(l.table),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(l.table),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String("expires_at"), Enabled: aws.Bool(true)},
	}); err != nil {
		t.Fatal(err)
	}
	secretID := l.table + "-webhook-key"
	if _, err := moto.PutSecret(ctx, l.moto.URL, secretID, l.secret); err != nil {
		t.Fatal(err)
	}
	l.dynamo = serialDynamo(t, l.moto.URL)
	bootstrap, err := rie.BuildCached(ctx, "./functions/webhook")
	if err != nil {
		t.Fatal(err)
	}
	fnEnv := map[string]string{
		"AWS_LAMBDA_FUNCTION_NAME":         "WebhookFunction",
		"SESSIONS_TABLE":                   l.table,
		"WEBHOOK_SECRET_ID":                secretID,
		"TRULIENCE_CUSTOMER_ID":            customerID,
		"AWS_ENDPOINT_URL_DYNAMODB":        l.dynamo,
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": l.moto.URL,
	}
	for k, v := range env {
		fnEnv[k] = v
	}
	for range hooks {
		emu, err := rie.Start(ctx, rie.Options{Bootstrap: bootstrap, Env: fnEnv, Timeout: 10 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		l.hooks = append(l.hooks, emu)
		t.Cleanup(func() {
			emu.Close()
			if t.Failed() {
				t.Logf("webhook function log:\n%s", emu.Logs())
			}
		})
	}
	t.Cleanup(func() { l.checkLogs(t) })
	return l
}

func randID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// checkLogs: every metrics record is valid EMF, and the secret appears in
// no log line or record.
func (l *ledgerEnv) checkLogs(t *testing.T) {
	for _, h := range l.hooks {
		if _, err := emf.Records(h.Logs(), l.secret); err != nil {
			t.Errorf("metrics records: %v", err)
		}
		if strings.Contains(h.Logs(), l.secret) {
			t.Error("the webhook secret is in the function's log")
		}
	}
}

// hookEvent is one webhook body.
type hookEvent struct {
	Type     string `json:"event_type"`
	Customer int    `json:"customer_id"`
	Avatar   string `json:"avatar_id"`
	Session  string `json:"session_id"`
	At       string `json:"timestamp"`
	MaxDur   int    `json:"max_session_duration,omitempty"`
}

func connect(session string, at time.Time, maxDur int) hookEvent {
	return hookEvent{"session.connect", 1234, devstack.DemoAvatarID, session, at.UTC().Format(time.RFC3339), maxDur}
}

func disconnect(session string, at time.Time) hookEvent {
	return hookEvent{"session.disconnect", 1234, devstack.DemoAvatarID, session, at.UTC().Format(time.RFC3339), 0}
}

// hookAnswer is the webhook's answer.
type hookAnswer struct {
	Status int    `json:"statusCode"`
	Body   string `json:"body"`
}

func (a hookAnswer) recorded() bool { return a.Body == `{"recorded":true}` }

func (a hookAnswer) code() string {
	var e errorBody
	_ = json.Unmarshal([]byte(a.Body), &e)
	return e.Error.Code
}

// send posts body with the header value to webhook process i, as API
// Gateway's HTTP API (payload 2.0) hands it over.
func (l *ledgerEnv) send(t *testing.T, i int, header, body string) hookAnswer {
	t.Helper()
	headers := map[string]string{"content-type": "application/json", "user-agent": "Trulience"}
	if header != "" {
		headers["x-webhook-secret"] = header
	}
	ev := map[string]any{
		"version": "2.0", "routeKey": "POST /webhook", "rawPath": "/webhook", "rawQueryString": "",
		"headers": headers, "body": body, "isBase64Encoded": false,
		"requestContext": map[string]any{
			"requestId": randID(), "routeKey": "POST /webhook", "stage": "$default",
			"http": map[string]any{"method": "POST", "path": "/webhook", "protocol": "HTTP/1.1", "sourceIp": "198.51.100.7"},
		},
	}
	payload, _ := json.Marshal(ev)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := l.hooks[i%len(l.hooks)].Invoke(ctx, payload)
	if err != nil {
		t.Errorf("invoke: %v (%s)", err, out)
		return hookAnswer{}
	}
	var a hookAnswer
	if err := json.Unmarshal(out, &a); err != nil {
		t.Errorf("answer %s: %v", out, err)
	}
	return a
}

// post sends e with the right header to process i and expects a 200.
func (l *ledgerEnv) post(t *testing.T, i int, e hookEvent) hookAnswer {
	t.Helper()
	b, _ := json.Marshal(e)
	a := l.send(t, i, l.secret, string(b))
	if a.Status != http.StatusOK {
		t.Errorf("%s %s: %d %s", e.Type, e.Session, a.Status, a.Body)
	}
	return a
}

// items is the table, by pk and sk, every attribute as a string.
func (l *ledgerEnv) items(t *testing.T) map[string]map[string]string {
	t.Helper()
	raw, err := moto.Items(context.Background(), l.moto.URL, l.table)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]string{}
	for _, it := range raw {
		m := map[string]string{}
		for k, v := range it {
			switch v := v.(type) {
			case *types.AttributeValueMemberS:
				m[k] = v.Value
			case *types.AttributeValueMemberN:
				m[k] = v.Value
			}
		}
		out[m["pk"]+" "+m["sk"]] = m
	}
	return out
}

// totals sums the day totals over every day: seconds and sessions; and
// counts the live markers.
func totals(items map[string]map[string]string) (seconds, sessions int64, live int) {
	for _, it := range items {
		switch {
		case strings.HasPrefix(it["pk"], "day#") && it["sk"] == "total":
			s, _ := strconv.ParseInt(it["seconds"], 10, 64)
			n, _ := strconv.ParseInt(it["sessions"], 10, 64)
			seconds, sessions = seconds+s, sessions+n
		case it["pk"] == "live":
			live++
		}
	}
	return seconds, sessions, live
}

// TestSessionsLedgerExactCounts: duplicated, reordered and missing
// events, spread over two webhook processes, leave exact counts; a
// session without a disconnect ends after its max_session_duration, or
// SESSION_MAX_MINUTES without one, through the sweep.
func TestSessionsLedgerExactCounts(t *testing.T) {
	l := newLedgerEnv(t, 2, map[string]string{"SESSION_MAX_MINUTES": "1"})
	now := time.Now().UTC().Truncate(time.Second)

	// Duplicated: every event twice, to both processes.
	if a := l.post(t, 0, connect("dup", now.Add(-2*time.Minute), 600)); !a.recorded() {
		t.Errorf("first connect: %s", a.Body)
	}
	if a := l.post(t, 1, connect("dup", now.Add(-2*time.Minute), 600)); a.recorded() {
		t.Errorf("duplicate connect recorded: %s", a.Body)
	}
	l.post(t, 1, disconnect("dup", now.Add(-1*time.Minute)))
	if a := l.post(t, 0, disconnect("dup", now.Add(-1*time.Minute))); a.recorded() {
		t.Errorf("duplicate disconnect recorded: %s", a.Body)
	}
	// Reordered: the disconnect first.
	if a := l.post(t, 0, disconnect("reordered", now.Add(-30*time.Second))); !a.recorded() {
		t.Errorf("early disconnect: %s", a.Body)
	}
	l.post(t, 1, connect("reordered", now.Add(-60*time.Second), 0))
	// Missing disconnects: 5 s of max_session_duration, and
	// SESSION_MAX_MINUTES=1 without one; both are past their end, so the
	// next call's sweep ends them.
	l.post(t, 0, connect("lapsed", now.Add(-20*time.Second), 5))
	l.post(t, 1, connect("forgotten", now.Add(-3*time.Minute), 0))
	l.post(t, 0, connect("live", now, 0))
	l.post(t, 1, connect("live", now, 0))

	items := l.items(t)
	seconds, sessions, live := totals(items)
	if want := int64(60 + 30 + 5 + 60); seconds != want || sessions != 4 || live != 1 {
		t.Errorf("ledger: %d s, %d sessions, %d live; want %d s, 4 sessions, 1 live\n%v", seconds, sessions, live, want, items)
	}
	for id, want := range map[string]string{"dup": "60", "reordered": "30", "lapsed": "5", "forgotten": "60"} {
		if it := items["session#"+id+" session"]; it["state"] != "ended" || it["seconds"] != want {
			t.Errorf("session %s: %v, want ended after %s s", id, it, want)
		}
	}
	if it := items["session#live session"]; it["state"] != "live" || items["live live"] == nil {
		t.Errorf("session live: %v", it)
	}
	var recs []emf.Record
	for _, h := range l.hooks {
		r, _ := emf.Records(h.Logs())
		recs = append(recs, r...)
	}
	if started, ended := emf.Sum(recs, "SessionsStarted"), emf.Sum(recs, "SessionsEnded"); started != 4 || ended != 4 {
		t.Errorf("metrics: %v started, %v ended; want 4 and 4 (the reordered one never counted as live)", started, ended)
	}
}

// TestSessionsConcurrentConnects: 50 sessions' connects, each delivered
// twice, all at once across two webhook processes, give exactly 50 live
// sessions.
func TestSessionsConcurrentConnects(t *testing.T) {
	l := newLedgerEnv(t, 2, nil)
	now := time.Now().UTC()
	var wg sync.WaitGroup
	var mu sync.Mutex
	recorded := 0
	for i := range 50 {
		for copy := range 2 {
			wg.Go(func() {
				a := l.post(t, i+copy, connect(fmt.Sprintf("c%02d", i), now, 0))
				if a.recorded() {
					mu.Lock()
					recorded++
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	_, _, live := totals(l.items(t))
	if live != 50 || recorded != 50 {
		t.Errorf("%d live markers, %d calls recorded; want exactly 50 of each", live, recorded)
	}
	var recs []emf.Record
	for _, h := range l.hooks {
		r, _ := emf.Records(h.Logs())
		recs = append(recs, r...)
	}
	maxLive := 0.0
	for _, r := range recs {
		if v, ok := r.Number("LiveSessions"); ok && v > maxLive {
			maxLive = v
		}
	}
	if emf.Sum(recs, "SessionsStarted") != 50 || maxLive != 50 {
		t.Errorf("metrics: %v started, LiveSessions up to %v; want 50 and 50", emf.Sum(recs, "SessionsStarted"), maxLive)
	}
}

// TestSessionsWebhookRefusals: a missing or wrong header, a bad body and
// another customer are refused, and nothing is recorded.
func TestSessionsWebhookRefusals(t *testing.T) {
	l := newLedgerEnv(t, 1, nil)
	good, _ := json.Marshal(connect("refused", time.Now(), 0))
	other := strings.Replace(string(good), `"customer_id":1234`, `"customer_id":999`, 1)
	for _, tt := range []struct {
		name, header, body string
		status             int
		code               string
	}{
		{"no header", "", string(good), 401, "unauthorized"},
		{"wrong header", l.secret[:len(l.secret)-1] + "x", string(good), 401, "unauthorized"},
		{"bad JSON", l.secret, `{"event_type":"session.connect",`, 400, "invalid_request"},
		{"duplicate field", l.secret, strings.Replace(string(good), `{`, `{"session_id":"other",`, 1), 400, "invalid_request"},
		{"old timestamp", l.secret, strings.Replace(string(good), time.Now().UTC().Format("2006-01-02T"), time.Now().UTC().AddDate(0, 0, -2).Format("2006-01-02T"), 1), 400, "invalid_request"},
		{"other customer", l.secret, other, 403, "customer_not_allowed"},
	} {
		if a := l.send(t, 0, tt.header, tt.body); a.Status != tt.status || a.code() != tt.code {
			t.Errorf("%s: %d %s, want %d %s", tt.name, a.Status, a.Body, tt.status, tt.code)
		}
	}
	if items := l.items(t); len(items) != 0 {
		t.Errorf("refused calls recorded %v", items)
	}
	recs, _ := emf.Records(l.hooks[0].Logs())
	if n := emf.Sum(recs, "WebhookRejected"); n != 6 {
		t.Errorf("WebhookRejected %v, want 6", n)
	}
	// And the right header records.
	if a := l.post(t, 0, connect("accepted", time.Now(), 0)); !a.recorded() {
		t.Errorf("the right header: %s", a.Body)
	}
}

// tokenStack starts the token function reading the caps from l's table.
func (l *ledgerEnv) tokenStack(t *testing.T, env map[string]string) *harness {
	t.Helper()
	env["SESSIONS_TABLE"] = l.table
	env["AWS_ENDPOINT_URL_DYNAMODB"] = l.dynamo
	return newHarness(t, devstack.Options{Moto: l.moto, SecretID: l.table + "-api-key", Env: env})
}

// TestSessionsLiveCap: with MAX_LIVE_SESSIONS=3, tokens are minted while
// 2 sessions are live, refused with 429 sessions_full at 3, and minted
// again after a disconnect.
func TestSessionsLiveCap(t *testing.T) {
	l := newLedgerEnv(t, 1, nil)
	h := l.tokenStack(t, map[string]string{"MAX_LIVE_SESSIONS": "3"})
	now := time.Now().UTC()
	l.post(t, 0, connect("a", now, 0))
	l.post(t, 0, connect("b", now, 0))
	h.token(t, `{}`)
	l.post(t, 0, connect("c", now, 0))
	r := h.do(t, http.MethodPost, h.SiteURL, `{}`)
	if r.status != http.StatusTooManyRequests || r.code() != "sessions_full" || r.header.Get("Retry-After") != "30" {
		t.Fatalf("3 live: %d %s Retry-After %q; want 429 sessions_full, 30", r.status, r.body, r.header.Get("Retry-After"))
	}
	l.post(t, 0, disconnect("b", time.Now()))
	h.token(t, `{}`)
	if n := len(h.StandIn.Minted()); n != 2 {
		t.Errorf("%d tokens minted, want 2 (none while full)", n)
	}
}

// TestSessionsDailyCap: with DAILY_SESSION_MINUTES=2, a token is minted
// after 1 minute of sessions today and refused with 429
// session_budget_spent, Retry-After until UTC midnight, at 2.
func TestSessionsDailyCap(t *testing.T) {
	now := time.Now().UTC()
	midnight := now.Truncate(24 * time.Hour).Add(24 * time.Hour)
	if midnight.Sub(now) < 3*time.Minute || now.Sub(now.Truncate(24*time.Hour)) < 3*time.Minute {
		t.Skip("too close to UTC midnight: the sessions would fall in two days")
	}
	l := newLedgerEnv(t, 1, nil)
	h := l.tokenStack(t, map[string]string{"DAILY_SESSION_MINUTES": "2"})
	l.post(t, 0, connect("one", now.Add(-2*time.Minute), 0))
	l.post(t, 0, disconnect("one", now.Add(-1*time.Minute)))
	h.token(t, `{}`)
	l.post(t, 0, connect("two", now.Add(-1*time.Minute), 0))
	l.post(t, 0, disconnect("two", now))
	r := h.do(t, http.MethodPost, h.SiteURL, `{}`)
	ra, _ := strconv.Atoi(r.header.Get("Retry-After"))
	want := int(time.Until(midnight).Seconds())
	if r.status != http.StatusTooManyRequests || r.code() != "session_budget_spent" || ra < want-5 || ra > want+5 {
		t.Fatalf("2 minutes used: %d %s Retry-After %q; want 429 session_budget_spent, about %d", r.status, r.body, r.header.Get("Retry-After"), want)
	}
	if n := len(h.StandIn.Minted()); n != 1 {
		t.Errorf("%d tokens minted, want 1", n)
	}
}
