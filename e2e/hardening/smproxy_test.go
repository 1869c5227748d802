package hardening

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// smFault is what the Secrets Manager proxy does to GetSecretValue calls
// instead of forwarding them to moto.
type smFault struct {
	// status, typ and message make an AWS JSON 1.1 error answer.
	status       int
	typ, message string
	// value, when set, answers a GetSecretValue whose SecretString is *value.
	value *string
	// binary answers a secret with SecretBinary and no SecretString.
	binary bool
	// drop closes the connection without an answer.
	drop bool
	// delay is waited first (the call's context may end it).
	delay time.Duration
}

// The faults Secrets Manager can answer, as the real service words them.
var (
	smThrottled = &smFault{status: 400, typ: "ThrottlingException", message: "Rate exceeded"}
	smInternal  = &smFault{status: 500, typ: "InternalServiceError", message: "An internal error occurred"}
	smDenied    = &smFault{status: 400, typ: "AccessDeniedException", message: "User: arn:aws:sts::123456789012:assumed-role/TokenFunctionRole/TokenFunction is not authorized to perform: secretsmanager:GetSecretValue on resource: trulience because no identity-based policy allows the secretsmanager:GetSecretValue action"}
	smNotFound  = &smFault{status: 400, typ: "ResourceNotFoundException", message: "Secrets Manager can't find the specified secret."}
	smDecrypt   = &smFault{status: 400, typ: "DecryptionFailure", message: "Secrets Manager can't decrypt the protected secret text using the provided KMS key."}
)

func secretValue(v string) *smFault { return &smFault{value: &v} }

// smProxy is a reverse proxy in front of moto that counts GetSecretValue
// calls and injects faults into them; it can also refuse connections.
type smProxy struct {
	URL  string
	addr string
	rp   *httputil.ReverseProxy

	mu    sync.Mutex
	fault *smFault
	gets  int
	srv   *http.Server
}

func startSMProxy(t *testing.T, target string) *smProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &smProxy{rp: httputil.NewSingleHostReverseProxy(u)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.URL = "http://" + p.addr
	p.serve(ln)
	t.Cleanup(p.Refuse)
	return p
}

func (p *smProxy) serve(ln net.Listener) {
	srv := &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	p.mu.Lock()
	p.srv = srv
	p.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
}

// Refuse closes the listener and every connection: the endpoint becomes
// unreachable (connection refused) until Restore.
func (p *smProxy) Refuse() {
	p.mu.Lock()
	srv := p.srv
	p.srv = nil
	p.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// Restore listens again on the same address.
func (p *smProxy) Restore(t *testing.T) {
	t.Helper()
	var ln net.Listener
	var err error
	for range 50 {
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("re-listening on %s: %v", p.addr, err)
	}
	p.serve(ln)
}

// SetFault makes every GetSecretValue call meet f (nil forwards to moto).
func (p *smProxy) SetFault(f *smFault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fault = f
}

// Gets is the number of GetSecretValue calls received (SDK retries included).
func (p *smProxy) Gets() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.gets
}

func (p *smProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "secretsmanager.")
	if op != "GetSecretValue" {
		p.rp.ServeHTTP(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	p.mu.Lock()
	p.gets++
	f := p.fault
	p.mu.Unlock()
	if f == nil {
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		p.rp.ServeHTTP(w, r)
		return
	}
	if f.delay > 0 {
		select {
		case <-time.After(f.delay):
		case <-r.Context().Done():
			return
		}
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-RequestId", "11111111-2222-3333-4444-"+randHex(6))
	switch {
	case f.drop:
		panic(http.ErrAbortHandler)
	case f.status != 0:
		w.Header().Set("X-Amzn-ErrorType", f.typ)
		w.WriteHeader(f.status)
		b, _ := json.Marshal(map[string]string{"__type": f.typ, "message": f.message})
		_, _ = w.Write(b)
	case f.value != nil || f.binary:
		var in struct{ SecretId string }
		_ = json.Unmarshal(body, &in)
		out := map[string]any{
			"ARN":  "arn:aws:secretsmanager:us-east-1:123456789012:secret:" + in.SecretId + "-AbCdEf",
			"Name": in.SecretId, "VersionId": "fault-" + randHex(4), "VersionStages": []string{"AWSCURRENT"},
			"CreatedDate": float64(time.Now().Unix()),
		}
		if f.binary {
			out["SecretBinary"] = "AAEC"
		} else {
			out["SecretString"] = *f.value
		}
		b, _ := json.Marshal(out)
		_, _ = w.Write(b)
	default:
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		p.rp.ServeHTTP(w, r)
	}
}
