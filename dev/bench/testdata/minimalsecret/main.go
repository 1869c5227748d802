// Command minimalsecret is the second reference Lambda: the minimal one
// (testdata/minimal) that also reads the secret TRULIENCE_SECRET_ID once
// during init, as any function that prefetches a secret must. It is the floor
// for the token function's init with its prefetch included.
package main

import (
	"context"
	"log"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

func main() {
	ctx := context.Background()
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		log.Fatal(err)
	}
	client := secretsmanager.NewFromConfig(cfg)
	id := os.Getenv("TRULIENCE_SECRET_ID")
	if _, err := client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &id}); err != nil {
		log.Fatal(err)
	}
	lambda.Start(handler{})
}

// handler answers every invocation with a constant.
type handler struct{}

func (handler) Invoke(context.Context, []byte) ([]byte, error) {
	return []byte(`{"statusCode":200}`), nil
}
