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
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/trulience-token/trulience-token/internal/config"
	"github.com/trulience-token/trulience-token/internal/httpapi"
	"github.com/trulience-token/trulience-token/internal/mint"
	"github.com/trulience-token/trulience-token/internal/secret"
	"github.com/trulience-token/trulience-token/internal/trulience"
)

// initTimeout bounds the waits started during init: the SDK configuration,
// the first key and the first Trulience connection. Kept short: a slow
// Secrets Manager must not eat the first request's time, and that request
// tries again anyway.
const initTimeout = 1 * time.Second

func main() {
	cfg, err := config.Load(os.Getenv)
	log := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: cfg.LogLevel}))
	if err != nil {
		log.Error("invalid configuration: every request will be answered 500 internal_error until it is fixed", "error", err.Error())
		lambda.Start(httpapi.Misconfigured(err, log))
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), initTimeout)
	defer cancel()

	// A cold start's two network waits, the connection to Trulience (in a
	// Lambda, already opening since package initialization: see
	// internal/trulience/earlyconn) and the key, go on after init returns,
	// while the runtime hands over the first request and the handler checks
	// it: that request waits only for what is still missing (the client's
	// dial waits for the preconnected connection, keys.Key for the read
	// under way).
	api := trulience.NewClient(cfg.APIURL, cfg.UpstreamTimeout)
	api.StartPreconnect(ctx, func(err error) {
		if err != nil {
			log.Warn("connecting to Trulience during init failed; the first request will try again", "error", err.Error())
		}
	})
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		log.Error("loading the AWS SDK configuration failed: every request will be answered 500 internal_error", "error", err.Error())
		lambda.Start(httpapi.Misconfigured(err, log))
		return
	}
	keys := secret.New(secretsmanager.NewFromConfig(awsCfg), cfg.SecretID, cfg.SecretTTL, log)
	go func() {
		if _, err := keys.Key(ctx); err != nil {
			log.Warn("reading the API key during init failed; the first request will try again", "error", err.Error())
		}
	}()
	lambda.Start(httpapi.New(cfg, &mint.Service{Keys: keys, API: api, Log: log}, log))
}
