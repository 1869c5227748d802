package moto

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"

	"github.com/trulience-token/trulience-token/internal/secret"
)

// TestRevokedOnMotosAnswers: the function's kill switch (secret.Revoked)
// reads the error codes moto's GetSecretValue really answers with, through
// the SDK: a secret scheduled for deletion, deleted, or never created is
// taken away; a secret in place is not.
func TestRevokedOnMotosAnswers(t *testing.T) {
	m := ForTest(t)
	ctx := context.Background()
	c := Client(m.URL)
	get := func(name string) error {
		_, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(name)})
		return err
	}
	for _, name := range []string{"scheduled", "deleted", "kept"} {
		if _, err := PutSecret(ctx, m.URL, name, `{"api_key":"k"}`); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String("scheduled"), RecoveryWindowInDays: aws.Int64(7)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String("deleted"), ForceDeleteWithoutRecovery: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{"scheduled": true, "deleted": true, "never-created": true, "kept": false} {
		err := get(name)
		var api smithy.APIError
		code := ""
		if errors.As(err, &api) {
			code = api.ErrorCode()
		}
		if got := secret.Revoked(err); got != want {
			t.Errorf("%s: moto answered %q (%v); Revoked = %v, want %v", name, code, err, got, want)
		}
	}
}
