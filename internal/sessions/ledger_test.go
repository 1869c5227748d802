package sessions

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"
)

const avatar = "4386676996480451678"

// t0 is 10:00 UTC on a day; events are placed relative to it.
var t0 = time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC)

func newLedger(db *fakeDB) *Ledger {
	l := New(db, "sessions", time.Hour)
	l.pause = func(context.Context, time.Duration) error { return nil }
	return l
}

func ev(id string, at time.Time) Event { return Event{SessionID: id, AvatarID: avatar, At: at} }

// must returns what a ledger call changed, ending t on its error.
func must(t *testing.T) func(Change, error) Change {
	return func(ch Change, err error) Change {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return ch
	}
}

// check is must for other goroutines: it marks t failed and goes on.
func check(t *testing.T) func(Change, error) {
	return func(_ Change, err error) {
		if err != nil {
			t.Error(err)
		}
	}
}

// day is the day items of the UTC day of at: seconds and sessions, in
// total and for the avatar.
func day(t *testing.T, db *fakeDB, at time.Time) (seconds, sessions int64) {
	t.Helper()
	total, av := db.item(DayPK(at), "total"), db.item(DayPK(at), "avatar#"+avatar)
	if (total == nil) != (av == nil) || (total != nil && (total["seconds"] != av["seconds"] || total["sessions"] != av["sessions"])) {
		t.Fatalf("day %s: total %v and avatar %v differ", DayPK(at), total, av)
	}
	if total == nil {
		return 0, 0
	}
	s, _ := strconv.ParseInt(total["seconds"], 10, 64)
	n, _ := strconv.ParseInt(total["sessions"], 10, 64)
	return s, n
}

func TestLedgerRules(t *testing.T) {
	type step struct {
		disconnect bool
		at         time.Duration // after t0
		maxDur     time.Duration
		want       Change
	}
	c := func(at time.Duration, want Change) step { return step{at: at, want: want} }
	d := func(at time.Duration, want Change) step { return step{disconnect: true, at: at, want: want} }
	started := Change{Recorded: true, Started: true}
	ended := func(s int64) Change { return Change{Recorded: true, Ended: true, Seconds: s} }
	tests := []struct {
		name        string
		steps       []step
		wantState   string
		wantMarkers int
		wantSeconds int64 // today's
		wantCount   int64
	}{
		{"connect", []step{c(0, started)}, StateLive, 1, 0, 0},
		{"connect, disconnect", []step{c(0, started), d(90*time.Second, ended(90))}, StateEnded, 0, 90, 1},
		{"duplicate connect", []step{c(0, started), c(0, Change{}), d(60*time.Second, ended(60)), c(0, Change{})}, StateEnded, 0, 60, 1},
		{"duplicate disconnect", []step{c(0, started), d(60*time.Second, ended(60)), d(60*time.Second, Change{}), d(120*time.Second, Change{})}, StateEnded, 0, 60, 1},
		{"disconnect first", []step{d(75*time.Second, Change{Recorded: true}), c(0, ended(75))}, StateEnded, 0, 75, 1},
		{"disconnect first, twice", []step{d(75*time.Second, Change{Recorded: true}), d(75*time.Second, Change{}), c(0, ended(75)), c(0, Change{}), d(75*time.Second, Change{})}, StateEnded, 0, 75, 1},
		{"disconnect before its connect's time", []step{d(0, Change{Recorded: true}), c(time.Minute, ended(0))}, StateEnded, 0, 0, 1},
		{"disconnect after the default maximum", []step{c(0, started), d(3*time.Hour, ended(3600))}, StateEnded, 0, 3600, 1},
		{"disconnect after max_session_duration", []step{{at: 0, maxDur: 5 * time.Minute, want: started}, d(time.Hour, ended(300))}, StateEnded, 0, 300, 1},
		{"disconnect first, after max_session_duration", []step{d(time.Hour, Change{Recorded: true}), {at: 0, maxDur: 10 * time.Minute, want: ended(600)}}, StateEnded, 0, 600, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := newFakeDB()
			l := newLedger(db)
			for i, s := range tt.steps {
				e := ev("s1", t0.Add(s.at))
				e.MaxDuration = s.maxDur
				var ch Change
				var err error
				if s.disconnect {
					ch, err = l.Disconnect(context.Background(), e)
				} else {
					ch, err = l.Connect(context.Background(), e)
				}
				if err != nil || ch != s.want {
					t.Fatalf("step %d: %+v, %v; want %+v", i, ch, err, s.want)
				}
			}
			if got := db.item("session#s1", "session")["state"]; got != tt.wantState {
				t.Errorf("state %q, want %q", got, tt.wantState)
			}
			if got := db.markers(); got != tt.wantMarkers {
				t.Errorf("%d live markers, want %d", got, tt.wantMarkers)
			}
			if s, n := day(t, db, t0); s != tt.wantSeconds || n != tt.wantCount {
				t.Errorf("day: %d seconds, %d sessions; want %d, %d", s, n, tt.wantSeconds, tt.wantCount)
			}
		})
	}
}

func TestSessionItems(t *testing.T) {
	db := newFakeDB()
	l := newLedger(db)
	e := ev("abc-123", t0)
	e.MaxDuration = 20 * time.Minute
	must(t)(l.Connect(context.Background(), e))
	start, maxEnd := t0.Unix(), t0.Add(20*time.Minute).Unix()
	s := db.item("session#abc-123", "session")
	if s["avatar_id"] != avatar || s["state"] != "live" || s["start"] != fmt.Sprint(start) || s["max_end"] != fmt.Sprint(maxEnd) || s["expires_at"] != fmt.Sprint(maxEnd+35*86400) {
		t.Errorf("session item %v", s)
	}
	m := db.item("live", "abc-123")
	if m["avatar_id"] != avatar || m["start"] != fmt.Sprint(start) || m["max_end"] != fmt.Sprint(maxEnd) || m["expires_at"] != s["expires_at"] {
		t.Errorf("live marker %v", m)
	}
	must(t)(l.Disconnect(context.Background(), ev("abc-123", t0.Add(100*time.Second))))
	s = db.item("session#abc-123", "session")
	end := start + 100
	if s["state"] != "ended" || s["end"] != fmt.Sprint(end) || s["seconds"] != "100" || s["expires_at"] != fmt.Sprint(end+35*86400) {
		t.Errorf("ended session item %v", s)
	}
	dayStart := t0.Truncate(24 * time.Hour).Unix()
	if got := db.item("day#2026-03-14", "total")["expires_at"]; got != fmt.Sprint(dayStart+40*86400) {
		t.Errorf("day item expires_at %s, want %d", got, dayStart+40*86400)
	}
	if n := db.size(); n != 3 {
		t.Errorf("%d items, want the session and two day items", n)
	}
}

// A session across midnight adds each day's part to that day, and counts
// once, on the day it started.
func TestSessionAcrossMidnight(t *testing.T) {
	db := newFakeDB()
	l := newLedger(db)
	start := time.Date(2026, 3, 14, 23, 50, 0, 0, time.UTC)
	must(t)(l.Connect(context.Background(), ev("late", start)))
	must(t)(l.Disconnect(context.Background(), ev("late", start.Add(25*time.Minute))))
	if s, n := day(t, db, start); s != 600 || n != 1 {
		t.Errorf("first day: %d s, %d sessions; want 600, 1", s, n)
	}
	if s, n := day(t, db, start.Add(time.Hour)); s != 900 || n != 0 {
		t.Errorf("second day: %d s, %d sessions; want 900, 0", s, n)
	}
}

// Conflicting transactions are tried again, with a jittered pause each.
func TestConflictsRetried(t *testing.T) {
	db := newFakeDB()
	db.conflicts = 3
	l := newLedger(db)
	var pauses []time.Duration
	l.pause = func(_ context.Context, d time.Duration) error { pauses = append(pauses, d); return nil }
	ch := must(t)(l.Connect(context.Background(), ev("s", t0)))
	if !ch.Started || db.markers() != 1 {
		t.Fatalf("after conflicts: %+v, %d markers", ch, db.markers())
	}
	if len(pauses) != 3 {
		t.Fatalf("%d pauses, want 3", len(pauses))
	}
	for i, p := range pauses {
		step := min(backoffBase<<i, backoffLimit)
		if p < step/2 || p > step {
			t.Errorf("pause %d = %v, want %v to %v", i, p, step/2, step)
		}
	}
}

// Conflicts that outlast the deadline end in an error, and nothing is
// recorded.
func TestConflictsUntilDeadline(t *testing.T) {
	db := newFakeDB()
	db.conflicts = 1000
	l := New(db, "sessions", time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := l.Connect(ctx, ev("s", t0)); err == nil {
		t.Fatal("no error")
	}
	if time.Since(start) > 100*time.Millisecond {
		t.Errorf("took %v, past the deadline", time.Since(start))
	}
	if db.size() != 0 {
		t.Errorf("%d items recorded", db.size())
	}
}

func TestLedgerErrorsRecordNothing(t *testing.T) {
	db := newFakeDB()
	db.fail = fmt.Errorf("InternalServerError")
	l := newLedger(db)
	if _, err := l.Connect(context.Background(), ev("s", t0)); err == nil {
		t.Error("connect: no error")
	}
	if _, err := l.Disconnect(context.Background(), ev("s", t0)); err == nil {
		t.Error("disconnect: no error")
	}
	if db.size() != 0 {
		t.Errorf("%d items", db.size())
	}
}

// Deliveries of many sessions' events, each duplicated and in any order,
// at once, leave exact counts.
func TestConcurrentDeliveries(t *testing.T) {
	db := newFakeDB()
	// Let other goroutines run between a decision and its write, so
	// interleavings that would double-count happen.
	db.beforeWrite = func() { time.Sleep(time.Duration(rand.IntN(200)) * time.Microsecond) }
	l := newLedger(db)
	const n = 40
	var wg sync.WaitGroup
	for i := range n {
		id := "s" + strconv.Itoa(i)
		for range 3 {
			wg.Go(func() { check(t)(l.Connect(context.Background(), ev(id, t0))) })
			if i%2 == 0 {
				wg.Go(func() { check(t)(l.Disconnect(context.Background(), ev(id, t0.Add(30*time.Second)))) })
			}
		}
	}
	wg.Wait()
	if got := db.markers(); got != n/2 {
		t.Errorf("%d live markers, want %d", got, n/2)
	}
	if s, c := day(t, db, t0); s != 30*n/2 || c != n/2 {
		t.Errorf("day: %d s, %d sessions; want %d, %d", s, c, 30*n/2, n/2)
	}
}

func TestSweep(t *testing.T) {
	db := newFakeDB()
	l := newLedger(db)
	// 7 sessions whose time is up at t0+1m … t0+7m, one still live.
	for i := range 7 {
		e := ev("old"+strconv.Itoa(i), t0)
		e.MaxDuration = time.Duration(i+1) * time.Minute
		must(t)(l.Connect(context.Background(), e))
	}
	must(t)(l.Connect(context.Background(), ev("new", t0.Add(10*time.Minute))))
	now := t0.Add(20 * time.Minute)
	sw, err := l.Sweep(context.Background(), now)
	if err != nil {
		t.Fatal(err)
	}
	// The oldest five end first, each at its max_end.
	want := []int64{60, 120, 180, 240, 300}
	if fmt.Sprint(sorted(sw.Ended)) != fmt.Sprint(want) || sw.Live != 1 {
		t.Errorf("swept %+v, want ended %v and 1 live", sw, want)
	}
	sw, err = l.Sweep(context.Background(), now)
	if err != nil || fmt.Sprint(sorted(sw.Ended)) != "[360 420]" || sw.Live != 1 {
		t.Errorf("second sweep %+v, %v", sw, err)
	}
	if s, n := day(t, db, t0); s != 60*28 || n != 7 {
		t.Errorf("day: %d s, %d sessions; want %d, 7", s, n, 60*28)
	}
	// A late disconnect of a swept session changes nothing.
	if ch := must(t)(l.Disconnect(context.Background(), ev("old0", now))); ch.Recorded {
		t.Errorf("late disconnect recorded: %+v", ch)
	}
	if s, _ := day(t, db, t0); s != 60*28 {
		t.Errorf("day after a late disconnect: %d s", s)
	}
}

// A disconnect racing the sweep counts the session once.
func TestSweepRacesDisconnect(t *testing.T) {
	for range 20 {
		db := newFakeDB()
		db.beforeWrite = func() { time.Sleep(time.Duration(rand.IntN(100)) * time.Microsecond) }
		l := newLedger(db)
		e := ev("s", t0)
		e.MaxDuration = time.Minute
		must(t)(l.Connect(context.Background(), e))
		var wg sync.WaitGroup
		wg.Go(func() { _, _ = l.Sweep(context.Background(), t0.Add(2*time.Minute)) })
		wg.Go(func() { check(t)(l.Disconnect(context.Background(), ev("s", t0.Add(30*time.Second)))) })
		wg.Wait()
		if s, n := day(t, db, t0); n != 1 || (s != 30 && s != 60) || db.markers() != 0 {
			t.Fatalf("day %d s, %d sessions, %d markers", s, n, db.markers())
		}
	}
}

func TestUsage(t *testing.T) {
	db := newFakeDB()
	l := newLedger(db)
	now := time.Date(2026, 3, 14, 0, 30, 0, 0, time.UTC)
	// Ended today: 100 s. Live since yesterday 23:50: 30 min today. Live
	// since 00:20: 10 min. Started 00:10, past its max_end (00:20) but not
	// swept yet: 10 min today, and not live.
	must(t)(l.Connect(context.Background(), ev("done", now.Add(-10*time.Minute))))
	must(t)(l.Disconnect(context.Background(), ev("done", now.Add(-10*time.Minute+100*time.Second))))
	must(t)(l.Connect(context.Background(), ev("overnight", now.Add(-40*time.Minute))))
	must(t)(l.Connect(context.Background(), ev("recent", now.Add(-10*time.Minute))))
	e := ev("lapsed", now.Add(-20*time.Minute))
	e.MaxDuration = 10 * time.Minute
	must(t)(l.Connect(context.Background(), e))
	u, err := l.Usage(context.Background(), now, true)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Usage{Live: 2, Seconds: 100 + 30*60 + 10*60 + 10*60}); u != want {
		t.Errorf("Usage = %+v, want %+v", u, want)
	}
	u, err = l.Usage(context.Background(), now, false)
	if err != nil || u.Live != 2 || u.Seconds != 0 {
		t.Errorf("Usage without the day = %+v, %v", u, err)
	}
}

func sorted(s []int64) []int64 {
	out := append([]int64(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// A session left without its disconnect, with no webhook call for days
// (so no sweep), is still ended by the first sweep after, once TTL has
// run: its marker lasts as long as its session item. Meanwhile it counts
// neither as live nor in today's minutes.
func TestSweepAfterQuietDays(t *testing.T) {
	db := newFakeDB()
	l := newLedger(db)
	e := ev("forgotten", t0)
	e.MaxDuration = 20 * time.Minute
	must(t)(l.Connect(context.Background(), e))
	later := t0.Add(3 * 24 * time.Hour)
	db.ttl(later)
	u, err := l.Usage(context.Background(), later, true)
	if err != nil || u != (Usage{}) {
		t.Errorf("Usage %d days later = %+v, %v; want nothing live or spent", 3, u, err)
	}
	sw, err := l.Sweep(context.Background(), later)
	if err != nil || fmt.Sprint(sw.Ended) != "[1200]" {
		t.Fatalf("sweep after quiet days: %+v, %v; want one session of 1200 s ended", sw, err)
	}
	if s, n := day(t, db, t0); s != 1200 || n != 1 {
		t.Errorf("its day: %d s, %d sessions; want 1200, 1", s, n)
	}
	if st := db.item("session#forgotten", "session")["state"]; st != StateEnded {
		t.Errorf("session state %q, want ended", st)
	}
	// Items go together once their time is up.
	db.ttl(t0.Add(36 * 24 * time.Hour))
	if db.markers() != 0 || db.item("session#forgotten", "session") != nil {
		t.Error("session or marker outlived sessionKeep")
	}
}

// A session that ends between Usage's read of today's total and its read
// of the markers is counted once: not twice (its marker read before the
// end, the total after) nor not at all (the other way round).
func TestUsageSessionEndsBetweenReads(t *testing.T) {
	now := t0
	for _, tt := range []struct {
		name         string
		first, after string // the read that sees the ledger before the end, and the one held until after it
	}{
		{"markers read first", "Query", "GetItem"},
		{"total read first", "GetItem", "Query"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			db := newFakeDB()
			l := newLedger(db)
			must(t)(l.Connect(context.Background(), ev("steady", now.Add(-20*time.Minute))))
			must(t)(l.Connect(context.Background(), ev("ending", now.Add(-10*time.Minute))))
			var once1, once2 sync.Once
			ended := make(chan struct{})
			db.beforeRead = func(op, pk string) {
				if op == tt.after && pk != "session#ending" {
					once1.Do(func() { <-ended })
				}
			}
			db.afterRead = func(op, pk string) {
				if op == tt.first && pk != "session#ending" {
					once2.Do(func() {
						must(t)(l.Disconnect(context.Background(), ev("ending", now.Add(-5*time.Minute))))
						close(ended)
					})
				}
			}
			u, err := l.Usage(context.Background(), now, true)
			if err != nil {
				t.Fatal(err)
			}
			if want := (Usage{Live: 1, Seconds: 300 + 1200}); u != want {
				t.Errorf("Usage = %+v, want %+v", u, want)
			}
		})
	}
}

// With nothing ending, Usage reads twice: two round trips.
func TestUsageReadsTwice(t *testing.T) {
	db := newFakeDB()
	l := newLedger(db)
	must(t)(l.Connect(context.Background(), ev("s", t0)))
	if _, err := l.Usage(context.Background(), t0.Add(time.Minute), true); err != nil {
		t.Fatal(err)
	}
	if db.calls["GetItem"] != 2 || db.calls["Query"] != 2 {
		t.Errorf("%v calls, want 2 GetItem and 2 Query", db.calls)
	}
}

// While sessions end between every two readings, Usage gives up after
// maxReadings, rather than answer a count that may be wrong.
func TestUsageGivesUpWhileSessionsEnd(t *testing.T) {
	db := newFakeDB()
	l := newLedger(db)
	for i := range maxReadings + 1 {
		must(t)(l.Connect(context.Background(), ev("s"+strconv.Itoa(i), t0)))
	}
	n := 0
	db.afterRead = func(op, _ string) {
		if op == "Query" {
			must(t)(l.Disconnect(context.Background(), ev("s"+strconv.Itoa(n), t0.Add(time.Minute))))
			n++
		}
	}
	if _, err := l.Usage(context.Background(), t0.Add(2*time.Minute), true); !errors.Is(err, errBusy) {
		t.Errorf("error %v, want errBusy", err)
	}
	if n != maxReadings {
		t.Errorf("%d readings, want %d", n, maxReadings)
	}
}
