// Command webhook is the Lambda function that receives Trulience's
// session webhook and records it in the session ledger. It only wires
// things together; the logic lives in internal/webhook and
// internal/sessions. It never reads the Trulience API key.
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
	"github.com/trulience-token/trulience-token/internal/metrics"
	"github.com/trulience-token/trulience-token/internal/sessions"
	"github.com/trulience-token/trulience-token/internal/webhook"
)

// initTimeout bounds the waits started during init: the SDK
// configuration, the first read of the secret and the connection to
// DynamoDB. The first call tries again anyway.
const initTimeout = 1 * time.Second

func main() {
	cfg, err := config.LoadWebhook(os.Getenv)
	log := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: cfg.LogLevel}))
	// Valid even when the configuration is not (config.Webhook), so the
	// misconfigured handler's 500s are counted.
	meter := metrics.NewWriter(os.Stdout, cfg.MetricsNamespace)
	if err != nil {
		log.Error("invalid configuration: every call will be answered 500 internal_error until it is fixed", "error", err.Error())
		lambda.Start(webhook.Misconfigured(err, log, meter))
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), initTimeout)
	defer cancel()
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		log.Error("loading the AWS SDK configuration failed: every call will be answered 500 internal_error", "error", err.Error())
		lambda.Start(webhook.Misconfigured(err, log, meter))
		return
	}
	auth := webhook.NewSecret(secretsmanager.NewFromConfig(awsCfg), cfg.SecretID, log)
	ledger := sessions.New(dynamodb.NewFromConfig(awsCfg), cfg.Table, cfg.SessionMax)
	// Both connections open while the runtime hands over the first call.
	go func() {
		if _, err := auth.Value(ctx); err != nil {
			log.Warn("reading the webhook secret during init failed; the first call will try again", "error", err.Error())
		}
	}()
	go func() {
		if err := ledger.Preconnect(ctx); err != nil {
			log.Warn("connecting to DynamoDB during init failed; the first call will try again", "error", err.Error())
		}
	}()
	lambda.Start(webhook.New(cfg, auth, ledger, log, meter))
}
