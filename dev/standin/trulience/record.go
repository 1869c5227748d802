package trulience

import (
	"net"
	"net/http"
	"time"
)

// Request is one request the stand-in received, as it arrived.
type Request struct {
	N          int // 1 for the first request since New or Reset
	Method     string
	Path       string
	Header     http.Header
	Body       []byte
	RemoteAddr string
	At         time.Time
}

// Token is one JWT the stand-in minted, with what it was minted for.
type Token struct {
	JWT       string
	AvatarID  string
	ExpiresIn int
	Key       string // the x-api-key that asked for it
	Origin    string
}

// Requests returns a copy of every request received, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Calls is the number of requests received.
func (s *Server) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

// LastRequest returns the most recent request, and false if there was none.
func (s *Server) LastRequest() (Request, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.requests) == 0 {
		return Request{}, false
	}
	return s.requests[len(s.requests)-1], true
}

// Minted returns a copy of every token minted, oldest first.
func (s *Server) Minted() []Token {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Token(nil), s.minted...)
}

// WasMinted reports whether jwt is one the stand-in minted.
func (s *Server) WasMinted(jwt string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.minted {
		if t.JWT == jwt {
			return true
		}
	}
	return false
}

// Connections is the number of TCP connections accepted so far (counted
// through ConnState, which Start installs).
func (s *Server) Connections() int {
	return int(s.conns.Load())
}

// ConnState counts new connections; install it as http.Server.ConnState when
// serving the stand-in yourself (httptest.Server.Config.ConnState).
func (s *Server) ConnState(_ net.Conn, state http.ConnState) {
	if state == http.StateNew {
		s.conns.Add(1)
	}
}

// Reset forgets recorded requests, minted tokens, connections, queued faults
// and the override; keys are kept.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests, s.minted, s.queue, s.override = nil, nil, nil, nil
	s.conns.Store(0)
}
