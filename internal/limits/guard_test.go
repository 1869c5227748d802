package limits

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trulience-token/trulience-token/internal/httpapi"
)

// memStore is a Store in memory, atomic like DynamoDB's conditional
// writes; fail makes every call fail, delay makes it wait first.
type memStore struct {
	mu     sync.Mutex
	counts map[string]int64
	expiry map[string]time.Time
	fail   map[string]error // by key prefix ("v#", "d#")
	delay  time.Duration
	gives  atomic.Int32
}

func newMem() *memStore {
	return &memStore{counts: map[string]int64{}, expiry: map[string]time.Time{}, fail: map[string]error{}}
}

func (m *memStore) wait(ctx context.Context, key string) error {
	if m.delay > 0 {
		select {
		case <-time.After(m.delay):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return m.fail[key[:2]]
}

func (m *memStore) Take(ctx context.Context, key string, limit int64, expires time.Time) (bool, error) {
	if err := m.wait(ctx, key); err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.counts[key] >= limit {
		return false, nil
	}
	m.counts[key]++
	if _, ok := m.expiry[key]; !ok {
		m.expiry[key] = expires
	}
	return true, nil
}

func (m *memStore) Give(ctx context.Context, key string) error {
	m.gives.Add(1)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.counts[key] > 0 {
		m.counts[key]--
	}
	return nil
}

func (m *memStore) count(prefix string) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int64
	for k, c := range m.counts {
		if strings.HasPrefix(k, prefix) {
			n += c
		}
	}
	return n
}

var t0 = time.Date(2025, 3, 4, 10, 17, 30, 0, time.UTC)

func guardAt(s Settings, st Store, now time.Time) *Guard {
	if s.Timeout == 0 {
		s.Timeout = DefaultTimeout
	}
	s.Table = "t"
	return New(s, st).WithClock(func() time.Time { return now })
}

var visitor = httpapi.Visitor{SourceIP: "203.0.113.9"}

func TestClientLimit(t *testing.T) {
	st := newMem()
	g := guardAt(Settings{Client: Rate{N: 5, Window: 10 * time.Minute}}, st, t0)
	for i := range 5 {
		if vd := g.Check(context.Background(), visitor); vd.Refuse != nil {
			t.Fatalf("request %d refused: %v", i+1, vd.Refuse)
		}
	}
	vd := g.Check(context.Background(), visitor)
	if vd.Refuse == nil || vd.Refuse.Status != 429 || vd.Refuse.Code != "limit_exceeded" {
		t.Fatalf("6th request: %+v", vd.Refuse)
	}
	// 10:17:30 in a 10m window: 2m30s to 10:20.
	if vd.Refuse.RetryAfter != 150*time.Second {
		t.Errorf("RetryAfter %v, want 2m30s", vd.Refuse.RetryAfter)
	}
	// Another visitor, and the same visitor in the next window, pass.
	if vd := g.Check(context.Background(), httpapi.Visitor{SourceIP: "198.51.100.1"}); vd.Refuse != nil {
		t.Errorf("another visitor refused")
	}
	next := guardAt(Settings{Client: Rate{N: 5, Window: 10 * time.Minute}}, st, t0.Add(150*time.Second))
	if vd := next.Check(context.Background(), visitor); vd.Refuse != nil {
		t.Errorf("next window refused")
	}
	// A signed-in user is counted by sub, wherever they come from.
	user := func(ip string) httpapi.Visitor {
		return httpapi.Visitor{SourceIP: ip, Claims: map[string]string{"sub": "user-1"}}
	}
	g2 := guardAt(Settings{Client: Rate{N: 1, Window: time.Hour}}, newMem(), t0)
	if vd := g2.Check(context.Background(), user("192.0.2.1")); vd.Refuse != nil {
		t.Fatal("first request of a user refused")
	}
	if vd := g2.Check(context.Background(), user("192.0.2.2")); vd.Refuse == nil {
		t.Error("a user's second request from another address was not refused")
	}
}

func TestConcurrentRequestsGetExactlyTheLimit(t *testing.T) {
	st := newMem()
	g := guardAt(Settings{Client: Rate{N: 5, Window: 10 * time.Minute}, Daily: 1000}, st, t0)
	var granted atomic.Int32
	var wg sync.WaitGroup
	for range 40 {
		wg.Go(func() {
			vd := g.Check(context.Background(), visitor)
			if vd.Refuse == nil {
				granted.Add(1)
			} else if vd.Undo != nil {
				vd.Undo()
			}
		})
	}
	wg.Wait()
	if granted.Load() != 5 {
		t.Errorf("%d granted, want 5", granted.Load())
	}
	// Refused requests gave their daily count back.
	if n := st.count("d#"); n != 5 {
		t.Errorf("daily count %d, want 5", n)
	}
}

func TestDailyLimit(t *testing.T) {
	st := newMem()
	g := guardAt(Settings{Client: Rate{N: 100, Window: time.Hour}, Daily: 3}, st, t0)
	for i := range 3 {
		ip := httpapi.Visitor{SourceIP: "192.0.2." + string(rune('1'+i))}
		if vd := g.Check(context.Background(), ip); vd.Refuse != nil {
			t.Fatalf("request %d refused", i)
		}
	}
	vd := g.Check(context.Background(), visitor)
	if vd.Refuse == nil || vd.Refuse.Code != "limit_exceeded" {
		t.Fatalf("4th request of the day: %+v", vd)
	}
	if want := 13*time.Hour + 42*time.Minute + 30*time.Second; vd.Refuse.RetryAfter != want {
		t.Errorf("RetryAfter %v, want %v (to UTC midnight)", vd.Refuse.RetryAfter, want)
	}
	// The visitor's count is given back: the day refused, not the visitor.
	vd.Undo()
	if n := st.count("v#"); n != 3 {
		t.Errorf("visitor counts %d, want 3", n)
	}
}

func TestReleaseGivesBackTheDailyCountOnly(t *testing.T) {
	st := newMem()
	g := guardAt(Settings{Client: Rate{N: 5, Window: 10 * time.Minute}, Daily: 10}, st, t0)
	vd := g.Check(context.Background(), visitor)
	if vd.Refuse != nil || vd.Release == nil {
		t.Fatalf("verdict %+v", vd)
	}
	vd.Release() // Trulience refused
	if st.count("d#") != 0 || st.count("v#") != 1 {
		t.Errorf("after release: daily %d (want 0), visitor %d (want 1)", st.count("d#"), st.count("v#"))
	}
}

// TestUndoGivesBackEverything: a request another guard refuses (the bot
// check) leaves the visitor's count and the day's as they were, also when
// the table failed for one of them and the request would have been served.
func TestUndoGivesBackEverything(t *testing.T) {
	for _, tt := range []struct {
		name string
		fail map[string]error
	}{
		{"both counted", map[string]error{}},
		{"daily count failed, open", map[string]error{"d#": errors.New("down")}},
		{"visitor count failed, open", map[string]error{"v#": errors.New("down")}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := newMem()
			st.fail = tt.fail
			g := guardAt(Settings{Client: Rate{N: 2, Window: 10 * time.Minute}, Daily: 10, FailOpen: true, Timeout: time.Second}, st, t0)
			for range 5 {
				vd := g.Check(context.Background(), visitor)
				if vd.Refuse != nil {
					t.Fatalf("refused %+v: the counts were not given back", vd.Refuse)
				}
				if vd.Undo != nil {
					vd.Undo()
				}
			}
			if st.count("") != 0 {
				t.Errorf("counts %v after five undone requests, want none", st.counts)
			}
		})
	}
}

func TestFailModes(t *testing.T) {
	down := errors.New("operation error DynamoDB: UpdateItem: connection refused")
	for _, tt := range []struct {
		name  string
		open  bool
		fail  map[string]error
		delay time.Duration
	}{
		{"open, refused", true, map[string]error{"v#": down, "d#": down}, 0},
		{"closed, refused", false, map[string]error{"v#": down, "d#": down}, 0},
		{"open, daily only refused", true, map[string]error{"d#": down}, 0},
		{"closed, daily only refused", false, map[string]error{"d#": down}, 0},
		{"open, slow", true, nil, time.Second},
		{"closed, slow", false, nil, time.Second},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := newMem()
			st.fail, st.delay = tt.fail, tt.delay
			if st.fail == nil {
				st.fail = map[string]error{}
			}
			g := guardAt(Settings{Client: Rate{N: 5, Window: 10 * time.Minute}, Daily: 10, FailOpen: tt.open, Timeout: 50 * time.Millisecond}, st, t0)
			vd := g.Check(context.Background(), visitor)
			if tt.open {
				if vd.Refuse != nil {
					t.Fatalf("open mode refused: %v", vd.Refuse)
				}
			} else if vd.Refuse != ProblemUnavailable {
				t.Fatalf("closed mode: %+v, want 503 limits_unavailable", vd.Refuse)
			}
			logged := map[string]string{}
			for _, a := range vd.Log {
				logged[a.Key] = a.Value.String()
			}
			if logged["limits"] != "unavailable" || logged["limits_error"] == "" {
				t.Errorf("log %v", logged)
			}
			if tt.delay > 0 && logged["limits_error"] != "no answer within LIMITS_TIMEOUT" {
				t.Errorf("slow store logged %q", logged["limits_error"])
			}
			if !tt.open && vd.Undo != nil {
				vd.Undo()
				if st.count("") != 0 {
					t.Errorf("closed mode kept counts: %v", st.counts)
				}
			}
		})
	}
}

func TestAFullCounterRefusesEvenWhenTheOtherFails(t *testing.T) {
	st := newMem()
	g := guardAt(Settings{Client: Rate{N: 1, Window: 10 * time.Minute}, Daily: 10, FailOpen: true}, st, t0)
	g.Check(context.Background(), visitor)
	st.fail["d#"] = errors.New("down")
	if vd := g.Check(context.Background(), visitor); vd.Refuse == nil || vd.Refuse.Code != "limit_exceeded" {
		t.Errorf("verdict %+v, want limit_exceeded", vd)
	}
}

func TestVisitorHash(t *testing.T) {
	g := guardAt(Settings{Client: Rate{N: 5, Window: 10 * time.Minute}, HashKey: "per-deployment"}, newMem(), t0)
	ip := httpapi.Visitor{SourceIP: "203.0.113.9"}
	user := httpapi.Visitor{SourceIP: "203.0.113.9", Claims: map[string]string{"sub": "auth0|12345"}}
	hIP, hUser := g.VisitorHash(ip), g.VisitorHash(user)
	if hIP == hUser {
		t.Error("a user and an address share a hash")
	}
	for _, h := range []string{hIP, hUser} {
		key, _ := g.VisitorKey(ip, t0)
		for _, raw := range []string{"203.0.113.9", "auth0|12345", "12345"} {
			if strings.Contains(h, raw) || strings.Contains(key, raw) {
				t.Errorf("hash %q or key %q holds %q", h, key, raw)
			}
		}
	}
	other := guardAt(Settings{Client: Rate{N: 5, Window: 10 * time.Minute}, HashKey: "another deployment"}, newMem(), t0)
	if other.VisitorHash(ip) == hIP {
		t.Error("two deployments hash an address alike")
	}
	if g.VisitorHash(ip) != hIP {
		t.Error("the hash is not stable")
	}
}

func TestKeysNameTheirWindow(t *testing.T) {
	g := guardAt(Settings{Client: Rate{N: 5, Window: 10 * time.Minute}}, newMem(), t0)
	key, end := g.VisitorKey(visitor, t0)
	if !strings.HasPrefix(key, "v#600#1741083000#") || !end.Equal(time.Date(2025, 3, 4, 10, 20, 0, 0, time.UTC)) {
		t.Errorf("key %q, end %v", key, end)
	}
	day, end := DayKey(t0)
	if day != "d#2025-03-04" || !end.Equal(time.Date(2025, 3, 5, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("day key %q, end %v", day, end)
	}
}

// deadlineStore records the deadline of every Give.
type deadlineStore struct {
	*memStore
	mu        sync.Mutex
	deadlines []time.Time
}

func (d *deadlineStore) Give(ctx context.Context, key string) error {
	dl, _ := ctx.Deadline()
	d.mu.Lock()
	d.deadlines = append(d.deadlines, dl)
	d.mu.Unlock()
	return d.memStore.Give(ctx, key)
}

// TestGiveBackKeepsToTheRequestDeadline: a count given back after the
// request's own deadline is not waited for past it.
func TestGiveBackKeepsToTheRequestDeadline(t *testing.T) {
	st := &deadlineStore{memStore: newMem()}
	g := guardAt(Settings{Daily: 10, Timeout: 10 * time.Second}, st, t0)
	deadline := time.Now().Add(50 * time.Millisecond)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	vd := g.Check(ctx, visitor)
	if vd.Refuse != nil || vd.Release == nil {
		t.Fatalf("verdict %+v", vd)
	}
	vd.Release()
	if len(st.deadlines) != 1 || st.deadlines[0].After(deadline) {
		t.Errorf("give-back deadlines %v, want none after the request's %v", st.deadlines, deadline)
	}
}

// TestHashKeyedWithTheAPIKey: without LIMITS_HASH_KEY the visitor hash is
// keyed with the API key (so nothing beside the table rebuilds it), follows
// a rotation, and a key that cannot be read makes the visitor's count
// unavailable, as a failing table does.
func TestHashKeyedWithTheAPIKey(t *testing.T) {
	apiKey := "tru_live_first"
	var readErr error
	read := func(context.Context) (string, error) { return apiKey, readErr }
	st := newMem()
	g := guardAt(Settings{Client: Rate{N: 5, Window: 10 * time.Minute}, FailOpen: false}, st, t0).KeyFrom(read)
	plain := guardAt(Settings{Client: Rate{N: 5, Window: 10 * time.Minute}}, newMem(), t0)

	if vd := g.Check(context.Background(), visitor); vd.Refuse != nil {
		t.Fatalf("verdict %+v", vd)
	}
	first := g.VisitorHash(visitor)
	if first == plain.VisitorHash(visitor) {
		t.Error("the hash does not depend on the API key")
	}
	apiKey = "tru_live_second"
	g.Check(context.Background(), visitor)
	if g.VisitorHash(visitor) == first {
		t.Error("the hash did not follow the rotated key")
	}
	fixed := guardAt(Settings{Client: Rate{N: 5, Window: 10 * time.Minute}, HashKey: "explicit"}, newMem(), t0).KeyFrom(read)
	fixed.Check(context.Background(), visitor)
	if fixed.VisitorHash(visitor) != guardAt(Settings{Client: Rate{N: 5, Window: 10 * time.Minute}, HashKey: "explicit"}, newMem(), t0).VisitorHash(visitor) {
		t.Error("KeyFrom overrode LIMITS_HASH_KEY")
	}
	readErr = errors.New("secret unavailable")
	if vd := g.Check(context.Background(), visitor); vd.Refuse != ProblemUnavailable {
		t.Errorf("with the key unreadable and fail mode closed: %+v, want limits_unavailable", vd.Refuse)
	}
}
