// Command token is the Lambda function that mints Trulience avatar tokens.
// It only wires things together; the logic lives in internal/.
package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/trulience-token/trulience-token/internal/config"
	"github.com/trulience-token/trulience-token/internal/earlyconn"
	"github.com/trulience-token/trulience-token/internal/httpapi"
	"github.com/trulience-token/trulience-token/internal/httpclient"
	"github.com/trulience-token/trulience-token/internal/idhash"
	"github.com/trulience-token/trulience-token/internal/limits"
	"github.com/trulience-token/trulience-token/internal/metrics"
	"github.com/trulience-token/trulience-token/internal/mint"
	"github.com/trulience-token/trulience-token/internal/secret"
	"github.com/trulience-token/trulience-token/internal/sessions"
	"github.com/trulience-token/trulience-token/internal/trulience"
	"github.com/trulience-token/trulience-token/internal/turnstile"
)

// initTimeout bounds the waits started during init: the SDK configuration,
// the first key and the connection to DynamoDB. Kept short: a slow Secrets
// Manager must not eat the first request's time, and that request tries
// again anyway.
const initTimeout = 1 * time.Second

func main() {
	cfg, err := config.Load(os.Getenv)
	log := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: cfg.LogLevel}))
	if err != nil {
		log.Error("invalid configuration: every request will be answered 500 internal_error until it is fixed", "error", err.Error())
		lambda.Start(httpapi.Misconfigured(err, log))
		return
	}
	// A cold start's network waits go on while init goes on and after it
	// returns, while the runtime hands over the first request and the
	// handler checks it: the connection to Trulience and, with the bot check
	// on, the one to Cloudflare (internal/earlyconn), and the key. That
	// request waits only for what is still missing. One HTTP client carries
	// both services' calls.
	earlyconn.Report(func(addr, outcome string) {
		log.Info("early connection", "addr", addr, "outcome", outcome)
	})
	if earlyconn.Wanted(os.Getenv) {
		earlyconn.Start(cfg.APIURL, nil)
		if cfg.BotCheck.On() {
			earlyconn.Start(cfg.BotCheck.VerifyURL, nil)
		}
	} else if os.Getenv("AWS_LAMBDA_INITIALIZATION_TYPE") == "provisioned-concurrency" {
		log.Info("early connection", "addr", "", "outcome", earlyconn.Skipped)
	}
	ctx, cancel := context.WithTimeout(context.Background(), initTimeout)
	defer cancel()

	hc := httpclient.New(earlyconn.Dialer{}.DialTLSContext)
	api := trulience.NewClient(cfg.APIURL, cfg.UpstreamTimeout, hc)
	var bot *turnstile.Client
	if cfg.BotCheck.On() {
		bot = turnstile.NewClient(cfg.BotCheck, hc)
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		log.Error("loading the AWS SDK configuration failed: every request will be answered 500 internal_error", "error", err.Error())
		lambda.Start(httpapi.Misconfigured(err, log))
		return
	}
	keys := secret.New(secretsmanager.NewFromConfig(awsCfg), cfg.SecretID, cfg.SecretTTL, log)
	keys.MaxStaleness = cfg.MaxKeyStaleness
	go func() {
		if _, err := keys.Key(ctx); err != nil {
			log.Warn("reading the API key during init failed; the first request will try again", "error", err.Error())
		}
	}()
	// One per-deployment secret keys the hashes that stand in for a
	// visitor: the limits' counters and the log's sub_hash.
	ids := idhash.Secret{Fixed: cfg.Limits.HashKey, Read: keys.Key}
	var guards []httpapi.Guard
	if bot != nil {
		guards = append(guards, &turnstile.Guard{Mode: cfg.BotCheck.Mode, Verify: bot, Secrets: keys, Log: log})
	}
	// Only with a limit or a session cap set: the DynamoDB client costs
	// init nothing otherwise. One client (one connection) serves both, and
	// one read during init opens it.
	var preconnect func(context.Context) error
	if cfg.Limits.On() || cfg.Sessions.On() {
		db := dynamodb.NewFromConfig(awsCfg)
		if cfg.Limits.On() {
			guards = append(guards, limits.New(cfg.Limits, &limits.Dynamo{Client: db, Table: cfg.Limits.Table}).KeyFrom(keys.Key))
			preconnect = func(ctx context.Context) error { return limits.Preconnect(ctx, db, cfg.Limits.Table) }
		}
		if cfg.Sessions.On() {
			// The caps only read the ledger; the webhook function writes it.
			ledger := sessions.New(db, cfg.Sessions.Table, config.DefaultSessionMax)
			guards = append(guards, sessions.NewGuard(ledger, cfg.Sessions, cfg.Limits))
			if preconnect == nil {
				preconnect = ledger.Preconnect
			}
		}
		go func() {
			if err := preconnect(ctx); err != nil {
				log.Warn("connecting to DynamoDB during init failed; the first request will try again", "error", err.Error())
			}
		}()
	}
	// ServerErrors per version: what a gradual release is rolled back on.
	meter := metrics.NewWriter(os.Stdout, cfg.MetricsNamespace).WithVersion(os.Getenv("AWS_LAMBDA_FUNCTION_NAME"), os.Getenv("AWS_LAMBDA_FUNCTION_VERSION"))
	lambda.Start(httpapi.New(cfg, &mint.Service{Keys: keys, API: api, Log: log}, log, guards...).WithMeter(meter).WithSubHash(ids))
}
