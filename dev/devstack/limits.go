package devstack

import (
	"context"
	"fmt"
	"strconv"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/trulience-token/trulience-token/dev/moto"
)

// Limits turn the function's token limits on, counted in a table in the
// stack's moto_server, reached through an AWSProxy (Stack.DynamoDB).
type Limits struct {
	// Client is CLIENT_TOKEN_LIMIT (e.g. 5/10m) and Daily DAILY_TOKEN_LIMIT
	// (e.g. 1000); empty leaves that limit off.
	Client, Daily string
	// Table is the table's name; stacks sharing a moto_server and a name
	// share the counts (two function processes, one table). Empty makes a
	// table of the stack's own. It is created, with TTL on, when missing.
	Table string
	// HashKey is LIMITS_HASH_KEY; empty derives one from Table, so stacks
	// sharing a table count a visitor alike.
	HashKey string
}

// serialWrites serializes UpdateItem per moto_server: moto evaluates a
// condition and applies the update without a lock, so two writes to one
// item at once can both pass the condition, where DynamoDB applies writes
// to one item one after another. One lock per moto endpoint makes the
// stacks that share it see DynamoDB's behaviour.
var serialWrites sync.Map // moto URL -> *sync.Mutex

// startLimits makes the table and the proxy and sets the function's variables.
func (s *Stack) startLimits(ctx context.Context, l *Limits, env map[string]string) error {
	s.LimitsTable = l.Table
	if s.LimitsTable == "" {
		s.LimitsTable = "devstack-" + randHex(4) + "-limits"
	}
	if err := moto.CreateLimitsTable(ctx, s.Moto.URL, s.LimitsTable); err != nil {
		return fmt.Errorf("devstack: creating the limits table in moto: %w", err)
	}
	var err error
	if s.DynamoDB, err = StartAWSProxy(s.Moto.URL); err != nil {
		return err
	}
	lock, _ := serialWrites.LoadOrStore(s.Moto.URL, &sync.Mutex{})
	s.DynamoDB.serial = map[string]*sync.Mutex{"UpdateItem": lock.(*sync.Mutex)}
	s.closers = append(s.closers, s.DynamoDB.Close)

	hashKey := l.HashKey
	if hashKey == "" {
		hashKey = "devstack:" + s.LimitsTable
	}
	env["CLIENT_TOKEN_LIMIT"] = l.Client
	env["DAILY_TOKEN_LIMIT"] = l.Daily
	env["LIMITS_TABLE"] = s.LimitsTable
	env["LIMITS_HASH_KEY"] = hashKey
	env["AWS_ENDPOINT_URL_DYNAMODB"] = s.DynamoDB.URL
	return nil
}

// LimitItem is one counter of the limits table, as stored.
type LimitItem struct {
	Key       string
	Count     int64
	ExpiresAt int64
	// Attributes are all the item's attributes, as strings.
	Attributes map[string]string
}

// LimitItems reads every counter of the stack's limits table straight
// from moto (not through the proxy, so the function's call counts stay
// its own).
func (s *Stack) LimitItems(ctx context.Context) ([]LimitItem, error) {
	items, err := moto.Items(ctx, s.Moto.URL, s.LimitsTable)
	if err != nil {
		return nil, err
	}
	var out []LimitItem
	for _, it := range items {
		li := LimitItem{Attributes: map[string]string{}}
		for k, v := range it {
			switch v := v.(type) {
			case *types.AttributeValueMemberS:
				li.Attributes[k] = v.Value
			case *types.AttributeValueMemberN:
				li.Attributes[k] = v.Value
			default:
				li.Attributes[k] = fmt.Sprintf("%T", v)
			}
		}
		li.Key = li.Attributes["pk"]
		li.Count, _ = strconv.ParseInt(li.Attributes["tokens"], 10, 64)
		li.ExpiresAt, _ = strconv.ParseInt(li.Attributes["expires_at"], 10, 64)
		out = append(out, li)
	}
	return out, nil
}
