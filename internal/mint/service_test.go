package mint

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trulience-token/trulience-token/internal/secret"
	"github.com/trulience-token/trulience-token/internal/trulience"
)

const (
	keyA = "tru_live_AAAAkeyAAAA"
	keyB = "tru_live_BBBBkeyBBBB"
	jwt  = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln"
)

var req = trulience.Request{AvatarID: "4386676996480451678", ExpireAt: 300, Origin: "https://www.example.com"}

var okToken = trulience.Token{JWT: jwt, ExpiresIn: 300, AvatarID: req.AvatarID}

// fakeKeys is a Keys whose answers the test sets; it records Refresh calls.
type fakeKeys struct {
	key        string
	keyErr     error
	refreshed  string // what Refresh returns
	refreshErr error

	mu       sync.Mutex
	keyCalls int
	rejected []string
}

func (k *fakeKeys) Key(context.Context) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.keyCalls++
	return k.key, k.keyErr
}

func (k *fakeKeys) Refresh(_ context.Context, rejected string) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.rejected = append(k.rejected, rejected)
	return k.refreshed, k.refreshErr
}

// result is one scripted answer of the fake API.
type result struct {
	tok trulience.Token
	err error
}

// fakeAPI answers calls with results in order and records the keys and requests it was given.
type fakeAPI struct {
	t       *testing.T
	results []result

	mu   sync.Mutex
	keys []string
}

func (a *fakeAPI) GenerateToken(_ context.Context, key string, r trulience.Request) (trulience.Token, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if r != req {
		a.t.Errorf("GenerateToken request = %+v, want %+v", r, req)
	}
	a.keys = append(a.keys, key)
	n := len(a.keys)
	if n > len(a.results) {
		a.t.Errorf("GenerateToken call %d: not scripted (at most %d expected)", n, len(a.results))
		return trulience.Token{}, errors.New("unexpected call")
	}
	return a.results[n-1].tok, a.results[n-1].err
}

func (a *fakeAPI) calls() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.keys...)
}

// sleeper records the waits a Service asks for, and returns err.
type sleeper struct {
	mu    sync.Mutex
	waits []time.Duration
	err   error
}

func (s *sleeper) sleep(_ context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waits = append(s.waits, d)
	return s.err
}

func apiErr(status, code int) *trulience.Error {
	return &trulience.Error{Kind: trulience.KindAPI, Status: status, Code: code, Sent: true}
}

func ok() result { return result{tok: okToken} }

func fail(err error) result { return result{err: err} }

// newService returns a Service over keys and results, with a recording sleep
// and a debug log that is checked at cleanup for keys and JWTs.
func newService(t *testing.T, keys *fakeKeys, results ...result) (*Service, *fakeAPI, *sleeper) {
	t.Helper()
	api := &fakeAPI{t: t, results: results}
	sl := &sleeper{}
	var logs bytes.Buffer
	var mu sync.Mutex
	w := writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logs.Write(p)
	})
	s := &Service{Keys: keys, API: api, Log: slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	s.sleep = sl.sleep
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, secret := range []string{keyA, keyB, jwt} {
			if strings.Contains(logs.String(), secret) {
				t.Errorf("the log holds %q:\n%s", secret, logs.String())
			}
		}
	})
	return s, api, sl
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// withDeadline returns a context that ends in d.
func withDeadline(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// wantKeys fails the test unless the API was called with exactly these keys, in order.
func wantKeys(t *testing.T, api *fakeAPI, want ...string) {
	t.Helper()
	if got := api.calls(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("GenerateToken called with keys %q, want %q", got, want)
	}
}

// wantAPIError fails the test unless err is a *trulience.Error with status.
func wantAPIError(t *testing.T, err error, status int) {
	t.Helper()
	var te *trulience.Error
	if !errors.As(err, &te) || te.Kind != trulience.KindAPI || te.Status != status {
		t.Errorf("error = %v, want Trulience's %d", err, status)
	}
}

func TestMintOK(t *testing.T) {
	keys := &fakeKeys{key: keyA}
	s, api, sl := newService(t, keys, ok())
	tok, err := s.Mint(withDeadline(t, 10*time.Second), req)
	if err != nil || tok != okToken {
		t.Fatalf("Mint = %+v, %v", tok, err)
	}
	wantKeys(t, api, keyA)
	if len(keys.rejected) != 0 || len(sl.waits) != 0 {
		t.Errorf("refreshes %q, waits %v; want none", keys.rejected, sl.waits)
	}
}

func TestMintSecretErrorCallsNoAPI(t *testing.T) {
	keyErr := fmt.Errorf("%w: GetSecretValue trulience/api-key: AccessDeniedException: denied", secret.ErrUnavailable)
	keys := &fakeKeys{keyErr: keyErr}
	s, api, _ := newService(t, keys)
	tok, err := s.Mint(withDeadline(t, 10*time.Second), req)
	if !errors.Is(err, secret.ErrUnavailable) || tok != (trulience.Token{}) {
		t.Fatalf("Mint = %+v, %v; want secret.ErrUnavailable", tok, err)
	}
	wantKeys(t, api)
}

func TestMintRotatedKeyOn401(t *testing.T) {
	keys := &fakeKeys{key: keyA, refreshed: keyB}
	s, api, sl := newService(t, keys, fail(apiErr(401, 16)), ok())
	tok, err := s.Mint(withDeadline(t, 10*time.Second), req)
	if err != nil || tok != okToken {
		t.Fatalf("Mint = %+v, %v; want the token minted with the new key", tok, err)
	}
	wantKeys(t, api, keyA, keyB)
	if fmt.Sprint(keys.rejected) != fmt.Sprint([]string{keyA}) {
		t.Errorf("Refresh called with %q, want once with the rejected key", keys.rejected)
	}
	if len(sl.waits) != 0 {
		t.Errorf("waited %v before retrying with a new key", sl.waits)
	}
}

func TestMint401SameKeyNotRetried(t *testing.T) {
	keys := &fakeKeys{key: keyA, refreshed: keyA}
	s, api, _ := newService(t, keys, fail(apiErr(401, 16)))
	_, err := s.Mint(withDeadline(t, 10*time.Second), req)
	wantAPIError(t, err, 401)
	wantKeys(t, api, keyA)
	if len(keys.rejected) != 1 {
		t.Errorf("Refresh called %d times, want 1", len(keys.rejected))
	}
}

func TestMint401RefreshFails(t *testing.T) {
	keys := &fakeKeys{key: keyA, refreshErr: fmt.Errorf("%w: throttled", secret.ErrUnavailable)}
	s, api, _ := newService(t, keys, fail(apiErr(401, 16)))
	_, err := s.Mint(withDeadline(t, 10*time.Second), req)
	wantAPIError(t, err, 401) // Trulience's refusal is the answer, not the secret's failure
	wantKeys(t, api, keyA)
}

func TestMint401Twice(t *testing.T) {
	keys := &fakeKeys{key: keyA, refreshed: keyB}
	s, api, _ := newService(t, keys, fail(apiErr(401, 16)), fail(apiErr(401, 16)))
	_, err := s.Mint(withDeadline(t, 10*time.Second), req)
	wantAPIError(t, err, 401)
	wantKeys(t, api, keyA, keyB)
	if len(keys.rejected) != 1 {
		t.Errorf("Refresh called %d times, want 1", len(keys.rejected))
	}
}

func TestMint401ThenRetryable(t *testing.T) {
	// At most two calls: a 429 after the key rotation is the answer.
	keys := &fakeKeys{key: keyA, refreshed: keyB}
	s, api, sl := newService(t, keys, fail(apiErr(401, 16)), fail(apiErr(429, 36)))
	_, err := s.Mint(withDeadline(t, 10*time.Second), req)
	wantAPIError(t, err, 429)
	wantKeys(t, api, keyA, keyB)
	if len(sl.waits) != 0 {
		t.Errorf("waited %v", sl.waits)
	}
}

func TestMintRetryThen401(t *testing.T) {
	keys := &fakeKeys{key: keyA, refreshed: keyB}
	s, api, _ := newService(t, keys, fail(apiErr(503, 0)), fail(apiErr(401, 16)))
	_, err := s.Mint(withDeadline(t, 10*time.Second), req)
	wantAPIError(t, err, 401)
	wantKeys(t, api, keyA, keyA)
}

func TestMintNotRefreshedOn403(t *testing.T) {
	for _, code := range []int{33, 34, 35} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			keys := &fakeKeys{key: keyA, refreshed: keyB}
			s, api, _ := newService(t, keys, fail(apiErr(403, code)))
			_, err := s.Mint(withDeadline(t, 10*time.Second), req)
			wantAPIError(t, err, 403)
			wantKeys(t, api, keyA)
			if len(keys.rejected) != 0 {
				t.Errorf("Refresh called on a 403")
			}
		})
	}
}

func TestMintRetries(t *testing.T) {
	transport := func(sent bool) *trulience.Error {
		return &trulience.Error{Kind: trulience.KindTransport, Sent: sent, Detail: "connection refused"}
	}
	withRetryAfter := func(status int, d time.Duration) *trulience.Error {
		e := apiErr(status, 36)
		e.RetryAfter = d
		return e
	}
	tests := []struct {
		name     string
		deadline time.Duration // 0: no deadline
		first    error
		second   *result // nil: no second call expected
		wantWait []time.Duration
	}{
		{"429 with Retry-After of 1s", 10 * time.Second, withRetryAfter(429, time.Second), &result{tok: okToken}, []time.Duration{time.Second}},
		{"429 with Retry-After over 1s is passed on", 10 * time.Second, withRetryAfter(429, 2*time.Second), nil, nil},
		{"429 without Retry-After", 10 * time.Second, apiErr(429, 36), &result{tok: okToken}, []time.Duration{defaultBackoff}},
		{"429 without deadline", 0, withRetryAfter(429, time.Second), &result{tok: okToken}, []time.Duration{time.Second}},
		{"429 with Retry-After over 1s, without deadline", 0, withRetryAfter(429, 5*time.Second), nil, nil},
		{"429 with Retry-After past the deadline", 1500 * time.Millisecond, withRetryAfter(429, time.Second), nil, nil},
		{"429 with Retry-After far past the deadline", 5 * time.Second, withRetryAfter(429, time.Hour), nil, nil},
		{"429 with too little time left for a call", 900 * time.Millisecond, apiErr(429, 36), nil, nil},
		{"503", 10 * time.Second, apiErr(503, 0), &result{tok: okToken}, []time.Duration{defaultBackoff}},
		{"503 with Retry-After", 10 * time.Second, withRetryAfter(503, time.Second), &result{tok: okToken}, []time.Duration{time.Second}},
		{"503 with Retry-After over 1s", 10 * time.Second, withRetryAfter(503, 3*time.Second), nil, nil},
		{"connection failed before sending", 10 * time.Second, transport(false), &result{tok: okToken}, []time.Duration{defaultBackoff}},
		{"connection failed after sending", 10 * time.Second, transport(true), nil, nil},
		{"500", 10 * time.Second, apiErr(500, 45), nil, nil},
		{"502", 10 * time.Second, apiErr(502, 0), nil, nil},
		{"504", 10 * time.Second, apiErr(504, 0), nil, nil},
		{"400", 10 * time.Second, apiErr(400, 19), nil, nil},
		{"timeout after sending", 10 * time.Second, &trulience.Error{Kind: trulience.KindTimeout, Sent: true}, nil, nil},
		{"bad body", 10 * time.Second, &trulience.Error{Kind: trulience.KindBadResponse, Status: 200, Sent: true}, nil, nil},
		{"not a trulience error", 10 * time.Second, errors.New("something else"), nil, nil},
		{"429 twice", 10 * time.Second, apiErr(429, 36), &result{err: withRetryAfter(429, 30*time.Second)}, []time.Duration{defaultBackoff}},
		{"503 then 500", 10 * time.Second, apiErr(503, 0), &result{err: apiErr(500, 45)}, []time.Duration{defaultBackoff}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			results := []result{fail(tt.first)}
			if tt.second != nil {
				results = append(results, *tt.second)
			}
			keys := &fakeKeys{key: keyA, refreshed: keyB}
			s, api, sl := newService(t, keys, results...)
			ctx := context.Background()
			if tt.deadline > 0 {
				ctx = withDeadline(t, tt.deadline)
			}
			tok, err := s.Mint(ctx, req)

			want := results[len(results)-1]
			if tok != want.tok || !errors.Is(err, want.err) {
				t.Errorf("Mint = %+v, %v; want %+v, %v", tok, err, want.tok, want.err)
			}
			if len(api.calls()) != len(results) {
				t.Errorf("GenerateToken called %d times, want %d", len(api.calls()), len(results))
			}
			for _, k := range api.calls() {
				if k != keyA {
					t.Errorf("retried with key %q, want the same key", k)
				}
			}
			if fmt.Sprint(sl.waits) != fmt.Sprint(tt.wantWait) {
				t.Errorf("waited %v, want %v", sl.waits, tt.wantWait)
			}
			if len(keys.rejected) != 0 {
				t.Errorf("Refresh called on %v", tt.first)
			}
		})
	}
}

func TestMintWaitInterrupted(t *testing.T) {
	keys := &fakeKeys{key: keyA}
	first := apiErr(429, 36)
	s, api, sl := newService(t, keys, fail(first))
	sl.err = context.Canceled
	_, err := s.Mint(withDeadline(t, 10*time.Second), req)
	if !errors.Is(err, first) {
		t.Errorf("Mint error = %v, want the 429", err)
	}
	wantKeys(t, api, keyA)
}

func TestMintDefaultSleepWaits(t *testing.T) {
	// With no sleep set, the real one is used: the retry comes after the back-off.
	keys := &fakeKeys{key: keyA}
	api := &fakeAPI{t: t, results: []result{fail(apiErr(503, 0)), ok()}}
	s := &Service{Keys: keys, API: api, Log: slog.New(slog.DiscardHandler)}
	start := time.Now()
	tok, err := s.Mint(withDeadline(t, 10*time.Second), req)
	if err != nil || tok != okToken {
		t.Fatalf("Mint = %+v, %v", tok, err)
	}
	if waited := time.Since(start); waited < defaultBackoff {
		t.Errorf("retried after %v, want at least %v", waited, defaultBackoff)
	}
}

func TestSleepCtx(t *testing.T) {
	if err := sleepCtx(context.Background(), time.Millisecond); err != nil {
		t.Errorf("sleepCtx = %v, want nil", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if err := sleepCtx(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("sleepCtx on a cancelled context = %v, want context.Canceled", err)
	}
	if time.Since(start) > time.Second {
		t.Error("sleepCtx did not return when its context ended")
	}
}
