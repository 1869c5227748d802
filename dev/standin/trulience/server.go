package trulience

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// TokenPath is the path of the token endpoint, under the base URL.
const TokenPath = "/auth/generate-token"

// Key is what one API key may do. The zero Key may mint tokens for any avatar
// from any origin.
type Key struct {
	// Avatars lists the avatar IDs the key may mint for; empty means any.
	Avatars []string
	// Origins lists the Origin header values the key accepts; empty means
	// no restriction.
	Origins []string
	// NoScope marks a key without the "Generate Tokens" permission.
	NoScope bool
}

// Server is the Trulience stand-in: an http.Handler for POST /auth/generate-token.
type Server struct {
	// URL is the base URL (http://127.0.0.1:port) when started with Start.
	URL string

	secret []byte
	closed chan struct{}
	conns  atomic.Int64
	http   *http.Server

	mu       sync.Mutex
	keys     map[string]Key
	requests []Request
	minted   []Token
	queue    []Fault
	override func(Request) *Fault
	once     sync.Once

	// Avatar sessions and their webhook (avatar.go, webhook.go).
	webhook       Webhook
	redeemed      map[string]bool // jti of every token used at the avatar page
	sessions      map[string]*session
	deliveries    []Delivery
	stopped       bool
	base          context.Context // ends deliveries at Close
	cancel        context.CancelFunc
	sending       sync.WaitGroup
	webhookClient *http.Client
}

// New returns a stand-in accepting keys, with a fresh random signing secret.
func New(keys map[string]Key) *Server {
	s := &Server{
		secret:        make([]byte, 32),
		closed:        make(chan struct{}),
		redeemed:      map[string]bool{},
		sessions:      map[string]*session{},
		webhookClient: &http.Client{},
	}
	s.base, s.cancel = context.WithCancel(context.Background())
	_, _ = rand.Read(s.secret)
	s.SetKeys(keys)
	return s
}

// Start serves a new stand-in on addr (empty: a free loopback port) until Close.
func Start(addr string, keys map[string]Key) (*Server, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := New(keys)
	s.URL = "http://" + ln.Addr().String()
	s.http = &http.Server{Handler: s, ConnState: s.ConnState, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.http.Serve(ln) }()
	return s, nil
}

// Close stops the server started by Start, releases hung handlers and
// abandons the webhook deliveries not made yet (live sessions send no
// disconnect: the stand-in, like the whole stack, is going away).
func (s *Server) Close() {
	s.once.Do(func() {
		close(s.closed)
		s.cancel()
		s.mu.Lock()
		s.stopped = true
		for _, ss := range s.sessions {
			if ss.out != nil && ss.End.IsZero() {
				ss.End, ss.EndReason = time.Now(), "stopped"
				close(ss.out.events)
			}
		}
		s.mu.Unlock()
	})
	if s.http != nil {
		_ = s.http.Close()
	}
	s.sending.Wait()
}

// SetKeys replaces the set of valid API keys (a key rotation, seen by the
// next request).
func (s *Server) SetKeys(keys map[string]Key) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = make(map[string]Key, len(keys))
	for k, v := range keys {
		s.keys[k] = v
	}
}

// ServeHTTP answers like Trulience's token endpoint, and serves the avatar
// page and its session stream (which are not recorded as API requests).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case strings.HasPrefix(r.URL.Path, AvatarPath):
		s.serveAvatar(w, r)
		return
	case strings.HasPrefix(r.URL.Path, SessionsPath):
		s.serveSession(w, r)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	req := s.record(r, body)
	if f := s.nextFault(req); f != nil && s.apply(w, r, f) {
		return
	}
	if r.URL.Path != TokenPath {
		writeJSON(w, http.StatusNotFound, []byte(`{"error":{"code":404,"message":"Not Found"}}`))
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeJSON(w, http.StatusMethodNotAllowed, []byte(`{"error":{"code":405,"message":"Method Not Allowed"}}`))
		return
	}
	apiKey := r.Header.Get("x-api-key")
	s.mu.Lock()
	key, ok := s.keys[apiKey]
	s.mu.Unlock()
	origin := r.Header.Get("Origin")
	avatar, lifetime, aerr := parseBody(body)
	switch {
	case !ok || apiKey == "":
		aerr = &ErrInvalidKey
	case key.NoScope:
		aerr = &ErrScope
	case aerr != nil:
	case len(key.Origins) > 0 && !slices.Contains(key.Origins, origin):
		aerr = &ErrOrigin
	case len(key.Avatars) > 0 && !slices.Contains(key.Avatars, avatar):
		aerr = &ErrAvatar
	case lifetime < 60 || lifetime > 3600:
		aerr = &ErrExpireAt
	}
	if aerr != nil {
		writeJSON(w, aerr.Status, aerr.Body())
		return
	}
	jwt := s.mint(avatar, lifetime)
	s.mu.Lock()
	s.minted = append(s.minted, Token{JWT: jwt, AvatarID: avatar, ExpiresIn: lifetime, Key: apiKey, Origin: origin})
	s.mu.Unlock()
	out, _ := json.Marshal(map[string]any{"jwt": jwt, "expires_in": lifetime, "avatar_id": avatar})
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) record(r *http.Request, body []byte) Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	req := Request{
		N:          len(s.requests) + 1,
		Method:     r.Method,
		Path:       r.URL.Path,
		Header:     r.Header.Clone(),
		Body:       body,
		RemoteAddr: r.RemoteAddr,
		At:         time.Now(),
	}
	s.requests = append(s.requests, req)
	return req
}

// parseBody reads {"avatar_id":"…","expire_at":N}; expire_at defaults to 120.
func parseBody(body []byte) (avatar string, lifetime int, err *APIError) {
	var in struct {
		AvatarID *string         `json:"avatar_id"`
		ExpireAt json.RawMessage `json:"expire_at"`
	}
	if json.Unmarshal(body, &in) != nil || in.AvatarID == nil || *in.AvatarID == "" {
		return "", 0, &ErrBadRequest
	}
	lifetime = 120
	if len(in.ExpireAt) > 0 && !bytes.Equal(in.ExpireAt, []byte("null")) {
		n, perr := strconv.Atoi(string(in.ExpireAt))
		if perr != nil {
			return "", 0, &ErrExpireAt
		}
		lifetime = n
	}
	return *in.AvatarID, lifetime, nil
}

func itoa(n int) string { return strconv.Itoa(n) }
