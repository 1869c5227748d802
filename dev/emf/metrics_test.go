package emf

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/trulience-token/trulience-token/internal/config"
	"github.com/trulience-token/trulience-token/internal/httpapi"
	"github.com/trulience-token/trulience-token/internal/limits"
	"github.com/trulience-token/trulience-token/internal/metrics"
	"github.com/trulience-token/trulience-token/internal/trulience"
)

// What the requests carry that no record may.
const (
	avatar   = "4386676996480451678"
	site     = "https://www.example.com"
	sourceIP = "203.0.113.77"
	sub      = "auth0|user-7781"
	jwt      = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhdmF0YXItdG9rZW4ifQ.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"
	hashKey  = "per-deployment-hash-key-0f3c"
)

type minter struct{ err error }

func (m minter) Mint(ctx context.Context, r trulience.Request) (trulience.Token, error) {
	if m.err != nil {
		return trulience.Token{}, m.err
	}
	return trulience.Token{JWT: jwt, ExpiresIn: 120, AvatarID: r.AvatarID}, nil
}

// refuser is a guard refusing with code.
type refuser string

func (r refuser) Check(context.Context, httpapi.Visitor) httpapi.Verdict {
	return httpapi.Verdict{Refuse: &httpapi.Problem{Status: 403, Code: string(r), Message: "no"}}
}

// store is a limits.Store in memory; err makes it fail.
type store struct {
	mu  sync.Mutex
	n   map[string]int64
	err error
}

func (s *store) Take(_ context.Context, key string, limit int64, _ time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return false, s.err
	}
	if s.n[key] >= limit {
		return false, nil
	}
	s.n[key]++
	return true, nil
}

func (s *store) Give(context.Context, string) error { return nil }

func event(method string) []byte {
	e := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "POST /token", RawPath: "/token",
		Headers: map[string]string{"origin": site, "content-type": "application/json"},
		Body:    `{"avatar_id":"` + avatar + `"}`,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			DomainName: "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com", RequestID: "req-1234",
			HTTP:       events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: "/token", SourceIP: sourceIP},
			Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: map[string]string{"sub": sub}}},
		},
	}
	b, _ := json.Marshal(e)
	return b
}

// TestRecords runs requests of every outcome through the handler with the
// EMF writer, validates every record and checks what each counts.
func TestRecords(t *testing.T) {
	cfg, err := config.Load(func(k string) string {
		return map[string]string{"TRULIENCE_SECRET_ID": "s", "ALLOWED_AVATAR_IDS": avatar, "ALLOWED_ORIGINS": site}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	lim := limits.Settings{Client: limits.Rate{N: 1, Window: time.Hour}, Daily: 100, Table: "t", Timeout: time.Second, FailOpen: true, HashKey: hashKey}
	full := &store{n: map[string]int64{}}
	down := &store{err: errors.New("connection refused")}
	closed := lim
	closed.FailOpen = false
	cases := []struct {
		name   string
		method string
		mint   minter
		guards []httpapi.Guard
		want   map[string]float64
		reason string
	}{
		{"token", "POST", minter{}, nil, map[string]float64{"TokensIssued": 1, "Refused": 0}, ""},
		{"preflight", "OPTIONS", minter{}, nil, map[string]float64{"TokensIssued": 0, "Refused": 0}, ""},
		{"wrong method", "GET", minter{}, nil, map[string]float64{"Refused": 1}, "method_not_allowed"},
		{"upstream error", "POST", minter{&trulience.Error{Kind: trulience.KindAPI, Status: 500}}, nil, map[string]float64{"Refused": 1, "UpstreamErrors": 1}, "upstream_error"},
		{"upstream timeout", "POST", minter{&trulience.Error{Kind: trulience.KindTimeout}}, nil, map[string]float64{"UpstreamErrors": 1}, "upstream_timeout"},
		{"bot check", "POST", minter{}, []httpapi.Guard{refuser("bot_check_failed")}, map[string]float64{"BotCheckFailed": 1, "Refused": 1}, "bot_check_failed"},
		{"within limit", "POST", minter{}, []httpapi.Guard{limits.New(lim, full)}, map[string]float64{"TokensIssued": 1, "LimitExceeded": 0}, ""},
		{"over limit", "POST", minter{}, []httpapi.Guard{limits.New(lim, full)}, map[string]float64{"LimitExceeded": 1, "Refused": 1, "TokensIssued": 0}, "limit_exceeded"},
		{"limits down, open", "POST", minter{}, []httpapi.Guard{limits.New(lim, down)}, map[string]float64{"LimitsUnavailable": 1, "TokensIssued": 1}, ""},
		{"limits down, closed", "POST", minter{}, []httpapi.Guard{limits.New(closed, down)}, map[string]float64{"LimitsUnavailable": 1, "Refused": 1}, "limits_unavailable"},
		{"limits down, open, bot check refuses", "POST", minter{}, []httpapi.Guard{refuser("bot_check_failed"), limits.New(lim, down)}, map[string]float64{"LimitsUnavailable": 1, "Refused": 1, "TokensIssued": 0}, "bot_check_failed"},
		{"limits down, open, Trulience refuses", "POST", minter{&trulience.Error{Kind: trulience.KindAPI, Status: 500}}, []httpapi.Guard{limits.New(lim, down)}, map[string]float64{"LimitsUnavailable": 1, "UpstreamErrors": 1}, "upstream_error"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			log := slog.New(slog.NewJSONHandler(&out, nil))
			h := httpapi.New(cfg, c.mint, log, c.guards...).WithMeter(metrics.NewWriter(&out, metrics.DefaultNamespace))
			answer, err := h.Invoke(context.Background(), event(c.method))
			if err != nil {
				t.Fatal(err)
			}
			recs, err := Records(out.String(), sourceIP, sub, jwt, hashKey, site, "www.example.com", avatar, "req-1234")
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != 1 {
				t.Fatalf("%d records, want 1:\n%s", len(recs), out.String())
			}
			rec := recs[0]
			for name, want := range c.want {
				if got, ok := rec.Number(name); !ok || got != want {
					t.Errorf("%s = %v, want %v\n%s", name, rec.Root[name], want, rec.Raw)
				}
			}
			if got, _ := rec.Root["Reason"].(string); got != c.reason {
				t.Errorf("Reason %q, want %q", got, c.reason)
			}
			_, latency := rec.Number("UpstreamLatency")
			if wantLatency := c.method == "POST" && (c.reason == "" || strings.HasPrefix(c.reason, "upstream")); latency != wantLatency {
				t.Errorf("UpstreamLatency present: %v, want %v", latency, wantLatency)
			}
			for _, ns := range rec.Namespaces {
				if ns != metrics.DefaultNamespace {
					t.Errorf("namespace %q", ns)
				}
			}
			var resp events.APIGatewayV2HTTPResponse
			_ = json.Unmarshal(answer, &resp)
			if c.reason == "limit_exceeded" && (resp.StatusCode != http.StatusTooManyRequests || resp.Headers["Retry-After"] == "") {
				t.Errorf("over the limit: %d %v", resp.StatusCode, resp.Headers)
			}
		})
	}
}
