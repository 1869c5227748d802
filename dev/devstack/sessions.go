package devstack

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/trulience-token/trulience-token/dev/moto"
	"github.com/trulience-token/trulience-token/dev/rie"
	"github.com/trulience-token/trulience-token/dev/standin/trulience"
)

// WebhookPackage is the package of the webhook function's bootstrap.
const WebhookPackage = "./functions/webhook"

// WebhookRoute is the webhook's route, as in template.yaml.
const WebhookRoute = "POST /webhook"

// DefaultWebhookHeader is the header carrying the webhook's secret
// (template parameter WebhookHeaderName's default).
const DefaultWebhookHeader = "X-Webhook-Secret"

// DemoCustomerID is the customer_id the stand-in's webhook sends and the
// webhook function accepts (TRULIENCE_CUSTOMER_ID).
const DemoCustomerID = 4242

// Sessions turn the session ledger on: the webhook function runs under a
// second RIE behind POST /webhook, the ledger table and the webhook's
// secret live in moto, and the Trulience stand-in's avatar page reports
// sessions to the webhook, as Trulience does for a key with a Webhook URL.
type Sessions struct {
	// MaxLive is MAX_LIVE_SESSIONS and DailyMinutes DAILY_SESSION_MINUTES
	// (the token function's caps); empty leaves that cap off.
	MaxLive, DailyMinutes string
	// SessionMaxMinutes is the webhook function's SESSION_MAX_MINUTES;
	// empty leaves its default.
	SessionMaxMinutes string
	// MaxSessionDuration is the avatar's limit: the stand-in sends it as
	// max_session_duration and ends sessions when it is up; 0 is none.
	MaxSessionDuration time.Duration
	// Faults make the stand-in's deliveries misbehave.
	Faults trulience.WebhookFaults
	// Header names the header carrying the secret; empty means
	// DefaultWebhookHeader.
	Header string
	// Table is the ledger's table; stacks sharing a moto_server and a name
	// share the ledger. Empty makes a table of the stack's own. It is
	// created (pk and sk, TTL on expires_at) when missing.
	Table string
	// Bootstrap is a prebuilt webhook function; empty builds WebhookPackage.
	Bootstrap string
	// Env adds to (or overrides) the webhook function's environment.
	Env map[string]string
}

// sessionWrites are the ledger's writes that moto must apply one at a
// time per moto_server (see serialWrites): DynamoDB applies each
// transaction atomically, moto does not lock.
var sessionWrites = []string{"UpdateItem", "PutItem", "DeleteItem", "TransactWriteItems"}

// buildWebhook starts building the webhook function when opts ask for the
// ledger; the channel gets its path.
func buildWebhook(ctx context.Context, opts Options) <-chan built {
	ch := make(chan built, 1)
	switch {
	case opts.Sessions == nil:
		ch <- built{}
	case opts.Sessions.Bootstrap != "":
		ch <- built{path: opts.Sessions.Bootstrap}
	default:
		go func() {
			p, err := rie.BuildCached(ctx, WebhookPackage)
			ch <- built{p, err}
		}()
	}
	return ch
}

// built is a bootstrap built in the background.
type built struct {
	path string
	err  error
}

// startSessions makes the ledger table and the webhook's secret in moto,
// aims the stand-in's webhook at the front door and returns the webhook
// function's environment. The token function gets the table and the caps.
func (s *Stack) startSessions(ctx context.Context, o *Sessions, env map[string]string) (map[string]string, error) {
	s.SessionsTable = o.Table
	if s.SessionsTable == "" {
		s.SessionsTable = "devstack-" + randHex(4) + "-sessions"
	}
	if err := moto.CreateSessionsTable(ctx, s.Moto.URL, s.SessionsTable); err != nil {
		return nil, fmt.Errorf("devstack: creating the sessions table in moto: %w", err)
	}
	s.WebhookSecretID = strings.TrimSuffix(s.SecretID, "-api-key") + "-webhook-key"
	s.WebhookHeader = o.Header
	if s.WebhookHeader == "" {
		s.WebhookHeader = DefaultWebhookHeader
	}
	s.WebhookSecret = alnum(40)
	if _, err := moto.PutSecret(ctx, s.Moto.URL, s.WebhookSecretID, s.WebhookSecret); err != nil {
		return nil, err
	}
	if err := s.dynamoDBProxy(); err != nil {
		return nil, err
	}
	// The webhook function's calls go through a proxy of their own, so
	// the token function's calls (Stack.DynamoDB) are counted apart.
	var err error
	if s.WebhookDynamoDB, err = s.serialProxy(); err != nil {
		return nil, err
	}

	s.WebhookURL = s.FrontDoorURL + "/webhook"
	s.StandIn.SetWebhook(trulience.Webhook{
		URL: s.WebhookURL, Header: s.WebhookHeader, Value: s.WebhookSecret,
		CustomerID: DemoCustomerID, MaxSessionDuration: o.MaxSessionDuration, Faults: o.Faults,
	})

	env["SESSIONS_TABLE"] = s.SessionsTable
	env["MAX_LIVE_SESSIONS"] = o.MaxLive
	env["DAILY_SESSION_MINUTES"] = o.DailyMinutes
	env["AWS_ENDPOINT_URL_DYNAMODB"] = s.DynamoDB.URL
	hook := map[string]string{
		"AWS_LAMBDA_FUNCTION_NAME":         "WebhookFunction",
		"SESSIONS_TABLE":                   s.SessionsTable,
		"WEBHOOK_SECRET_ID":                s.WebhookSecretID,
		"WEBHOOK_HEADER_NAME":              s.WebhookHeader,
		"TRULIENCE_CUSTOMER_ID":            strconv.Itoa(DemoCustomerID),
		"SESSION_MAX_MINUTES":              o.SessionMaxMinutes,
		"AWS_ENDPOINT_URL_DYNAMODB":        s.WebhookDynamoDB.URL,
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": s.SecretsManager.URL,
	}
	for k, v := range o.Env {
		hook[k] = v
	}
	return hook, nil
}

// dynamoDBProxy starts the token function's DynamoDB proxy unless the
// limits started it.
func (s *Stack) dynamoDBProxy() error {
	if s.DynamoDB != nil {
		for _, op := range sessionWrites {
			s.DynamoDB.serial[op] = s.DynamoDB.serial["UpdateItem"]
		}
		return nil
	}
	var err error
	s.DynamoDB, err = s.serialProxy()
	return err
}

// serialProxy starts a proxy to moto whose writes take the moto_server's
// one lock.
func (s *Stack) serialProxy() (*AWSProxy, error) {
	p, err := StartAWSProxy(s.Moto.URL)
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, p.Close)
	lock, _ := serialWrites.LoadOrStore(s.Moto.URL, &sync.Mutex{})
	p.serial = map[string]*sync.Mutex{}
	for _, op := range sessionWrites {
		p.serial[op] = lock.(*sync.Mutex)
	}
	return p, nil
}

// startWebhook runs the webhook function under its own RIE.
func (s *Stack) startWebhook(ctx context.Context, bootstrap string, env map[string]string, timeout time.Duration, opts Options) error {
	if bootstrap == "" {
		return nil
	}
	var err error
	s.Webhook, err = rie.Start(ctx, rie.Options{Bootstrap: bootstrap, Env: env, Timeout: timeout,
		Stdout: &functionLog{w: orDiscard(opts.Log), verbose: opts.Verbose, prefix: "webhook: "}})
	if err != nil {
		return err
	}
	s.closers = append(s.closers, s.Webhook.Close)
	return nil
}

// checkSessions refuses what the ledger cannot run with.
func checkSessions(opts Options) error {
	if opts.Sessions != nil && opts.Real {
		return errors.New("devstack: the session ledger lives in moto's DynamoDB and is fed by the Trulience stand-in, which real mode does not start")
	}
	return nil
}

// alnum is n random letters and digits, as GenerateSecretString makes the
// webhook's secret (no punctuation).
func alnum(n int) string {
	const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = chars[int(b[i])%len(chars)]
	}
	return string(b)
}
