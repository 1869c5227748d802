package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/trulience-token/trulience-token/dev/rie"
)

// TokenEvent is the request every run sends: an HTTP API 2.0 POST /token from
// the allowed origin naming the avatar, as API Gateway delivers it.
func TokenEvent() []byte { return tokenEvent(`{"avatar_id":"` + AvatarID + `"}`) }

func tokenEvent(body string) []byte {
	e := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "POST /token", RawPath: "/token",
		Headers: map[string]string{"content-type": "application/json", "origin": Origin},
		Body:    body,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RequestID: "bench",
			HTTP:      events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", Path: "/token"},
		},
	}
	b, _ := json.Marshal(e)
	return b
}

// ColdStart is one cold start under the RIE.
type ColdStart struct {
	// Init is the RIE's INIT REPORT duration.
	Init time.Duration
	// First is the first invocation's own duration: this RIE's REPORT
	// Duration of a cold invocation counts init too, which is subtracted.
	First time.Duration
}

// MeasureColdStart starts a fresh RIE with bootstrap and env, invokes payload
// once and returns the init and first-invocation durations the RIE reports.
func MeasureColdStart(ctx context.Context, bootstrap string, env map[string]string, payload []byte) (ColdStart, error) {
	e, err := rie.Start(ctx, rie.Options{Bootstrap: bootstrap, Env: env})
	if err != nil {
		return ColdStart{}, err
	}
	defer e.Close()
	if _, err := e.Invoke(ctx, payload); err != nil {
		return ColdStart{}, fmt.Errorf("cold invocation: %w\n%s", err, e.Logs())
	}
	inits, reps := e.InitDurations(), e.Reports()
	if len(inits) != 1 || len(reps) != 1 {
		return ColdStart{}, fmt.Errorf("the RIE printed %d INIT REPORT and %d REPORT lines, want 1 and 1:\n%s", len(inits), len(reps), e.Logs())
	}
	return ColdStart{Init: inits[0], First: reps[0].Duration - inits[0]}, nil
}

// Warm is what one warm run under the RIE measured.
type Warm struct {
	// Durations are the REPORT Durations of the warm invocations.
	Durations []time.Duration
	// Served is the stand-in's own time on each warm invocation's request.
	Served []time.Duration
	// Added are the Durations minus the stand-in's time on the same request:
	// what the function (runtime, handler, loopback HTTP) adds to Trulience.
	Added []time.Duration
	// SecretCalls is the number of GetSecretValue calls from start to end,
	// init prefetch included.
	SecretCalls int
	// Connections is the number of TCP connections opened to the stand-in,
	// cold invocation included.
	Connections int
	// PeakRSS is the bootstrap's VmHWM at the end of the run, in bytes.
	PeakRSS int64
	// MaxMemoryUsed is the REPORT's figure (MB), for comparison.
	MaxMemoryUsed int
}

// MeasureWarm runs the function under a fresh RIE against peers: one cold
// invocation, then n warm ones, each of which must answer 200.
func MeasureWarm(ctx context.Context, bootstrap string, peers *Peers, n int) (Warm, error) {
	var w Warm
	e, err := rie.Start(ctx, rie.Options{Bootstrap: bootstrap, Env: peers.FunctionEnv()})
	if err != nil {
		return w, err
	}
	defer e.Close()
	smBefore := peers.Counter.Calls("GetSecretValue")
	peers.Reset()
	payload := peers.Event()
	invoke := func() error {
		out, err := e.Invoke(ctx, payload)
		if err != nil {
			return fmt.Errorf("%w\n%s", err, e.Logs())
		}
		var r struct {
			StatusCode int    `json:"statusCode"`
			Body       string `json:"body"`
		}
		if err := json.Unmarshal(out, &r); err != nil || r.StatusCode != 200 {
			return fmt.Errorf("the function answered %s, want status 200\n%s", out, e.Logs())
		}
		return nil
	}
	if err := invoke(); err != nil {
		return w, fmt.Errorf("cold invocation: %w", err)
	}
	coldServed := len(peers.Served())
	for range n {
		if err := invoke(); err != nil {
			return w, err
		}
	}
	reps, served := e.Reports(), peers.Served()[coldServed:]
	if len(reps) != n+1 || len(served) != n {
		return w, fmt.Errorf("%d REPORT lines and %d stand-in requests for %d warm invocations", len(reps)-1, len(served), n)
	}
	for i, r := range reps[1:] {
		w.Durations = append(w.Durations, r.Duration)
		w.Served = append(w.Served, served[i])
		w.Added = append(w.Added, r.Duration-served[i])
		w.MaxMemoryUsed = max(w.MaxMemoryUsed, r.MaxMemoryUsed)
	}
	w.SecretCalls = peers.Counter.Calls("GetSecretValue") - smBefore
	w.Connections = peers.Trulience.Connections()
	if pid := FindProcess(bootstrap); pid != 0 {
		if w.PeakRSS, err = PeakRSS(pid); err != nil {
			return w, err
		}
	} else {
		return w, fmt.Errorf("no running process of %s under the RIE", bootstrap)
	}
	return w, nil
}

// MeasureDurations invokes bootstrap under a fresh RIE once cold and n
// times warm, and returns the warm invocations' REPORT Durations. Run on the
// minimal reference, it is the floor the RIE and the runtime loop cost.
func MeasureDurations(ctx context.Context, bootstrap string, env map[string]string, payload []byte, n int) ([]time.Duration, error) {
	e, err := rie.Start(ctx, rie.Options{Bootstrap: bootstrap, Env: env})
	if err != nil {
		return nil, err
	}
	defer e.Close()
	for range n + 1 {
		if _, err := e.Invoke(ctx, payload); err != nil {
			return nil, fmt.Errorf("%w\n%s", err, e.Logs())
		}
	}
	var ds []time.Duration
	for _, r := range e.Reports()[1:] {
		ds = append(ds, r.Duration)
	}
	return ds, nil
}
