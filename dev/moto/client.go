package moto

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// Region is where the tests' resources live in moto, which keeps each
// region apart as AWS does.
const Region = "us-east-1"

// Client returns an SDK client for the Secrets Manager at endpoint, with
// dummy static credentials, in Region.
func Client(endpoint string) *secretsmanager.Client {
	return ClientIn(endpoint, Region)
}

// ClientIn is Client in another region.
func ClientIn(endpoint, region string) *secretsmanager.Client {
	return secretsmanager.New(secretsmanager.Options{
		Region:       region,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
	})
}

// PutSecret stores value as the current SecretString of name at endpoint,
// creating the secret when it does not exist yet. It returns the new version ID.
func PutSecret(ctx context.Context, endpoint, name, value string) (string, error) {
	c := Client(endpoint)
	out, err := c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: &name, SecretString: &value})
	var nf *types.ResourceNotFoundException
	if errors.As(err, &nf) {
		created, err := c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: &name, SecretString: &value})
		if err != nil {
			return "", err
		}
		return aws.ToString(created.VersionId), nil
	}
	if err != nil {
		return "", err
	}
	return aws.ToString(out.VersionId), nil
}
