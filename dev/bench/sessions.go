package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/trulience-token/trulience-token/dev/moto"
	"github.com/trulience-token/trulience-token/dev/rie"
)

// The session ledger's bench setup: its table and the webhook's secret in
// the peers' moto.
const (
	SessionsTable   = "bench-sessions"
	WebhookSecretID = "bench/webhook-key"
	WebhookHeader   = "X-Webhook-Secret"
	WebhookSecret   = "bench0webhook0secret0000000000000000000"
	CustomerID      = "4242"
)

// StartSessions creates the ledger's table and the webhook's secret in the
// peers' moto.
func (p *Peers) StartSessions(ctx context.Context) error {
	if err := moto.CreateSessionsTable(ctx, p.motoURL, SessionsTable); err != nil {
		return err
	}
	_, err := moto.PutSecret(ctx, p.motoURL, WebhookSecretID, WebhookSecret)
	return err
}

// WebhookEnv is the webhook function's environment on network n.
func (p *Peers) WebhookEnv(n Network) map[string]string {
	env := map[string]string{
		"AWS_LAMBDA_FUNCTION_NAME":         "WebhookFunction",
		"SESSIONS_TABLE":                   SessionsTable,
		"WEBHOOK_SECRET_ID":                WebhookSecretID,
		"WEBHOOK_HEADER_NAME":              WebhookHeader,
		"TRULIENCE_CUSTOMER_ID":            CustomerID,
		"AWS_ENDPOINT_URL_DYNAMODB":        n.DynamoDBURL,
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": n.SMURL,
		"LOG_LEVEL":                        "info",
	}
	if p.CAFile != "" {
		env["SSL_CERT_FILE"] = p.CAFile
	}
	return env
}

// SessionCapsEnv is the token function's environment on network n with
// the session caps on, set high enough never to refuse the bench.
func (p *Peers) SessionCapsEnv(n Network) map[string]string {
	env := p.Env(n)
	env["SESSIONS_TABLE"] = SessionsTable
	env["MAX_LIVE_SESSIONS"] = "999999" // the most config allows
	env["DAILY_SESSION_MINUTES"] = "99999999"
	env["AWS_ENDPOINT_URL_DYNAMODB"] = n.DynamoDBURL
	return env
}

// WebhookEvent is a Trulience webhook call for session id as API Gateway
// delivers it to the webhook function.
func WebhookEvent(eventType, id string, at time.Time) []byte {
	body, _ := json.Marshal(map[string]any{
		"event_type": eventType, "customer_id": 4242, "avatar_id": AvatarID,
		"session_id": id, "timestamp": at.UTC().Format(time.RFC3339Nano),
	})
	e := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "POST /webhook", RawPath: "/webhook",
		Headers: map[string]string{"content-type": "application/json", "x-webhook-secret": WebhookSecret, "user-agent": "bench"},
		Body:    string(body),
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RequestID: "bench",
			HTTP:      events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", Path: "/webhook"},
		},
	}
	b, _ := json.Marshal(e)
	return b
}

// Webhook is what a warm run of the webhook function measured.
type Webhook struct {
	// Connect and Disconnect are the REPORT Durations of the warm events.
	Connect, Disconnect []time.Duration
	// ConnectOwn and DisconnectOwn are the same less the time moto was
	// busy with the event's calls: the function's own part, with the
	// network. Moto's part grows with the table, as moto copies a whole
	// table for each item of a transaction (to roll back).
	ConnectOwn, DisconnectOwn []time.Duration
	// Calls are the DynamoDB calls per event, by operation.
	Calls map[string]float64
}

// MeasureWebhook runs the webhook function under a fresh RIE on network n:
// one cold event, then n sessions' connect and disconnect, each answered
// 200 and recorded.
func MeasureWebhook(ctx context.Context, bootstrap string, p *Peers, nw Network, n int) (Webhook, error) {
	var w Webhook
	e, err := rie.Start(ctx, rie.Options{Bootstrap: bootstrap, Env: p.WebhookEnv(nw)})
	if err != nil {
		return w, err
	}
	defer e.Close()
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	var moto []time.Duration
	invoke := func(kind, id string) error {
		start := time.Now()
		out, err := e.Invoke(ctx, WebhookEvent(kind, id, start))
		moto = append(moto, p.DynamoDBBusy(start, time.Now()))
		if err != nil {
			return fmt.Errorf("%w\n%s", err, e.Logs())
		}
		var r struct {
			StatusCode int    `json:"statusCode"`
			Body       string `json:"body"`
		}
		if json.Unmarshal(out, &r) != nil || r.StatusCode != 200 || r.Body != `{"recorded":true}` {
			return fmt.Errorf("the webhook answered %s to %s, want 200 {\"recorded\":true}\n%s", out, kind, e.Logs())
		}
		return nil
	}
	if err := invoke("session.connect", "bench-"+run+"-cold"); err != nil {
		return w, fmt.Errorf("cold event: %w", err)
	}
	ops := []string{"TransactWriteItems", "Query", "GetItem", "UpdateItem", "PutItem", "GetSecretValue"}
	before := map[string]int{}
	for _, op := range ops {
		before[op] = p.Counter.Calls(op)
	}
	for i := range n {
		id := fmt.Sprintf("bench-%s-%d", run, i)
		if err := invoke("session.connect", id); err != nil {
			return w, err
		}
		if err := invoke("session.disconnect", id); err != nil {
			return w, err
		}
	}
	reps := e.Reports()
	if len(reps) != 2*n+1 {
		return w, fmt.Errorf("%d REPORT lines for %d warm events", len(reps)-1, 2*n)
	}
	for i, r := range reps[1:] {
		own := r.Duration - moto[i+1]
		if i%2 == 0 {
			w.Connect, w.ConnectOwn = append(w.Connect, r.Duration), append(w.ConnectOwn, own)
		} else {
			w.Disconnect, w.DisconnectOwn = append(w.Disconnect, r.Duration), append(w.DisconnectOwn, own)
		}
	}
	w.Calls = map[string]float64{}
	for _, op := range ops {
		if d := p.Counter.Calls(op) - before[op]; d > 0 {
			w.Calls[op] = float64(d) / float64(2*n)
		}
	}
	return w, nil
}

// CapsCost is what the session caps add to a warm mint on one network.
type CapsCost struct {
	// Without and With are the REPORT Durations of warm mints with the
	// other guards on, without and with the session caps.
	Without, With []time.Duration
	// Calls are the DynamoDB calls per mint with the caps, by operation.
	Calls map[string]float64
}

// MeasureCapsCost runs the token function under two RIEs on network nw,
// one with the peers' guards and one with the session caps added, and
// invokes them in turn n times warm each, so drift on the machine hits
// both alike.
func MeasureCapsCost(ctx context.Context, bootstrap string, p *Peers, nw Network, n int) (CapsCost, error) {
	var c CapsCost
	without, err := rie.Start(ctx, rie.Options{Bootstrap: bootstrap, Env: p.Env(nw)})
	if err != nil {
		return c, err
	}
	defer without.Close()
	with, err := rie.Start(ctx, rie.Options{Bootstrap: bootstrap, Env: p.SessionCapsEnv(nw)})
	if err != nil {
		return c, err
	}
	defer with.Close()
	payload := p.Event()
	invoke := func(e *rie.Emulator) error {
		out, err := e.Invoke(ctx, payload)
		if err != nil {
			return fmt.Errorf("%w\n%s", err, e.Logs())
		}
		var r struct {
			StatusCode int `json:"statusCode"`
		}
		if json.Unmarshal(out, &r) != nil || r.StatusCode != 200 {
			return fmt.Errorf("the function answered %s, want status 200\n%s", out, e.Logs())
		}
		return nil
	}
	for _, e := range []*rie.Emulator{without, with} {
		if err := invoke(e); err != nil {
			return c, fmt.Errorf("cold invocation: %w", err)
		}
	}
	ops := []string{"Query", "GetItem", "UpdateItem", "TransactWriteItems"}
	calls := map[string]int{}
	for range n {
		if err := invoke(without); err != nil {
			return c, err
		}
		before := map[string]int{}
		for _, op := range ops {
			before[op] = p.Counter.Calls(op)
		}
		if err := invoke(with); err != nil {
			return c, err
		}
		for _, op := range ops {
			calls[op] += p.Counter.Calls(op) - before[op]
		}
	}
	for _, r := range without.Reports()[1:] {
		c.Without = append(c.Without, r.Duration)
	}
	for _, r := range with.Reports()[1:] {
		c.With = append(c.With, r.Duration)
	}
	if len(c.Without) != n || len(c.With) != n {
		return c, fmt.Errorf("%d and %d REPORT lines for %d warm invocations each", len(c.Without), len(c.With), n)
	}
	c.Calls = map[string]float64{}
	for op, k := range calls {
		if k > 0 {
			c.Calls[op] = float64(k) / float64(n)
		}
	}
	return c, nil
}
