package trulience

import (
	"net/http"
	"time"
)

// Fault replaces or delays the stand-in's normal answer to one request.
// The zero Fault changes nothing.
type Fault struct {
	// Delay is waited before answering (the canned or the normal answer).
	Delay time.Duration
	// Hang never answers: the handler returns only when the client gives up
	// or the server closes.
	Hang bool
	// Drop closes the connection without writing any answer.
	Drop bool

	// Status, when not 0, replaces the normal answer with Status, Header and Body.
	Status int
	Header http.Header
	Body   []byte
	// Cut sends the headers (with a Content-Length for the whole Body) and
	// only the first half of Body, then closes the connection.
	Cut bool
	// Trickle writes Body one byte at a time, this far apart.
	Trickle time.Duration
}

// Enqueue queues canned faults; each request takes the next one, in order,
// before the override is consulted.
func (s *Server) Enqueue(f ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = append(s.queue, f...)
}

// DropFaults empties the queue and returns how many faults were left unused.
func (s *Server) DropFaults() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.queue)
	s.queue = nil
	return n
}

// SetOverride installs fn, asked for every request that finds the queue
// empty; it returns the fault to apply, or nil for the normal answer.
// A nil fn removes the override.
func (s *Server) SetOverride(fn func(Request) *Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.override = fn
}

// nextFault returns the fault for req: the head of the queue, else the override's.
func (s *Server) nextFault(req Request) *Fault {
	s.mu.Lock()
	if len(s.queue) > 0 {
		f := s.queue[0]
		s.queue = s.queue[1:]
		s.mu.Unlock()
		return &f
	}
	fn := s.override
	s.mu.Unlock()
	if fn == nil {
		return nil
	}
	return fn(req)
}

// apply waits and, for a fault with a Status, writes the canned answer.
// It reports whether the answer is done (false: answer normally).
func (s *Server) apply(w http.ResponseWriter, r *http.Request, f *Fault) bool {
	if f.Delay > 0 {
		select {
		case <-time.After(f.Delay):
		case <-r.Context().Done():
			return true
		case <-s.closed:
			return true
		}
	}
	switch {
	case f.Hang:
		select {
		case <-r.Context().Done():
		case <-s.closed:
		}
		panic(http.ErrAbortHandler)
	case f.Drop:
		panic(http.ErrAbortHandler)
	case f.Status == 0:
		return false
	}
	for k, v := range f.Header {
		w.Header()[k] = v
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	body := f.Body
	if f.Cut || f.Trickle > 0 {
		w.Header().Set("Content-Length", itoa(len(body)))
	}
	w.WriteHeader(f.Status)
	rc := http.NewResponseController(w)
	if f.Cut {
		_, _ = w.Write(body[:len(body)/2])
		_ = rc.Flush()
		panic(http.ErrAbortHandler)
	}
	if f.Trickle > 0 {
		for i := range body {
			if _, err := w.Write(body[i : i+1]); err != nil {
				return true
			}
			_ = rc.Flush()
			select {
			case <-time.After(f.Trickle):
			case <-r.Context().Done():
				return true
			case <-s.closed:
				return true
			}
		}
		return true
	}
	_, _ = w.Write(body)
	return true
}
