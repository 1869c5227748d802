package bench

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/trulience-token/trulience-token/dev/netdelay"
)

// Latency is the round-trip time between the function and each peer.
type Latency struct {
	SecretsManager, Trulience, Turnstile, DynamoDB time.Duration
}

// LimitFormula says how Limit is computed, for the table.
const LimitFormula = "max(3 × RTT(Secrets Manager), 2 × RTT(Trulience)) + RTT(Trulience): " +
	"the key read (TCP handshake, TLS 1.3 handshake, GetSecretValue) and the Trulience connection (TCP, TLS 1.3) " +
	"can overlap; the token request cannot start before both"

// Limit is the shortest possible cold path on this network: nothing but the
// round trips the job cannot avoid (see LimitFormula); the function's own
// work, the runtime's and the peers' count as zero.
func (l Latency) Limit() time.Duration {
	return max(3*l.SecretsManager, 2*l.Trulience) + l.Trulience
}

// GuardedColdLimit is the cold path's floor with the guards g switched on.
// Each guard needs the key read (its secret, or the key its hashes are made
// with) and its own connection (TCP, TLS 1.3), both started during init,
// then one round trip; Trulience's request waits for the guards and for its
// own connection. Without guards it is Limit.
func (l Latency) GuardedColdLimit(g Guards) time.Duration {
	read := 3 * l.SecretsManager
	ready := max(read, 2*l.Trulience)
	if g.BotCheck != "" {
		ready = max(ready, max(read, 2*l.Turnstile)+l.Turnstile)
	}
	if g.Limits {
		ready = max(ready, max(read, 2*l.DynamoDB)+l.DynamoDB)
	}
	return ready + l.Trulience
}

// GuardedColdFormula says how GuardedColdLimit is computed with g, for the table.
func GuardedColdFormula(g Guards) string {
	terms := []string{"3 × RTT(Secrets Manager)", "2 × RTT(Trulience)"}
	if g.BotCheck != "" {
		terms = append(terms, "max(3 × RTT(Secrets Manager), 2 × RTT(Turnstile)) + RTT(Turnstile)")
	}
	if g.Limits {
		terms = append(terms, "max(3 × RTT(Secrets Manager), 2 × RTT(DynamoDB)) + RTT(DynamoDB)")
	}
	return "max(" + strings.Join(terms, ", ") + ") + RTT(Trulience): each check needs the key read and its own connection, " +
		"then one round trip; the token request waits for the checks and for the Trulience connection"
}

// GuardedWarmLimit is a warm request's floor with the guards g switched on:
// their round trips (Turnstile's, DynamoDB's) run together, then Trulience's.
func (l Latency) GuardedWarmLimit(g Guards) time.Duration {
	var guards time.Duration
	if g.BotCheck != "" {
		guards = l.Turnstile
	}
	if g.Limits {
		guards = max(guards, l.DynamoDB)
	}
	return guards + l.Trulience
}

// Network is where a function finds its peers: straight on loopback, or
// through latency-adding proxies.
type Network struct {
	Name                                           string
	RTT                                            Latency // zero on loopback
	SMURL, TrulienceURL, TurnstileURL, DynamoDBURL string
}

// Loopback is the peers reached directly.
func (p *Peers) Loopback() Network {
	return Network{Name: "loopback", SMURL: p.SMURL, TrulienceURL: p.TrulienceURL, TurnstileURL: p.TurnstileURL, DynamoDBURL: p.DynamoDBURL}
}

// Delayed starts one netdelay proxy in front of each peer, closed with the
// peers, and returns the network through them.
func (p *Peers) Delayed(l Latency) (Network, error) {
	n := Network{Name: "latency", RTT: l}
	for _, peer := range []struct {
		dst *string
		src string
		rtt time.Duration
	}{
		{&n.SMURL, p.SMURL, l.SecretsManager},
		{&n.TrulienceURL, p.TrulienceURL, l.Trulience},
		{&n.TurnstileURL, p.TurnstileURL, l.Turnstile},
		{&n.DynamoDBURL, p.DynamoDBURL, l.DynamoDB},
	} {
		u, err := url.Parse(peer.src)
		if err != nil {
			return n, err
		}
		proxy, err := netdelay.Start(u.Host, peer.rtt)
		if err != nil {
			return n, err
		}
		p.closers = append(p.closers, func() { _ = proxy.Close() })
		u.Host = proxy.Addr
		*peer.dst = u.String()
	}
	return n, nil
}

// Guards are the optional checks the function can run before Trulience;
// the bench switches them on through the function's environment.
type Guards struct {
	// BotCheck is BOT_CHECK (monitor or enforce), "" for off.
	BotCheck string
	// Limits sets CLIENT_TOKEN_LIMIT and DAILY_TOKEN_LIMIT (high enough
	// never to refuse the bench) on a table in moto.
	Limits bool
	// LimitsKey is the limits table's partition key attribute (a string).
	LimitsKey string
}

// Turnstile test values: a secret key that always passes and the dummy
// token test widgets hand out; answers carry the hostname example.com.
const (
	TurnstileSecret   = "1x0000000000000000000000000000000AA"
	TurnstileToken    = "XXXX.DUMMY.TOKEN.XXXX"
	TurnstileHostname = "example.com"
	// LimitsTable is the limits table created in moto when Guards.Limits.
	LimitsTable = "bench-limits"
)

// Env is the function's environment on network n, with the guards of the
// peers switched on.
func (p *Peers) Env(n Network) map[string]string {
	env := map[string]string{
		"TRULIENCE_SECRET_ID":              SecretID,
		"TRULIENCE_API_URL":                n.TrulienceURL,
		"ALLOWED_AVATAR_IDS":               AvatarID,
		"ALLOWED_ORIGINS":                  Origin,
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": n.SMURL,
		"LOG_LEVEL":                        "info",
	}
	if p.CAFile != "" {
		env["SSL_CERT_FILE"] = p.CAFile
		env["NODE_EXTRA_CA_CERTS"] = p.CAFile // Node.js ignores SSL_CERT_FILE
	}
	if p.Guards.BotCheck != "" {
		env["BOT_CHECK"] = p.Guards.BotCheck
		env["TURNSTILE_VERIFY_URL"] = n.TurnstileURL + "/turnstile/v0/siteverify"
		env["TURNSTILE_HOSTNAMES"] = TurnstileHostname
	}
	if p.Guards.Limits {
		env["CLIENT_TOKEN_LIMIT"] = "1000000/10m"
		env["DAILY_TOKEN_LIMIT"] = "100000000"
		env["LIMITS_TABLE"] = LimitsTable
		env["AWS_ENDPOINT_URL_DYNAMODB"] = n.DynamoDBURL
	}
	return env
}

// Event is the request every run sends (TokenEvent), with a Turnstile
// token when the bot check is on.
func (p *Peers) Event() []byte {
	if p.Guards.BotCheck != "" {
		return tokenEvent(`{"avatar_id":"` + AvatarID + `","turnstile_token":"` + TurnstileToken + `"}`)
	}
	return TokenEvent()
}

// createLimitsTable creates the limits table in moto with a plain JSON call
// (moto does not check signatures), so the dev module needs no DynamoDB SDK.
func createLimitsTable(ctx context.Context, motoURL, key string) error {
	body := fmt.Sprintf(`{"TableName":%q,"BillingMode":"PAY_PER_REQUEST",`+
		`"AttributeDefinitions":[{"AttributeName":%q,"AttributeType":"S"}],`+
		`"KeySchema":[{"AttributeName":%q,"KeyType":"HASH"}]}`, LimitsTable, key, key)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, motoURL+"/", bytes.NewReader([]byte(body)))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.CreateTable")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIALOCALTESTING000/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("creating the limits table in moto: %s", resp.Status)
	}
	return nil
}
