package sessions

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// fakeDB is the DynamoDB the ledger's unit tests hand in: a table of pk+sk
// items, applying each TransactWriteItems whole or not at all, as
// DynamoDB does. It understands only the expressions the ledger writes and
// fails the call on any other, so a ledger change that DynamoDB would
// read differently shows up here rather than in production.
type fakeDB struct {
	mu    sync.Mutex
	items map[[2]string]map[string]types.AttributeValue
	// conflicts is how many of the next transactions are cancelled with
	// TransactionConflict.
	conflicts int
	// fail, when set, is returned by every call.
	fail error
	// calls counts calls by operation.
	calls map[string]int
	// beforeWrite, when set, runs before each transaction is applied
	// (with the lock released): a concurrent writer's moment.
	beforeWrite func()
	// beforeRead and afterRead, when set, run around each GetItem and
	// Query (with the lock released), given the operation and the pk read.
	beforeRead, afterRead func(op, pk string)
}

func newFakeDB() *fakeDB {
	return &fakeDB{items: map[[2]string]map[string]types.AttributeValue{}, calls: map[string]int{}}
}

func keyOf(k map[string]types.AttributeValue) [2]string {
	return [2]string{getS(k, attrPK), getS(k, attrSK)}
}

func (f *fakeDB) count(op string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[op]++
	return f.fail
}

func (f *fakeDB) GetItem(ctx context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	if err := f.count("GetItem"); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	pk := getS(in.Key, attrPK)
	if f.beforeRead != nil {
		f.beforeRead("GetItem", pk)
	}
	f.mu.Lock()
	out := &dynamodb.GetItemOutput{Item: clone(f.items[keyOf(in.Key)])}
	f.mu.Unlock()
	if f.afterRead != nil {
		f.afterRead("GetItem", pk)
	}
	return out, nil
}

func (f *fakeDB) Query(ctx context.Context, in *dynamodb.QueryInput, _ ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	if err := f.count("Query"); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if aws.ToString(in.KeyConditionExpression) != "#pk = :live" || in.ExpressionAttributeNames["#pk"] != attrPK {
		return nil, fmt.Errorf("fake: unsupported KeyConditionExpression %q", aws.ToString(in.KeyConditionExpression))
	}
	pk := getS(in.ExpressionAttributeValues, ":live")
	if f.beforeRead != nil {
		f.beforeRead("Query", pk)
	}
	f.mu.Lock()
	out := &dynamodb.QueryOutput{}
	for k, it := range f.items {
		if k[0] == pk {
			out.Items = append(out.Items, clone(it))
		}
	}
	f.mu.Unlock()
	if f.afterRead != nil {
		f.afterRead("Query", pk)
	}
	return out, nil
}

func (f *fakeDB) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, _ ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	if err := f.count("TransactWriteItems"); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(in.TransactItems) == 0 || len(in.TransactItems) > 100 {
		return nil, fmt.Errorf("fake: ValidationException: %d items", len(in.TransactItems))
	}
	if f.beforeWrite != nil {
		f.beforeWrite()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.conflicts > 0 {
		f.conflicts--
		reasons := make([]types.CancellationReason, len(in.TransactItems))
		for i := range reasons {
			reasons[i].Code = aws.String("None")
		}
		reasons[0].Code = aws.String("TransactionConflict")
		return nil, &types.TransactionCanceledException{Message: aws.String("Transaction cancelled"), CancellationReasons: reasons}
	}
	// Work on a copy: the transaction applies whole or not at all.
	next := map[[2]string]map[string]types.AttributeValue{}
	for k, v := range f.items {
		next[k] = v
	}
	seen := map[[2]string]bool{}
	reasons := make([]types.CancellationReason, len(in.TransactItems))
	failed := false
	for i, ti := range in.TransactItems {
		reasons[i].Code = aws.String("None")
		var k [2]string
		var cond *string
		var names map[string]string
		var values map[string]types.AttributeValue
		switch {
		case ti.Put != nil:
			k, cond, names, values = keyOf(ti.Put.Item), ti.Put.ConditionExpression, ti.Put.ExpressionAttributeNames, ti.Put.ExpressionAttributeValues
		case ti.Update != nil:
			k, cond, names, values = keyOf(ti.Update.Key), ti.Update.ConditionExpression, ti.Update.ExpressionAttributeNames, ti.Update.ExpressionAttributeValues
		case ti.Delete != nil:
			k, cond, names, values = keyOf(ti.Delete.Key), ti.Delete.ConditionExpression, ti.Delete.ExpressionAttributeNames, ti.Delete.ExpressionAttributeValues
		default:
			return nil, errors.New("fake: unsupported transaction item")
		}
		if seen[k] {
			return nil, errors.New("fake: ValidationException: Transaction request cannot include multiple operations on one item")
		}
		seen[k] = true
		ok, err := holds(aws.ToString(cond), names, values, next[k])
		if err != nil {
			return nil, err
		}
		if !ok {
			reasons[i].Code = aws.String("ConditionalCheckFailed")
			failed = true
			continue
		}
		switch {
		case ti.Put != nil:
			next[k] = clone(ti.Put.Item)
		case ti.Delete != nil:
			delete(next, k)
		case ti.Update != nil:
			it := clone(next[k])
			if it == nil {
				it = clone(ti.Update.Key)
			}
			if err := update(aws.ToString(ti.Update.UpdateExpression), names, values, it); err != nil {
				return nil, err
			}
			next[k] = it
		}
	}
	if failed {
		return nil, &types.TransactionCanceledException{Message: aws.String("Transaction cancelled"), CancellationReasons: reasons}
	}
	f.items = next
	return &dynamodb.TransactWriteItemsOutput{}, nil
}

// holds evaluates the two conditions the ledger writes.
func holds(cond string, names map[string]string, values map[string]types.AttributeValue, item map[string]types.AttributeValue) (bool, error) {
	switch {
	case cond == "":
		return true, nil
	case cond == "attribute_not_exists(#pk)" && names["#pk"] == attrPK:
		return item == nil, nil
	case cond == "#state = :from" && names["#state"] == attrState:
		return item != nil && getS(item, attrState) == getS(values, ":from"), nil
	}
	return false, fmt.Errorf("fake: unsupported ConditionExpression %q", cond)
}

var clause = regexp.MustCompile(`(SET|ADD) `)

// update applies SET a = :v and ADD n :v actions.
func update(expr string, names map[string]string, values map[string]types.AttributeValue, item map[string]types.AttributeValue) error {
	locs := clause.FindAllStringIndex(expr, -1)
	if len(locs) == 0 || locs[0][0] != 0 {
		return fmt.Errorf("fake: unsupported UpdateExpression %q", expr)
	}
	for i, loc := range locs {
		end := len(expr)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		verb := expr[loc[0] : loc[1]-1]
		for action := range strings.SplitSeq(strings.TrimSpace(expr[loc[1]:end]), ",") {
			f := strings.Fields(action)
			switch {
			case verb == "SET" && len(f) == 3 && f[1] == "=" && names[f[0]] != "" && values[f[2]] != nil:
				item[names[f[0]]] = values[f[2]]
			case verb == "ADD" && len(f) == 2 && names[f[0]] != "":
				v, ok := values[f[1]].(*types.AttributeValueMemberN)
				if !ok {
					return fmt.Errorf("fake: ADD of a non-number in %q", expr)
				}
				n, _ := strconv.ParseInt(v.Value, 10, 64)
				item[names[f[0]]] = num(getN(item, names[f[0]]) + n)
			default:
				return fmt.Errorf("fake: unsupported action %q in %q", action, expr)
			}
		}
	}
	return nil
}

func clone(it map[string]types.AttributeValue) map[string]types.AttributeValue {
	if it == nil {
		return nil
	}
	out := make(map[string]types.AttributeValue, len(it))
	for k, v := range it {
		out[k] = v
	}
	return out
}

// item is the stored item pk/sk as strings, nil when absent.
func (f *fakeDB) item(pk, sk string) map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	it := f.items[[2]string{pk, sk}]
	if it == nil {
		return nil
	}
	out := map[string]string{}
	for k, v := range it {
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			out[k] = v.Value
		case *types.AttributeValueMemberN:
			out[k] = v.Value
		}
	}
	return out
}

// markers counts the live markers.
func (f *fakeDB) markers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for k := range f.items {
		if k[0] == livePK {
			n++
		}
	}
	return n
}

// size is the number of items.
func (f *fakeDB) size() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.items)
}

// blocking is a DynamoDB that answers no read before the caller gives up.
type blocking struct{ *fakeDB }

func (blocking) Query(ctx context.Context, _ *dynamodb.QueryInput, _ ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func (blocking) GetItem(ctx context.Context, _ *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// ttl deletes the items whose expires_at is at or before now, as
// DynamoDB's TTL does (eventually; here at once).
func (f *fakeDB) ttl(now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for k, it := range f.items {
		if e := getN(it, attrExpires); e != 0 && e <= now.Unix() {
			delete(f.items, k)
		}
	}
}
