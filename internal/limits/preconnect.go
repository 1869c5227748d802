package limits

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// GetItemAPI is the part of the DynamoDB client Preconnect uses.
type GetItemAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
}

// Preconnect reads one item that never exists, during init, so that the
// connection to DynamoDB (TCP, TLS, credentials) is open before the first
// request needs it. A failure only means the first request opens it.
func Preconnect(ctx context.Context, c GetItemAPI, table string) error {
	_, err := c.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(table),
		Key:       map[string]types.AttributeValue{KeyAttr: &types.AttributeValueMemberS{Value: "preconnect"}},
	})
	return err
}
