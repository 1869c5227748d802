package moto

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// DynamoDB returns an SDK client for the DynamoDB at endpoint, with dummy
// static credentials, in Region.
func DynamoDB(endpoint string) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:       Region,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
	})
}

// CreateLimitsTable creates the limits' table as template.yaml does (a
// string partition key "pk", on-demand, TTL on "expires_at"), unless it
// exists already.
func CreateLimitsTable(ctx context.Context, endpoint, name string) error {
	return createTable(ctx, endpoint, name, "pk")
}

// Items is every item of table (a Scan).
func Items(ctx context.Context, endpoint, table string) ([]map[string]types.AttributeValue, error) {
	out, err := DynamoDB(endpoint).Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table)})
	if err != nil {
		return nil, err
	}
	return out.Items, nil
}

// CreateSessionsTable creates the session ledger's table as template.yaml
// does (string keys "pk" and "sk", on-demand, TTL on "expires_at"), unless
// it exists already.
func CreateSessionsTable(ctx context.Context, endpoint, name string) error {
	return createTable(ctx, endpoint, name, "pk", "sk")
}

// createTable creates an on-demand table with string keys (the hash key,
// then the range key when given) and TTL on "expires_at", unless it exists.
func createTable(ctx context.Context, endpoint, name string, keys ...string) error {
	in := &dynamodb.CreateTableInput{TableName: aws.String(name), BillingMode: types.BillingModePayPerRequest}
	for i, k := range keys {
		kind := types.KeyTypeHash
		if i > 0 {
			kind = types.KeyTypeRange
		}
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String(k), AttributeType: types.ScalarAttributeTypeS})
		in.KeySchema = append(in.KeySchema, types.KeySchemaElement{AttributeName: aws.String(k), KeyType: kind})
	}
	c := DynamoDB(endpoint)
	_, err := c.CreateTable(ctx, in)
	var exists *types.ResourceInUseException
	if errors.As(err, &exists) {
		return nil
	}
	if err != nil {
		return err
	}
	_, err = c.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(name),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String("expires_at"), Enabled: aws.Bool(true)},
	})
	return err
}
