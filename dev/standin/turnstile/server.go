// Package turnstile is a local stand-in for Cloudflare Turnstile's
// siteverify endpoint, following Cloudflare's documented behaviour: form or
// JSON requests; answers with success, error-codes, challenge_ts, hostname,
// action and cdata; single-use tokens valid for 300 seconds, answered
// timeout-or-duplicate when replayed, except for a retry with the same
// idempotency_key, which gets the first answer again; and Cloudflare's test
// secret keys with the dummy token the test site keys hand out. It can mint
// real single-use tokens for a configured secret, inject faults, and counts
// calls.
package turnstile

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"mime"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Path is siteverify's path; a stand-in started with Start answers at URL+Path.
const Path = "/turnstile/v0/siteverify"

// Cloudflare's documented test keys. The test site keys hand the browser
// DummyToken; the test secret keys accept only that token and answer with
// the hostname TestHostname.
const (
	PassSecret      = "1x0000000000000000000000000000000AA" // always passes
	FailSecret      = "2x0000000000000000000000000000000AA" // always fails: invalid-input-response
	DuplicateSecret = "3x0000000000000000000000000000000AA" // answers timeout-or-duplicate

	PassSiteKey          = "1x00000000000000000000AA" // always passes, visible widget
	FailSiteKey          = "2x00000000000000000000AB" // always blocks, visible widget
	InvisiblePassSiteKey = "1x00000000000000000000BB" // always passes, invisible widget

	DummyToken   = "XXXX.DUMMY.TOKEN.XXXX"
	TestHostname = "example.com"
)

// TokenLifetime is how long a token may be verified after the widget made it.
const TokenLifetime = 300 * time.Second

// MaxToken is the longest token Cloudflare accepts.
const MaxToken = 2048

// Answer is siteverify's answer.
type Answer struct {
	Success     bool     `json:"success"`
	ErrorCodes  []string `json:"error-codes"`
	ChallengeTS string   `json:"challenge_ts,omitempty"`
	Hostname    string   `json:"hostname,omitempty"`
	Action      string   `json:"action,omitempty"`
	CData       string   `json:"cdata,omitempty"`
}

// TokenOptions are what the widget that made a token knew.
type TokenOptions struct {
	// Hostname is the page's hostname; empty means 127.0.0.1.
	Hostname string
	// Action and CData are the widget's action and cdata.
	Action, CData string
}

// Call is one request the stand-in answered (the secret is not kept).
type Call struct {
	JSON           bool   // the body was JSON (else form-encoded)
	Response       string // the token
	RemoteIP       string
	IdempotencyKey string
	Answer         Answer // zero when a fault answered
	Fault          bool   // a fault replaced the answer
}

// Fault replaces the stand-in's answer to one call.
type Fault struct {
	// Down closes the connection without an answer, as an unreachable
	// service looks to a client that already connected.
	Down bool
	// Delay is waited before answering (Slow).
	Delay time.Duration
	// Status, when not 0, answers with this HTTP status and Body.
	Status int
	// Body is the answer's body with Status (garbage when not JSON).
	Body []byte
	// Codes, when set, answers success false with these error codes.
	Codes []string
}

// Canned faults.
var (
	Down         = Fault{Down: true}
	ServerError  = Fault{Status: http.StatusBadGateway, Body: []byte("<html><body>502 Bad Gateway</body></html>")}
	Garbage      = Fault{Status: http.StatusOK, Body: []byte("<html>not siteverify</html>")}
	InternalErr  = Fault{Codes: []string{"internal-error"}}
	Slow         = func(d time.Duration) Fault { return Fault{Delay: d} }
	RefuseTokens = func(codes ...string) Fault { return Fault{Codes: codes} }
)

type issued struct {
	secret  string
	opts    TokenOptions
	at      time.Time
	used    bool
	answers map[string]Answer // by idempotency key
}

// Server is the siteverify stand-in.
type Server struct {
	// URL is the base URL (http://127.0.0.1:port) when started with Start;
	// VerifyURL is URL+Path.
	URL, VerifyURL string
	// Now is the clock (time.Now); tests move it to expire tokens.
	Now func() time.Time

	http *http.Server
	mu   sync.Mutex
	// secrets are the configured (non-test) secret keys.
	secrets  map[string]bool
	tokens   map[string]*issued
	calls    []Call
	queue    []Fault
	standing *Fault
}

// New returns a stand-in that knows Cloudflare's test secret keys and secrets.
func New(secrets ...string) *Server {
	s := &Server{Now: time.Now, secrets: map[string]bool{}, tokens: map[string]*issued{}}
	for _, sec := range secrets {
		s.secrets[sec] = true
	}
	return s
}

// Start serves a new stand-in on addr (empty: a free loopback port) until Close.
func Start(addr string, secrets ...string) (*Server, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := New(secrets...)
	s.URL = "http://" + ln.Addr().String()
	s.VerifyURL = s.URL + Path
	s.http = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.http.Serve(ln) }()
	return s, nil
}

// Close stops a stand-in started with Start.
func (s *Server) Close() {
	if s.http != nil {
		_ = s.http.Close()
	}
}

// AddSecret makes secret a known secret key.
func (s *Server) AddSecret(secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.secrets[secret] = true
}

// Mint returns a new single-use token for secret, as the widget of the site
// key paired with secret hands out; it is valid for TokenLifetime.
func (s *Server) Mint(secret string, o TokenOptions) string {
	if o.Hostname == "" {
		o.Hostname = "127.0.0.1"
	}
	b := make([]byte, 96)
	_, _ = rand.Read(b)
	tok := "0." + base64.RawURLEncoding.EncodeToString(b)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[tok] = &issued{secret: secret, opts: o, at: s.Now(), answers: map[string]Answer{}}
	return tok
}

// Enqueue queues faults: each call takes the next one.
func (s *Server) Enqueue(f ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = append(s.queue, f...)
}

// SetFault makes every call meet f (after the queue is empty); nil ends it.
func (s *Server) SetFault(f *Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.standing = f
}

// Calls returns the calls answered so far.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// Count is how many calls reached the stand-in.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != Path {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	call, fields, ok := readRequest(r)

	s.mu.Lock()
	var f *Fault
	if len(s.queue) > 0 {
		f = &s.queue[0]
		s.queue = s.queue[1:]
	} else if s.standing != nil {
		f = s.standing
	}
	s.mu.Unlock()
	if f != nil && f.Delay > 0 {
		select {
		case <-time.After(f.Delay):
		case <-r.Context().Done():
			call.Fault = true // the caller gave up waiting: counted, not verified
			s.record(call)
			return
		}
	}
	if f != nil && (f.Down || f.Status != 0 || f.Codes != nil) {
		call.Fault = true
		s.record(call)
		switch {
		case f.Down:
			panic(http.ErrAbortHandler)
		case f.Status != 0:
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(f.Status)
			_, _ = w.Write(f.Body)
		default:
			write(w, no(f.Codes...))
		}
		return
	}
	s.mu.Lock()
	var ans Answer
	if !ok {
		ans = no("bad-request")
	} else {
		ans = s.verify(fields)
	}
	call.Answer = ans
	s.calls = append(s.calls, call)
	s.mu.Unlock()
	write(w, ans)
}

func (s *Server) record(c Call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, c)
}

// readRequest reads a form-encoded or JSON body.
func readRequest(r *http.Request) (Call, map[string]string, bool) {
	fields := map[string]string{}
	var call Call
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "application/json" {
		call.JSON = true
		var m map[string]any
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			return call, nil, false
		}
		for k, v := range m {
			str, ok := v.(string)
			if !ok {
				return call, nil, false
			}
			fields[k] = str
		}
	} else {
		if err := r.ParseForm(); err != nil {
			return call, nil, false
		}
		for k := range r.PostForm {
			fields[k] = r.PostForm.Get(k)
		}
	}
	call.Response, call.RemoteIP, call.IdempotencyKey = fields["response"], fields["remoteip"], fields["idempotency_key"]
	return call, fields, true
}

// verify answers one well-formed request; s.mu is held.
func (s *Server) verify(f map[string]string) Answer {
	secret, token, key := strings.TrimSpace(f["secret"]), f["response"], f["idempotency_key"]
	switch {
	case secret == "":
		return no("missing-input-secret")
	case secret != PassSecret && secret != FailSecret && secret != DuplicateSecret && !s.secrets[secret]:
		return no("invalid-input-secret")
	case token == "":
		return no("missing-input-response")
	case len(token) > MaxToken:
		return no("invalid-input-response")
	}
	switch secret {
	case PassSecret, FailSecret, DuplicateSecret:
		if token != DummyToken {
			return no("invalid-input-response")
		}
		switch secret {
		case FailSecret:
			return no("invalid-input-response")
		case DuplicateSecret:
			return no("timeout-or-duplicate")
		}
		return Answer{Success: true, ErrorCodes: []string{}, ChallengeTS: s.Now().UTC().Format(time.RFC3339), Hostname: TestHostname}
	}
	t := s.tokens[token]
	if t == nil || t.secret != secret {
		return no("invalid-input-response")
	}
	if key != "" {
		if a, ok := t.answers[key]; ok {
			return a
		}
	}
	var ans Answer
	switch {
	case t.used, s.Now().Sub(t.at) > TokenLifetime:
		ans = no("timeout-or-duplicate")
	default:
		t.used = true
		ans = Answer{Success: true, ErrorCodes: []string{}, ChallengeTS: t.at.UTC().Format(time.RFC3339), Hostname: t.opts.Hostname, Action: t.opts.Action, CData: t.opts.CData}
	}
	if key != "" {
		t.answers[key] = ans
	}
	return ans
}

func no(codes ...string) Answer { return Answer{ErrorCodes: codes} }

func write(w http.ResponseWriter, a Answer) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(a)
}

// DropFaults empties the queue of faults and returns how many were unused.
func (s *Server) DropFaults() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.queue)
	s.queue = nil
	return n
}
