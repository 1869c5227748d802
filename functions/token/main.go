// Command token is the Lambda function that mints Trulience avatar tokens.
// It only wires things together; the logic lives in internal/.
package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/trulience-token/trulience-token/internal/config"
	"github.com/trulience-token/trulience-token/internal/httpapi"
	"github.com/trulience-token/trulience-token/internal/idhash"
	"github.com/trulience-token/trulience-token/internal/limits"
	"github.com/trulience-token/trulience-token/internal/metrics"
	"github.com/trulience-token/trulience-token/internal/mint"
	"github.com/trulience-token/trulience-token/internal/secret"
	"github.com/trulience-token/trulience-token/internal/trulience"
	"github.com/trulience-token/trulience-token/internal/turnstile"
)

// initTimeout bounds the waits started during init: the SDK configuration,
// the first key and the first connections. Kept short: a slow Secrets
// Manager must not eat the first request's time, and that request tries
// again anyway.
const initTimeout = 1 * time.Second

func main() {
	cfg, err := config.Load(os.Getenv)
	lim, limErr := limits.Load(os.Getenv)
	namespace, nsErr := metrics.LoadNamespace(os.Getenv)
	err = errors.Join(err, limErr, nsErr)
	log := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: cfg.LogLevel}))
	if err != nil {
		log.Error("invalid configuration: every request will be answered 500 internal_error until it is fixed", "error", err.Error())
		lambda.Start(httpapi.Misconfigured(err, log))
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), initTimeout)
	defer cancel()

	// A cold start's network waits, the connection to Trulience (in a
	// Lambda, already opening since package initialization: see
	// internal/trulience/earlyconn), the one to Cloudflare when the bot check
	// is on, and the key, go on after init returns, while the runtime hands
	// over the first request and the handler checks it: that request waits
	// only for what is still missing (a client's dial waits for the
	// connection being opened, keys.Key for the read under way).
	api := trulience.NewClient(cfg.APIURL, cfg.UpstreamTimeout)
	api.StartPreconnect(ctx, func(err error) {
		if err != nil {
			log.Warn("connecting to Trulience during init failed; the first request will try again", "error", err.Error())
		}
	})
	var bot *turnstile.Client
	if cfg.BotCheck.On() {
		bot = turnstile.NewClient(cfg.BotCheck)
		bot.StartPreconnect(ctx, func(err error) {
			if err != nil {
				log.Warn("connecting to Cloudflare siteverify during init failed; the first bot check will try again", "error", err.Error())
			}
		})
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
	ids := idhash.Secret{Fixed: lim.HashKey, Read: keys.Key}
	var guards []httpapi.Guard
	if bot != nil {
		guards = append(guards, &turnstile.Guard{Mode: cfg.BotCheck.Mode, Verify: bot, Secrets: keys, Log: log})
	}
	if lim.On() {
		// Only with a limit set: the DynamoDB client costs init nothing otherwise.
		db := dynamodb.NewFromConfig(awsCfg)
		guards = append(guards, limits.New(lim, &limits.Dynamo{Client: db, Table: lim.Table}).KeyFrom(keys.Key))
		go func() {
			if err := limits.Preconnect(ctx, db, lim.Table); err != nil {
				log.Warn("connecting to DynamoDB during init failed; the first request will try again", "error", err.Error())
			}
		}()
	}
	lambda.Start(httpapi.New(cfg, &mint.Service{Keys: keys, API: api, Log: log}, log, guards...).WithMeter(metrics.NewWriter(os.Stdout, namespace)).WithSubHash(ids))
}
