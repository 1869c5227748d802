package sessions

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// SweepBatch bounds how many sessions one Sweep ends, so a webhook call
// stays fast however many sessions were left without a disconnect; each
// call ends the oldest.
const SweepBatch = 5

// maxPages bounds the Query of the live markers (1 MB a page: far more
// sessions than any cap).
const maxPages = 10

// Marker is one live session's marker.
type Marker struct {
	SessionID, AvatarID string
	Start, MaxEnd       int64
}

// Swept is what Sweep did.
type Swept struct {
	// Ended are the seconds of each session it ended.
	Ended []int64
	// Live is how many sessions are live now (markers whose max_end is
	// after now).
	Live int
}

// Sweep ends the live sessions whose time is up (max_end ≤ now), as a
// disconnect at their max_end, at most SweepBatch of them, and counts
// the sessions still live.
func (l *Ledger) Sweep(ctx context.Context, now time.Time) (Swept, error) {
	markers, err := l.Markers(ctx)
	if err != nil {
		return Swept{}, err
	}
	var due []Marker
	sw := Swept{}
	for _, m := range markers {
		if m.MaxEnd <= now.Unix() {
			due = append(due, m)
		} else {
			sw.Live++
		}
	}
	slices.SortFunc(due, func(a, b Marker) int { return cmp.Compare(a.MaxEnd, b.MaxEnd) })
	due = due[:min(len(due), SweepBatch)]
	changes := make([]Change, len(due))
	errs := make([]error, len(due))
	var wg sync.WaitGroup
	for i, m := range due {
		wg.Go(func() { changes[i], errs[i] = l.expire(ctx, m) })
	}
	wg.Wait()
	for _, ch := range changes {
		if ch.Ended {
			sw.Ended = append(sw.Ended, ch.Seconds)
		}
	}
	return sw, errors.Join(errs...)
}

// expire ends m's session at its max_end, from what the marker holds
// (written with the session, in one transaction). A session no longer
// live (a disconnect came meanwhile) is left alone; a marker whose
// session is not live is removed.
func (l *Ledger) expire(ctx context.Context, m Marker) (Change, error) {
	return l.apply(ctx, func(ctx context.Context, attempt int) ([]types.TransactWriteItem, Change, error) {
		s := session{avatar: m.AvatarID, state: StateLive, start: m.Start, maxEnd: m.MaxEnd}
		if attempt > 0 {
			var found bool
			var err error
			if s, found, err = l.get(ctx, m.SessionID); err != nil {
				return nil, Change{}, err
			}
			if !found || s.state != StateLive {
				return []types.TransactWriteItem{{Delete: &types.Delete{TableName: aws.String(l.table), Key: key(livePK, m.SessionID)}}}, Change{}, nil
			}
		}
		items, seconds := l.end(m.SessionID, s, m.MaxEnd, StateLive)
		return items, Change{Recorded: true, Ended: true, Seconds: seconds}, nil
	})
}

// Markers reads every live marker (strongly consistent).
func (l *Ledger) Markers(ctx context.Context) ([]Marker, error) {
	var out []Marker
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(l.table),
		KeyConditionExpression:    aws.String("#pk = :live"),
		ExpressionAttributeNames:  map[string]string{"#pk": attrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":live": str(livePK)},
		ConsistentRead:            aws.Bool(true),
	}
	for range maxPages {
		page, err := l.client.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("reading the live markers of %s: %w", l.table, err)
		}
		for _, it := range page.Items {
			out = append(out, Marker{SessionID: getS(it, attrSK), AvatarID: getS(it, attrAvatar), Start: getN(it, attrStart), MaxEnd: getN(it, attrMaxEnd)})
		}
		if len(page.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
	return out, nil
}

// Usage is what the caps read.
type Usage struct {
	// Live is the number of live sessions.
	Live int64
	// Seconds are today's session seconds (UTC day): the ended sessions'
	// and today's part of the live ones'.
	Seconds int64
}

// Usage reads the live markers and, withDay, today's total, both at once.
func (l *Ledger) Usage(ctx context.Context, now time.Time, withDay bool) (Usage, error) {
	var markers []Marker
	var ended int64
	var mErr, dErr error
	var wg sync.WaitGroup
	if withDay {
		wg.Go(func() { ended, dErr = l.dayTotal(ctx, now) })
	}
	markers, mErr = l.Markers(ctx)
	wg.Wait()
	if err := errors.Join(mErr, dErr); err != nil {
		return Usage{}, err
	}
	u := Usage{Seconds: ended}
	today := now.UTC().Truncate(24 * time.Hour).Unix()
	for _, m := range markers {
		if m.MaxEnd > now.Unix() {
			u.Live++
		}
		// A session past its max_end that the sweep has not ended yet
		// counts until its max_end.
		if withDay {
			u.Seconds += max(0, min(now.Unix(), m.MaxEnd)-max(m.Start, today))
		}
	}
	return u, nil
}

// dayTotal is the seconds of the sessions ended (so far) in now's UTC day.
func (l *Ledger) dayTotal(ctx context.Context, now time.Time) (int64, error) {
	out, err := l.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(l.table), Key: key(DayPK(now), dayTotalSK), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return 0, fmt.Errorf("GetItem %s: %w", l.table, err)
	}
	return getN(out.Item, attrSeconds), nil
}

// Preconnect reads one item that never exists, during init, so that the
// connection to DynamoDB is open before the first request needs it. A
// failure only means the first request opens it.
func (l *Ledger) Preconnect(ctx context.Context) error {
	_, err := l.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(l.table), Key: key("preconnect", "preconnect")})
	return err
}
