package devstack

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Fault is what an AWSProxy answers to one operation instead of forwarding
// it, worded as the AWS JSON 1.0/1.1 protocols word errors.
type Fault struct {
	// Status, Type and Message make an AWS error answer
	// ({"__type": Type, "message": Message} with X-Amzn-ErrorType).
	Status        int
	Type, Message string
	// Body, when set, is a 200 answer with this JSON body; {{SecretId}}
	// in it is replaced by the request's SecretId.
	Body string
	// Drop closes the connection without an answer.
	Drop bool
	// Delay is waited first (the caller's context may end it).
	Delay time.Duration
}

// Faults AWS services answer, as the real services word them.
var (
	Throttled = &Fault{Status: 400, Type: "ThrottlingException", Message: "Rate exceeded"}
	Internal  = &Fault{Status: 500, Type: "InternalServiceError", Message: "An internal error occurred"}
	Denied    = &Fault{Status: 400, Type: "AccessDeniedException", Message: "User: arn:aws:sts::123456789012:assumed-role/TokenFunctionRole/TokenFunction is not authorized to perform: secretsmanager:GetSecretValue on resource: trulience because no identity-based policy allows the secretsmanager:GetSecretValue action"}
	NotFound  = &Fault{Status: 400, Type: "ResourceNotFoundException", Message: "Secrets Manager can't find the specified secret."}
	Decrypt   = &Fault{Status: 400, Type: "DecryptionFailure", Message: "Secrets Manager can't decrypt the protected secret text using the provided KMS key."}
)

const secretAnswer = `{"ARN":"arn:aws:secretsmanager:us-east-1:123456789012:secret:{{SecretId}}-AbCdEf","Name":"{{SecretId}}","VersionId":"fault-version","VersionStages":["AWSCURRENT"],`

// SecretString answers GetSecretValue with value as its SecretString.
func SecretString(value string) *Fault {
	b, _ := json.Marshal(value)
	return &Fault{Body: secretAnswer + `"SecretString":` + string(b) + `}`}
}

// SecretBinary answers GetSecretValue with a SecretBinary and no SecretString.
var SecretBinary = &Fault{Body: secretAnswer + `"SecretBinary":"AAEC"}`}

// AWSProxy stands between the function and an AWS endpoint (moto): it
// counts every call by operation, answers chosen operations with a Fault,
// and can refuse connections altogether, so tests see what the function
// did and what it does when AWS misbehaves.
type AWSProxy struct {
	// URL is the proxy's endpoint, the function's AWS_ENDPOINT_URL_<SERVICE>.
	URL string

	addr string
	rp   *httputil.ReverseProxy

	mu     sync.Mutex
	faults map[string]*Fault
	calls  map[string]int
	cred   string
	srv    *http.Server
	// serial holds, by operation, a lock forwarded calls take one at a
	// time (see serialWrites).
	serial map[string]*sync.Mutex
}

// NewAWSProxy returns a proxy to target as an http.Handler, for a caller
// that serves it itself (over TLS, say); its URL, Refuse and Restore are
// then the caller's.
func NewAWSProxy(target string) (*AWSProxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	return &AWSProxy{rp: httputil.NewSingleHostReverseProxy(u), faults: map[string]*Fault{}, calls: map[string]int{}}, nil
}

// StartAWSProxy starts a proxy to target on a free loopback port.
func StartAWSProxy(target string) (*AWSProxy, error) {
	p, err := NewAWSProxy(target)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p.addr = ln.Addr().String()
	p.URL = "http://" + p.addr
	p.serve(ln)
	return p, nil
}

func (p *AWSProxy) serve(ln net.Listener) {
	srv := &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	p.mu.Lock()
	p.srv = srv
	p.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
}

// Operation is a call's operation ("GetSecretValue", "UpdateItem"): the
// part of its X-Amz-Target after the service prefix.
func Operation(r *http.Request) string {
	t := r.Header.Get("X-Amz-Target")
	if i := strings.LastIndexByte(t, '.'); i >= 0 {
		return t[i+1:]
	}
	return t
}

// SetFault makes every call of operation meet f; nil forwards it again.
func (p *AWSProxy) SetFault(operation string, f *Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if f == nil {
		delete(p.faults, operation)
		return
	}
	p.faults[operation] = f
}

// Calls is how many calls of operation reached the proxy (SDK retries and
// faulted calls included).
func (p *AWSProxy) Calls(operation string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[operation]
}

// LastCredential is the SigV4 credential scope of the last call
// (AKID/date/region/service/aws4_request): whose keys signed it, for where.
func (p *AWSProxy) LastCredential() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cred
}

// Refuse closes the listener and every connection: the endpoint becomes
// unreachable (connection refused) until Restore.
func (p *AWSProxy) Refuse() {
	p.mu.Lock()
	srv := p.srv
	p.srv = nil
	p.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// Restore listens again on the same address.
func (p *AWSProxy) Restore() error {
	ln, err := Relisten(p.addr)
	if err != nil {
		return err
	}
	p.serve(ln)
	return nil
}

// Relisten listens on addr again after a Refuse-style close, retrying for
// about a second while the old socket lets go of the port.
func Relisten(addr string) (net.Listener, error) {
	var err error
	for range 50 {
		var ln net.Listener
		if ln, err = net.Listen("tcp", addr); err == nil {
			return ln, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil, err
}

// Close stops the proxy.
func (p *AWSProxy) Close() { p.Refuse() }

// ServeHTTP counts the call, then answers its fault or forwards it.
func (p *AWSProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op := Operation(r)
	p.mu.Lock()
	p.calls[op]++
	f := p.faults[op]
	if _, c, ok := strings.Cut(r.Header.Get("Authorization"), "Credential="); ok {
		p.cred, _, _ = strings.Cut(c, ",")
	}
	p.mu.Unlock()
	if f == nil {
		p.forward(w, r, op)
		return
	}
	body, _ := io.ReadAll(r.Body)
	if f.Delay > 0 {
		select {
		case <-time.After(f.Delay):
		case <-r.Context().Done():
			return
		}
	}
	w.Header().Set("Content-Type", r.Header.Get("Content-Type"))
	w.Header().Set("X-Amzn-RequestId", "11111111-2222-3333-4444-"+randHex(6))
	switch {
	case f.Drop:
		panic(http.ErrAbortHandler)
	case f.Status != 0:
		w.Header().Set("X-Amzn-ErrorType", f.Type)
		w.WriteHeader(f.Status)
		b, _ := json.Marshal(map[string]string{"__type": f.Type, "message": f.Message})
		_, _ = w.Write(b)
	case f.Body != "":
		var in struct{ SecretId string }
		_ = json.Unmarshal(body, &in)
		_, _ = w.Write([]byte(strings.ReplaceAll(f.Body, "{{SecretId}}", in.SecretId)))
	default:
		r.Body = io.NopCloser(bytes.NewReader(body))
		p.forward(w, r, op)
	}
}

// forward passes the call on, one at a time when its operation is serialized.
func (p *AWSProxy) forward(w http.ResponseWriter, r *http.Request, op string) {
	if mu := p.serial[op]; mu != nil {
		mu.Lock()
		defer mu.Unlock()
	}
	p.rp.ServeHTTP(w, r)
}
