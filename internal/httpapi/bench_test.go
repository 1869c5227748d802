package httpapi

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/trulience-token/trulience-token/internal/config"
	"github.com/trulience-token/trulience-token/internal/mint"
	"github.com/trulience-token/trulience-token/internal/secret"
	"github.com/trulience-token/trulience-token/internal/trulience"
)

const (
	benchAvatar = "4386676996480451678"
	benchOrigin = "https://www.example.com"
	benchJWT    = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0Mzg2Njc2OTk2NDgwNDUxNjc4IiwiZXhwIjoxNzAwMDAwMDAwfQ.c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJlc2ln"
)

// BenchmarkInvoke measures one token request through Handler.Invoke as the
// Lambda runtime calls it (payload bytes in, answer bytes out, one JSON log
// line), with the upstream answering instantly:
//   - fake: a minter that returns a token at once (the handler alone);
//   - service: the real mint.Service, secret.Cache and trulience.Client
//     over loopback HTTP keep-alive to an httptest stand-in (its server-side
//     allocations are counted too: they run in the same process).
func BenchmarkInvoke(b *testing.B) {
	instant := benchMinter(func(_ context.Context, r trulience.Request) (trulience.Token, error) {
		return trulience.Token{JWT: benchJWT, ExpiresIn: 120, AvatarID: r.AvatarID}, nil
	})
	for _, bm := range []struct {
		name string
		mint func(b *testing.B) Minter
	}{
		{"fake", func(*testing.B) Minter { return instant }},
		{"service", benchService},
	} {
		b.Run(bm.name, func(b *testing.B) {
			h := benchHandler(b, bm.mint(b))
			payload := benchEvent(b)
			ctx, cancel := context.WithTimeout(lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "bench"}), time.Minute)
			defer cancel()
			if _, err := h.Invoke(ctx, payload); err != nil { // warm up: connection, key
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				out, err := h.Invoke(ctx, payload)
				if err != nil || len(out) == 0 {
					b.Fatalf("Invoke: %v", err)
				}
			}
		})
	}
}

type benchMinter func(context.Context, trulience.Request) (trulience.Token, error)

func (f benchMinter) Mint(ctx context.Context, r trulience.Request) (trulience.Token, error) {
	return f(ctx, r)
}

type benchGetter func() string

func (g benchGetter) GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	s := g()
	return &secretsmanager.GetSecretValueOutput{SecretString: &s}, nil
}

// benchService is the production minter against a stand-in that answers a
// fixed token at once.
func benchService(b *testing.B) Minter {
	b.Helper()
	body := []byte(`{"jwt":"` + benchJWT + `","expires_in":120,"avatar_id":"` + benchAvatar + `"}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	b.Cleanup(srv.Close)
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	keys := secret.New(benchGetter(func() string { return "tru_live_bench" }), "bench", 5*time.Minute, log)
	return &mint.Service{Keys: keys, API: trulience.NewClient(srv.URL, 5*time.Second, nil), Log: log}
}

func benchHandler(b *testing.B, m Minter) *Handler {
	b.Helper()
	env := map[string]string{
		"TRULIENCE_SECRET_ID": "bench",
		"ALLOWED_AVATAR_IDS":  benchAvatar,
		"ALLOWED_ORIGINS":     benchOrigin,
	}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		b.Fatal(err)
	}
	return New(cfg, m, slog.New(slog.NewJSONHandler(io.Discard, nil)))
}

// benchEvent is an HTTP API 2.0 token request as API Gateway sends it,
// with the usual browser headers.
func benchEvent(b *testing.B) []byte {
	b.Helper()
	e := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "POST /token", RawPath: "/token",
		Headers: map[string]string{
			"accept": "*/*", "accept-encoding": "gzip, deflate, br", "accept-language": "en-GB,en;q=0.9",
			"content-length": "35", "content-type": "text/plain;charset=UTF-8", "host": "abc123.execute-api.eu-west-1.amazonaws.com",
			"origin": benchOrigin, "referer": benchOrigin + "/", "user-agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36",
			"x-amzn-trace-id": "Root=1-67890abc-0123456789abcdef01234567", "x-forwarded-for": "203.0.113.7", "x-forwarded-port": "443", "x-forwarded-proto": "https",
		},
		Body: `{"avatar_id":"` + benchAvatar + `"}`,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey: "POST /token", AccountID: "123456789012", Stage: "$default", RequestID: "bench-request", APIID: "abc123",
			DomainName: "abc123.execute-api.eu-west-1.amazonaws.com", Time: "26/Nov/2026:17:00:00 +0000", TimeEpoch: 1795712400000,
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", Path: "/token", Protocol: "HTTP/1.1", SourceIP: "203.0.113.7", UserAgent: "Mozilla/5.0"},
		},
	}
	p, err := json.Marshal(e)
	if err != nil {
		b.Fatal(err)
	}
	return p
}
