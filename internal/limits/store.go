package limits

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Item attributes of the counters table. The partition key is the only key.
const (
	// KeyAttr is the partition key (string): "v#<window seconds>#<window
	// start>#<visitor hash>" or "d#<YYYY-MM-DD>".
	KeyAttr = "pk"
	// CountAttr is the number of tokens taken in the item's window.
	CountAttr = "tokens"
	// TTLAttr is the table's TTL attribute: when DynamoDB may delete the
	// item (epoch seconds), the end of its window.
	TTLAttr = "expires_at"
)

// Store keeps the counters.
type Store interface {
	// Take adds one to the counter key unless it already holds limit, in
	// one atomic step; it reports false (and changes nothing) when the
	// counter is full. A new item expires at expires.
	Take(ctx context.Context, key string, limit int64, expires time.Time) (bool, error)
	// Give takes one back from the counter key, if it still exists.
	Give(ctx context.Context, key string) error
}

// UpdateItemAPI is the part of the DynamoDB client the store uses.
type UpdateItemAPI interface {
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// Dynamo is the Store in a DynamoDB table: each counter is one item,
// changed by a conditional UpdateItem, which DynamoDB applies atomically
// however many containers call at once.
type Dynamo struct {
	Client UpdateItemAPI
	Table  string
}

var names = map[string]string{"#c": CountAttr, "#e": TTLAttr}

// Take is one UpdateItem: ADD 1 on the condition that the count is below
// the limit (or the item does not exist yet).
func (d *Dynamo) Take(ctx context.Context, key string, limit int64, expires time.Time) (bool, error) {
	_, err := d.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(d.Table),
		Key:                      map[string]types.AttributeValue{KeyAttr: &types.AttributeValueMemberS{Value: key}},
		UpdateExpression:         aws.String("ADD #c :one SET #e = if_not_exists(#e, :exp)"),
		ConditionExpression:      aws.String("attribute_not_exists(#c) OR #c < :limit"),
		ExpressionAttributeNames: names,
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":one":   &types.AttributeValueMemberN{Value: "1"},
			":limit": &types.AttributeValueMemberN{Value: strconv.FormatInt(limit, 10)},
			":exp":   &types.AttributeValueMemberN{Value: strconv.FormatInt(expires.Unix(), 10)},
		},
	})
	var full *types.ConditionalCheckFailedException
	if errors.As(err, &full) {
		return false, nil
	}
	return err == nil, err
}

// Give is one UpdateItem: ADD -1 if the item still exists (a give-back
// never creates an item with a negative count).
func (d *Dynamo) Give(ctx context.Context, key string) error {
	_, err := d.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(d.Table),
		Key:                       map[string]types.AttributeValue{KeyAttr: &types.AttributeValueMemberS{Value: key}},
		UpdateExpression:          aws.String("ADD #c :minus"),
		ConditionExpression:       aws.String("attribute_exists(#c) AND #c > :zero"),
		ExpressionAttributeNames:  map[string]string{"#c": CountAttr},
		ExpressionAttributeValues: map[string]types.AttributeValue{":minus": &types.AttributeValueMemberN{Value: "-1"}, ":zero": &types.AttributeValueMemberN{Value: "0"}},
	})
	var gone *types.ConditionalCheckFailedException
	if errors.As(err, &gone) {
		return nil
	}
	return err
}
