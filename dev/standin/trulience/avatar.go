package trulience

import (
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"
)

// AvatarPath is where the stand-in serves the avatar page the site's
// iframe opens: /avatar/<id>?token=<jwt>, as www.trulience.com does.
const AvatarPath = "/avatar/"

// SessionsPath is the page's session stream: /sessions/<session id>.
const SessionsPath = "/sessions/"

// Session is one avatar session: a token redeemed at the avatar page, live
// while the page holds its stream open.
type Session struct {
	ID, AvatarID string
	// TokenID is the redeemed token's jti.
	TokenID string
	// Start is when the page connected (zero until then); End when the
	// session ended (zero while live), for EndReason: "closed" (the page
	// went away) or "time_up" (Webhook.MaxSessionDuration).
	Start, End time.Time
	EndReason  string
}

// Live reports whether the session has started and not ended.
func (s Session) Live() bool { return !s.Start.IsZero() && s.End.IsZero() }

// session is a Session with what the stand-in needs to run it.
type session struct {
	Session
	hook Webhook
	out  *outbox // nil until the page connects
}

// keepalive is how often the session stream writes a comment: a write is
// how the stand-in notices a page that vanished without closing its
// connection (a machine that went to sleep, a pulled cable).
const keepalive = 15 * time.Second

//go:embed avatar.html
var avatarHTML string

var avatarPage = template.Must(template.New("avatar").Parse(avatarHTML))

// Sessions returns a copy of every session, in no particular order.
func (s *Server) Sessions() []Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Session, 0, len(s.sessions))
	for _, ss := range s.sessions {
		out = append(out, ss.Session)
	}
	return out
}

// LiveSessions is the number of sessions live now.
func (s *Server) LiveSessions() int {
	n := 0
	for _, ss := range s.Sessions() {
		if ss.Live() {
			n++
		}
	}
	return n
}

// serveAvatar redeems the token in the query and answers the avatar page,
// which then opens the session's stream. A token works once, before it
// expires, for the avatar it was minted for.
func (s *Server) serveAvatar(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	avatar := strings.TrimPrefix(r.URL.Path, AvatarPath)
	c, err := s.Verify(r.URL.Query().Get("token"))
	status, problem := http.StatusOK, ""
	switch {
	case err != nil:
		status, problem = http.StatusUnauthorized, "This token was not issued by Trulience."
	case c.Expires <= time.Now().Unix():
		status, problem = http.StatusUnauthorized, "This token has expired."
	case c.AvatarID != avatar:
		status, problem = http.StatusForbidden, "This token is for another avatar."
	}
	data := map[string]string{"Avatar": avatar, "Problem": problem}
	if problem == "" {
		s.mu.Lock()
		if s.redeemed[c.ID] {
			status, data["Problem"] = http.StatusUnauthorized, "This token has been used already: tokens are single-use."
		} else {
			s.redeemed[c.ID] = true
			ss := &session{Session: Session{ID: newSessionID(), AvatarID: avatar, TokenID: c.ID}}
			s.sessions[ss.ID] = ss
			data["Session"], data["Stream"] = ss.ID, SessionsPath+ss.ID
		}
		s.mu.Unlock()
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	_ = avatarPage.Execute(w, data)
}

// serveSession runs a session for as long as its page keeps this stream
// (text/event-stream) open: the first request starts it (session.connect),
// and it ends (session.disconnect) when the connection closes, however the
// page went away, or when its time is up. Any later request for the session
// gets 204, which stops EventSource from reconnecting.
func (s *Server) serveSession(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimPrefix(r.URL.Path, SessionsPath)
	s.mu.Lock()
	ss := s.sessions[id]
	if ss == nil || ss.out != nil || s.stopped {
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
		return
	}
	ss.Start = time.Now()
	ss.hook = s.webhook
	ss.out = s.newOutbox(ss.hook)
	ev := s.event(ss, EventConnect, ss.Start)
	if d := ss.hook.MaxSessionDuration; d > 0 {
		ev.MaxSessionDuration = int((d + time.Second - 1) / time.Second)
	}
	ss.out.events <- ev
	s.mu.Unlock()

	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	rc := http.NewResponseController(w)
	write := func(msg string) bool {
		_, err := fmt.Fprint(w, msg)
		return err == nil && rc.Flush() == nil
	}
	if !write(fmt.Sprintf("event: live\ndata: %s\n\n", ss.ID)) {
		s.endSession(ss, "closed")
		return
	}
	var timeUp <-chan time.Time
	if d := ss.hook.MaxSessionDuration; d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeUp = t.C
	}
	tick := time.NewTicker(keepalive)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			s.endSession(ss, "closed")
			return
		case <-timeUp:
			write("event: end\ndata: time_up\n\n")
			s.endSession(ss, "time_up")
			return
		case <-tick.C:
			if !write(": keepalive\n\n") {
				s.endSession(ss, "closed")
				return
			}
		case <-s.closed:
			return
		}
	}
}

// endSession ends ss once, sending its disconnect.
func (s *Server) endSession(ss *session, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !ss.End.IsZero() {
		return
	}
	ss.End, ss.EndReason = time.Now(), reason
	ss.out.events <- s.event(ss, EventDisconnect, ss.End)
	close(ss.out.events)
}

// event is one of ss's events at t.
func (s *Server) event(ss *session, kind string, t time.Time) Event {
	return Event{
		EventType:  kind,
		CustomerID: ss.hook.CustomerID,
		AvatarID:   ss.AvatarID,
		SessionID:  ss.ID,
		Timestamp:  t.UTC().Format(timestampLayout),
	}
}

// newSessionID is a random UUID (version 4).
func newSessionID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
