// Package sessions is the session ledger: what Trulience's webhook says
// about avatar sessions, recorded in a DynamoDB table exactly once however
// events are duplicated, reordered or delivered at once to many
// containers; and the caps the token function reads from it (Guard).
package sessions

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// API is the part of the DynamoDB client the ledger uses;
// *dynamodb.Client satisfies it.
type API interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// Session states.
const (
	StateLive  = "live"
	StateEnded = "ended"
	// StateEarlyEnd is a session whose disconnect came before its connect.
	StateEarlyEnd = "early_end"
)

// Attributes of the ledger's items (docs/sessions.md).
const (
	attrPK       = "pk"
	attrSK       = "sk"
	attrAvatar   = "avatar_id"
	attrState    = "state"
	attrStart    = "start"
	attrEnd      = "end"
	attrMaxEnd   = "max_end"
	attrSeconds  = "seconds"
	attrSessions = "sessions"
	attrExpires  = "expires_at"
)

// Keys and how long items are kept after they stop mattering.
const (
	sessionSK  = "session"
	livePK     = "live"
	dayTotalSK = "total"
	// sessionKeep also keeps a live marker, as long as its session item:
	// only the sweep, run by a webhook call, ends a session left without
	// its disconnect, and a marker gone first would leave its session
	// live, its seconds never counted, however late the next call comes.
	sessionKeep  = 35 * 24 * time.Hour
	dayKeep      = 40 * 24 * time.Hour
	maxAttempts  = 8
	backoffBase  = 10 * time.Millisecond
	backoffLimit = 200 * time.Millisecond
)

func sessionPK(id string) string { return "session#" + id }

// DayPK is the partition of the day items of the UTC day holding t.
func DayPK(t time.Time) string { return "day#" + t.UTC().Format(time.DateOnly) }

// Event is one session.connect or session.disconnect.
type Event struct {
	SessionID string
	AvatarID  string
	// At is the event's timestamp.
	At time.Time
	// MaxDuration is a connect's max_session_duration; 0 when not given.
	MaxDuration time.Duration
}

// Change is what one event (or the sweep, for one session) did to the ledger.
type Change struct {
	// Recorded is false for a duplicate or an event already accounted for.
	Recorded bool
	// Started: a session became live. Ended: a session ended, counting Seconds.
	Started, Ended bool
	Seconds        int64
}

// Ledger records sessions in a DynamoDB table.
type Ledger struct {
	client API
	table  string
	// sessionMax is how long a session without max_session_duration
	// counts as live (SESSION_MAX_MINUTES).
	sessionMax time.Duration
	// pause waits between attempts that conflicted (a timer; tests
	// replace it).
	pause func(ctx context.Context, d time.Duration) error
}

// New returns the ledger in table; a session whose connect names no
// max_session_duration counts as live for sessionMax at most.
func New(client API, table string, sessionMax time.Duration) *Ledger {
	return &Ledger{client: client, table: table, sessionMax: sessionMax, pause: sleep}
}

// session is a session item as read.
type session struct {
	avatar, state      string
	start, end, maxEnd int64
}

// Connect records a session.connect.
func (l *Ledger) Connect(ctx context.Context, e Event) (Change, error) {
	at := e.At.Unix()
	d := e.MaxDuration
	if d <= 0 {
		d = l.sessionMax
	}
	maxEnd := at + int64(d/time.Second)
	return l.apply(ctx, func(ctx context.Context, attempt int) ([]types.TransactWriteItem, Change, error) {
		s, found := session{}, false
		if attempt > 0 { // the first try assumes a new session, as most are
			var err error
			if s, found, err = l.get(ctx, e.SessionID); err != nil {
				return nil, Change{}, err
			}
		}
		switch {
		case !found:
			return l.startLive(e.SessionID, e.AvatarID, at, maxEnd), Change{Recorded: true, Started: true}, nil
		case s.state == StateEarlyEnd:
			s.avatar, s.start, s.maxEnd = e.AvatarID, at, maxEnd
			items, secs := l.end(e.SessionID, s, s.end, StateEarlyEnd)
			return items, Change{Recorded: true, Ended: true, Seconds: secs}, nil
		default:
			return nil, Change{}, nil
		}
	})
}

// Disconnect records a session.disconnect.
func (l *Ledger) Disconnect(ctx context.Context, e Event) (Change, error) {
	at := e.At.Unix()
	return l.apply(ctx, func(ctx context.Context, _ int) ([]types.TransactWriteItem, Change, error) {
		s, found, err := l.get(ctx, e.SessionID)
		if err != nil {
			return nil, Change{}, err
		}
		switch {
		case !found:
			return l.earlyEnd(e.SessionID, e.AvatarID, at), Change{Recorded: true}, nil
		case s.state == StateLive:
			items, secs := l.end(e.SessionID, s, at, StateLive)
			return items, Change{Recorded: true, Ended: true, Seconds: secs}, nil
		default:
			return nil, Change{}, nil
		}
	})
}

// startLive is a new live session and its live marker.
func (l *Ledger) startLive(id, avatar string, start, maxEnd int64) []types.TransactWriteItem {
	return []types.TransactWriteItem{
		{Put: &types.Put{
			TableName: aws.String(l.table),
			Item: map[string]types.AttributeValue{
				attrPK: str(sessionPK(id)), attrSK: str(sessionSK),
				attrAvatar: str(avatar), attrState: str(StateLive),
				attrStart: num(start), attrMaxEnd: num(maxEnd),
				attrExpires: num(maxEnd + secs(sessionKeep)),
			},
			ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
			ExpressionAttributeNames: map[string]string{"#pk": attrPK},
		}},
		{Put: &types.Put{
			TableName: aws.String(l.table),
			Item: map[string]types.AttributeValue{
				attrPK: str(livePK), attrSK: str(id),
				attrAvatar: str(avatar), attrStart: num(start), attrMaxEnd: num(maxEnd),
				attrExpires: num(maxEnd + secs(sessionKeep)),
			},
		}},
	}
}

// earlyEnd is a session whose disconnect came first: it counts once its
// connect arrives.
func (l *Ledger) earlyEnd(id, avatar string, end int64) []types.TransactWriteItem {
	return []types.TransactWriteItem{{Put: &types.Put{
		TableName: aws.String(l.table),
		Item: map[string]types.AttributeValue{
			attrPK: str(sessionPK(id)), attrSK: str(sessionSK),
			attrAvatar: str(avatar), attrState: str(StateEarlyEnd),
			attrEnd: num(end), attrExpires: num(end + secs(sessionKeep)),
		},
		ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": attrPK},
	}}}
}

// end ends session s (in state from) at `at`, or at its max_end if that
// is earlier: the session item, the live marker's removal (from a live
// session) and the day items. It returns them and the session's seconds.
func (l *Ledger) end(id string, s session, at int64, from string) ([]types.TransactWriteItem, int64) {
	end := min(at, s.maxEnd)
	end = max(end, s.start)
	seconds := end - s.start
	values := map[string]types.AttributeValue{
		":from": str(from), ":ended": str(StateEnded), ":end": num(end), ":sec": num(seconds),
		":exp": num(end + secs(sessionKeep)),
	}
	set := "SET #state = :ended, #end = :end, #sec = :sec, #exp = :exp"
	names := map[string]string{"#state": attrState, "#end": attrEnd, "#sec": attrSeconds, "#exp": attrExpires}
	if from == StateEarlyEnd {
		set += ", #avatar = :avatar, #start = :start, #maxend = :maxend"
		names["#avatar"], names["#start"], names["#maxend"] = attrAvatar, attrStart, attrMaxEnd
		values[":avatar"], values[":start"], values[":maxend"] = str(s.avatar), num(s.start), num(s.maxEnd)
	}
	items := []types.TransactWriteItem{{Update: &types.Update{
		TableName:                 aws.String(l.table),
		Key:                       key(sessionPK(id), sessionSK),
		UpdateExpression:          aws.String(set),
		ConditionExpression:       aws.String("#state = :from"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	}}}
	if from == StateLive {
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(l.table), Key: key(livePK, id)}})
	}
	for _, d := range splitDays(s.start, end) {
		n := int64(0)
		if d.first {
			n = 1
		}
		for _, sk := range []string{dayTotalSK, "avatar#" + s.avatar} {
			items = append(items, types.TransactWriteItem{Update: &types.Update{
				TableName:                aws.String(l.table),
				Key:                      key(d.pk, sk),
				UpdateExpression:         aws.String("ADD #sec :sec, #n :n SET #exp = :exp"),
				ExpressionAttributeNames: map[string]string{"#sec": attrSeconds, "#n": attrSessions, "#exp": attrExpires},
				ExpressionAttributeValues: map[string]types.AttributeValue{
					":sec": num(d.seconds), ":n": num(n), ":exp": num(d.start + secs(dayKeep)),
				},
			}})
		}
	}
	return items, seconds
}

// dayPart is the part of a session in one UTC day.
type dayPart struct {
	pk      string
	start   int64 // the day's start
	seconds int64
	first   bool // the day the session started in, which counts it
}

// splitDays splits [start, end) by UTC day; a session of no seconds is
// still counted, in its first day.
func splitDays(start, end int64) []dayPart {
	var out []dayPart
	for t := start; ; {
		day := time.Unix(t, 0).UTC().Truncate(24 * time.Hour).Unix()
		next := day + 86400
		out = append(out, dayPart{pk: DayPK(time.Unix(day, 0)), start: day, seconds: min(end, next) - t, first: t == start})
		if end <= next {
			return out
		}
		t = next
	}
}

// get reads session id's item (strongly consistent: the state it
// decides on must be the latest).
func (l *Ledger) get(ctx context.Context, id string) (session, bool, error) {
	out, err := l.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(l.table), Key: key(sessionPK(id), sessionSK), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return session{}, false, fmt.Errorf("GetItem %s: %w", l.table, err)
	}
	if out.Item == nil {
		return session{}, false, nil
	}
	return session{
		avatar: getS(out.Item, attrAvatar), state: getS(out.Item, attrState),
		start: getN(out.Item, attrStart), end: getN(out.Item, attrEnd), maxEnd: getN(out.Item, attrMaxEnd),
	}, true, nil
}

// decision is the write one attempt makes, and what it changes; no items
// means nothing is to be written (a duplicate).
type decision func(ctx context.Context, attempt int) ([]types.TransactWriteItem, Change, error)

// apply writes what decide says as one transaction. When the session
// item's condition fails, its state changed since it was read: decide
// again. When the transaction conflicts with another on the same items,
// try again after a jittered pause, while the context's deadline allows.
func (l *Ledger) apply(ctx context.Context, decide decision) (Change, error) {
	for attempt := 0; ; attempt++ {
		items, ch, err := decide(ctx, attempt)
		if err != nil || len(items) == 0 {
			return ch, err
		}
		_, err = l.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err == nil {
			return ch, nil
		}
		conflict, changed := cancelled(err)
		if !(conflict || changed) || attempt+1 >= maxAttempts {
			return Change{}, fmt.Errorf("TransactWriteItems %s: %w", l.table, err)
		}
		if conflict {
			if err := l.backoff(ctx, attempt); err != nil {
				return Change{}, fmt.Errorf("TransactWriteItems %s: conflicts until the deadline: %w", l.table, err)
			}
		}
	}
}

// cancelled reads a TransactionCanceledException: conflict when another
// transaction held the items, changed when the session item's condition
// failed.
func cancelled(err error) (conflict, changed bool) {
	var tc *types.TransactionCanceledException
	if !errors.As(err, &tc) {
		return false, false
	}
	for i, r := range tc.CancellationReasons {
		switch aws.ToString(r.Code) {
		case "TransactionConflict":
			conflict = true
		case "ConditionalCheckFailed":
			changed = changed || i == 0
		}
	}
	return conflict, changed
}

// backoff waits before attempt+1: full jitter over an exponential step,
// unless the wait would end past ctx's deadline.
func (l *Ledger) backoff(ctx context.Context, attempt int) error {
	step := min(backoffBase<<attempt, backoffLimit)
	d := step/2 + rand.N(step/2+1)
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
		return context.DeadlineExceeded
	}
	return l.pause(ctx, d)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: str(pk), attrSK: str(sk)}
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

func secs(d time.Duration) int64 { return int64(d / time.Second) }

func getS(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func getN(item map[string]types.AttributeValue, name string) int64 {
	if v, ok := item[name].(*types.AttributeValueMemberN); ok {
		n, _ := strconv.ParseInt(v.Value, 10, 64)
		return n
	}
	return 0
}
