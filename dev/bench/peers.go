package bench

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/trulience-token/trulience-token/dev/devstack"
	"github.com/trulience-token/trulience-token/dev/moto"
	"github.com/trulience-token/trulience-token/dev/standin/trulience"
)

const (
	// SecretID names the secret the function reads.
	SecretID = "bench/trulience-api-key"
	// APIKey is the key stored in it and accepted by the stand-in.
	APIKey = "tru_live_bench0000000000000000000000"
	// AvatarID is the avatar every benchmark request asks for.
	AvatarID = "4386676996480451678"
	// Origin is the allowed browser origin of benchmark requests.
	Origin = "https://www.example.com"
)

// Peers are the function's loopback peers: Secrets Manager (moto) behind the
// local stack's counting proxy, holding a valid key; and the Trulience
// stand-in, served here so each request's time inside the stand-in is
// measured.
type Peers struct {
	// SMURL is the counting proxy's URL, the function's AWS_ENDPOINT_URL_SECRETS_MANAGER.
	SMURL string
	// Counter counts the calls reaching Secrets Manager.
	Counter *devstack.AWSProxy
	// Trulience is the stand-in; TrulienceURL its base URL.
	Trulience    *trulience.Server
	TrulienceURL string
	// CAFile, when the stand-in speaks https, is its certificate (PEM),
	// trusted by the function through SSL_CERT_FILE.
	CAFile string
	// TurnstileURL is a siteverify stand-in's base URL; DynamoDBURL moto's
	// DynamoDB behind the counting proxy. Used when Guards switch them on.
	TurnstileURL, DynamoDBURL string
	// Guards are the checks switched on in the function's environment.
	Guards Guards

	motoURL string // moto itself, for setting up tables and secrets

	mu       sync.Mutex
	served   []time.Duration
	smAccept time.Time // first connection accepted since ResetSecretsManagerSpan
	smEnd    time.Time // last call answered since then
	dynamoDB []span    // when moto was busy with each DynamoDB call
	closers  []func()
}

// StartPeers starts the peers; Close stops them.
// With tlsDir set, the stand-in and the Secrets Manager proxy speak https
// (HTTP/2 offered), as Trulience and AWS do, with a certificate written
// there; otherwise plain http.
func StartPeers(ctx context.Context, tlsDir string) (*Peers, error) {
	return StartPeersWith(ctx, tlsDir, Guards{})
}

// StartPeersWith is StartPeers with guards switched on in the function's
// environment (Env): the secret also holds the Turnstile test secret, and
// the limits table exists in moto.
func StartPeersWith(ctx context.Context, tlsDir string, g Guards) (*Peers, error) {
	p := &Peers{Guards: g}
	target, err := p.startSecretsManager(ctx)
	if err != nil {
		p.Close()
		return nil, err
	}
	value := `{"api_key":"` + APIKey + `","turnstile_secret":"` + TurnstileSecret + `"}`
	if _, err := moto.PutSecret(ctx, target, SecretID, value); err != nil {
		p.Close()
		return nil, err
	}
	if g.Limits {
		if err := createLimitsTable(ctx, target, g.LimitsKey); err != nil {
			p.Close()
			return nil, err
		}
	}
	var cert *tls.Certificate
	if tlsDir != "" {
		c, path, err := selfSigned(tlsDir)
		if err != nil {
			p.Close()
			return nil, err
		}
		cert, p.CAFile = &c, path
	}
	if p.Counter, err = devstack.NewAWSProxy(target); err != nil {
		p.Close()
		return nil, err
	}
	timedSM := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.Counter.ServeHTTP(w, r)
		p.mu.Lock()
		p.smEnd = time.Now()
		p.mu.Unlock()
	})
	smAccepted := func(_ net.Conn, st http.ConnState) {
		if st != http.StateNew {
			return
		}
		p.mu.Lock()
		if p.smAccept.IsZero() {
			p.smAccept = time.Now()
		}
		p.mu.Unlock()
	}
	if p.SMURL, err = p.serve(timedSM, smAccepted, cert); err != nil {
		p.Close()
		return nil, err
	}
	p.Trulience = trulience.New(map[string]trulience.Key{APIKey: {}})
	timed := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		p.Trulience.ServeHTTP(w, r)
		d := time.Since(start)
		p.mu.Lock()
		p.served = append(p.served, d)
		p.mu.Unlock()
	})
	if p.TrulienceURL, err = p.serve(timed, p.Trulience.ConnState, cert); err != nil {
		p.Close()
		return nil, err
	}
	if p.TurnstileURL, err = p.serve(http.HandlerFunc(siteverify), nil, cert); err != nil {
		p.Close()
		return nil, err
	}
	timedDynamoDB := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		p.Counter.ServeHTTP(w, r)
		end := time.Now()
		p.mu.Lock()
		p.dynamoDB = append(p.dynamoDB, span{start, end})
		p.mu.Unlock()
	})
	if p.DynamoDBURL, err = p.serve(timedDynamoDB, nil, cert); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

func (p *Peers) startSecretsManager(ctx context.Context) (string, error) {
	m, err := moto.StartMoto(ctx)
	if err != nil {
		return "", err
	}
	p.closers = append(p.closers, m.Close)
	p.motoURL = m.URL
	return m.URL, nil
}

func (p *Peers) serve(h http.Handler, state func(net.Conn, http.ConnState), cert *tls.Certificate) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: h, ConnState: state, ReadHeaderTimeout: 10 * time.Second}
	scheme := "http"
	if cert != nil {
		scheme = "https"
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*cert}, NextProtos: []string{"h2", "http/1.1"}}
		ln = tls.NewListener(ln, srv.TLSConfig)
	}
	go func() { _ = srv.Serve(ln) }()
	p.closers = append(p.closers, func() { _ = srv.Close() })
	return scheme + "://" + ln.Addr().String(), nil
}

// Served returns how long the stand-in spent on each request since the last
// Reset, in arrival order (handler time, excluding the network).
func (p *Peers) Served() []time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]time.Duration(nil), p.served...)
}

// SecretsManagerSpan is how long Secrets Manager was busy with the function
// since the last ResetSecretsManagerSpan, seen from the proxy: from
// accepting the first connection (TCP, then the TLS handshake) to answering
// the last call. 0 when nothing was called.
func (p *Peers) SecretsManagerSpan() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.smAccept.IsZero() || p.smEnd.Before(p.smAccept) {
		return 0
	}
	return p.smEnd.Sub(p.smAccept)
}

// ResetSecretsManagerSpan starts a new SecretsManagerSpan.
func (p *Peers) ResetSecretsManagerSpan() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.smAccept, p.smEnd = time.Time{}, time.Time{}
}

// Reset forgets the stand-in's requests, connections and timings.
func (p *Peers) Reset() {
	p.Trulience.Reset()
	p.mu.Lock()
	p.served = nil
	p.mu.Unlock()
}

// FunctionEnv is the environment that points the function at the peers on loopback.
func (p *Peers) FunctionEnv() map[string]string { return p.Env(p.Loopback()) }

// Close stops every peer, last started first.
func (p *Peers) Close() {
	for i := len(p.closers) - 1; i >= 0; i-- {
		p.closers[i]()
	}
	p.closers = nil
}

// span is a time interval.
type span struct{ start, end time.Time }

// DynamoDBBusy is how long, between from and to, at least one DynamoDB
// call was being served (the union of the calls' spans, seen from the
// proxy: moto's time, without the network's).
func (p *Peers) DynamoDBBusy(from, to time.Time) time.Duration {
	p.mu.Lock()
	var in []span
	for _, s := range p.dynamoDB {
		if !s.start.Before(from) && !s.end.After(to) {
			in = append(in, s)
		}
	}
	p.mu.Unlock()
	slices.SortFunc(in, func(a, b span) int { return a.start.Compare(b.start) })
	var busy time.Duration
	var cur span
	for _, s := range in {
		switch {
		case cur.end.IsZero():
			cur = s
		case s.start.After(cur.end):
			busy += cur.end.Sub(cur.start)
			cur = s
		case s.end.After(cur.end):
			cur.end = s.end
		}
	}
	if !cur.end.IsZero() {
		busy += cur.end.Sub(cur.start)
	}
	return busy
}
