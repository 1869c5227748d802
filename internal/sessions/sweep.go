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

// maxReadings bounds how many times Usage reads the ledger while
// sessions keep ending under it.
const maxReadings = 4

// Glance reads the live markers and, withDay, today's total, once, at the
// same time: one round trip. A session that ends between the two reads is
// counted twice or not at all (see Usage), so the guard takes a Glance
// that would refuse a mint as a hint only, and settles it with Usage.
func (l *Ledger) Glance(ctx context.Context, now time.Time, withDay bool) (Usage, error) {
	if !withDay {
		markers, err := l.Markers(ctx)
		if err != nil {
			return Usage{}, err
		}
		return usageOf(reading{markers: markers}, now, false), nil
	}
	r, err := l.read(ctx, now)
	if err != nil {
		return Usage{}, err
	}
	return usageOf(r, now, true), nil
}

// errBusy is Usage giving up: sessions ended between each of its readings.
var errBusy = errors.New("sessions kept ending while the ledger was read")

// Usage reads the live markers and, withDay, today's total.
//
// The two are separate reads, so a session that ends between them would
// be counted twice (in the total and by its marker) or not at all. So,
// withDay, both are read at once, twice, the second pair sent after the
// first answered. Every session end removes a marker and adds to the
// total (its seconds today, or its count when it began today; an end
// that adds neither has no time today to count twice or miss either).
// When the totals are equal and every marker of the first reading is
// still there, no session ended between the first pair's reads and the
// second's, and the second reading is used. Otherwise read again,
// up to maxReadings, within ctx's deadline. That is two round trips, not
// one, and twice the reads: the guard pays it only when a Glance says the
// daily budget is spent, so a mint is never refused on a session counted
// twice. Without the day, one Query is exact.
func (l *Ledger) Usage(ctx context.Context, now time.Time, withDay bool) (Usage, error) {
	if !withDay {
		markers, err := l.Markers(ctx)
		if err != nil {
			return Usage{}, err
		}
		return usageOf(reading{markers: markers}, now, false), nil
	}
	prev, err := l.read(ctx, now)
	if err != nil {
		return Usage{}, err
	}
	for range maxReadings - 1 {
		cur, err := l.read(ctx, now)
		if err != nil {
			return Usage{}, err
		}
		if cur.after(prev) {
			return usageOf(cur, now, true), nil
		}
		prev = cur
	}
	return Usage{}, errBusy
}

// reading is one read of today's total and the live markers, at once.
type reading struct {
	day     dayTotal
	markers []Marker
}

// after reports whether no session ended between prev and r: today's
// total is the same, and no marker of prev is gone.
func (r reading) after(prev reading) bool {
	if r.day != prev.day {
		return false
	}
	ids := make(map[string]bool, len(r.markers))
	for _, m := range r.markers {
		ids[m.SessionID] = true
	}
	for _, m := range prev.markers {
		if !ids[m.SessionID] {
			return false
		}
	}
	return true
}

func (l *Ledger) read(ctx context.Context, now time.Time) (reading, error) {
	var r reading
	var dErr error
	var wg sync.WaitGroup
	wg.Go(func() { r.day, dErr = l.dayTotal(ctx, now) })
	markers, mErr := l.Markers(ctx)
	wg.Wait()
	r.markers = markers
	return r, errors.Join(mErr, dErr)
}

func usageOf(r reading, now time.Time, withDay bool) Usage {
	u := Usage{Seconds: r.day.seconds}
	today := now.UTC().Truncate(24 * time.Hour).Unix()
	for _, m := range r.markers {
		if m.MaxEnd > now.Unix() {
			u.Live++
		}
		// A session past its max_end that the sweep has not ended yet
		// counts until its max_end.
		if withDay {
			u.Seconds += max(0, min(now.Unix(), m.MaxEnd)-max(m.Start, today))
		}
	}
	return u
}

// dayTotal is today's total item: the seconds and number of the sessions
// ended (so far) in the UTC day.
type dayTotal struct{ seconds, sessions int64 }

// dayTotal reads now's UTC day's total.
func (l *Ledger) dayTotal(ctx context.Context, now time.Time) (dayTotal, error) {
	out, err := l.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(l.table), Key: key(DayPK(now), dayTotalSK), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return dayTotal{}, fmt.Errorf("GetItem %s: %w", l.table, err)
	}
	return dayTotal{seconds: getN(out.Item, attrSeconds), sessions: getN(out.Item, attrSessions)}, nil
}

// Preconnect reads one item that never exists, during init, so that the
// connection to DynamoDB is open before the first request needs it. A
// failure only means the first request opens it.
func (l *Ledger) Preconnect(ctx context.Context) error {
	_, err := l.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(l.table), Key: key("preconnect", "preconnect")})
	return err
}
