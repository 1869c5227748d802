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
	"github.com/trulience-token/trulience-token/internal/handler"
	"github.com/trulience-token/trulience-token/internal/secret"
	"github.com/trulience-token/trulience-token/internal/token"
	"github.com/trulience-token/trulience-token/internal/trulience"
)

// prefetchTimeout bounds how long init waits for the first key.
const prefetchTimeout = 4 * time.Second

func main() {
	cfg, err := config.Load(os.Getenv)
	log := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: cfg.LogLevel}))
	if err != nil {
		log.Error("invalid configuration: every request will be answered 500 internal_error until it is fixed", "error", err.Error())
		lambda.Start(handler.Misconfigured(err, log))
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), prefetchTimeout)
	defer cancel()
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		log.Error("loading the AWS SDK configuration failed: every request will be answered 500 internal_error", "error", err.Error())
		lambda.Start(handler.Misconfigured(err, log))
		return
	}
	keys := secret.New(secretsmanager.NewFromConfig(awsCfg), cfg.SecretID, cfg.SecretTTL, log)

	// Read the key during init, alongside the rest of the set-up, so the first request does not wait for it.
	prefetched := make(chan struct{})
	go func() {
		defer close(prefetched)
		if _, err := keys.Key(ctx); err != nil {
			log.Warn("reading the API key during init failed; the first request will try again", "error", err.Error())
		}
	}()
	svc := &token.Service{Keys: keys, API: trulience.NewClient(cfg.APIURL, cfg.UpstreamTimeout), Log: log}
	h := handler.New(cfg, svc, log)
	<-prefetched
	lambda.Start(h)
}
