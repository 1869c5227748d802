package trulience

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

const avatar = "4386676996480451678"

// receiver is a webhook receiver recording every call.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	calls  []received
	status int
}

type received struct {
	header http.Header
	event  Event
	raw    map[string]any
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	rc := &receiver{status: 200}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var ev Event
		var raw map[string]any
		if json.Unmarshal(b, &ev) != nil || json.Unmarshal(b, &raw) != nil || r.Method != http.MethodPost {
			t.Errorf("webhook call %s %s", r.Method, b)
		}
		rc.mu.Lock()
		rc.calls = append(rc.calls, received{r.Header.Clone(), ev, raw})
		status := rc.status
		rc.mu.Unlock()
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"recorded":true}`)
	}))
	t.Cleanup(rc.Close)
	return rc
}

// events waits until n calls arrived (and a little longer, to catch
// extra ones) and returns their event types and session IDs.
func (rc *receiver) events(t *testing.T, n int) []received {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		rc.mu.Lock()
		got := len(rc.calls)
		rc.mu.Unlock()
		if got >= n || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.calls) != n {
		t.Fatalf("webhook got %d calls, want %d: %v", len(rc.calls), n, rc.calls)
	}
	return append([]received(nil), rc.calls...)
}

// mintToken asks the stand-in for a token for avatarID.
func mintToken(t *testing.T, s *Server, avatarID string) string {
	t.Helper()
	resp, body := post(t, s, key, "", `{"avatar_id":"`+avatarID+`"}`)
	var out struct{ JWT string }
	if resp.StatusCode != 200 || json.Unmarshal(body, &out) != nil {
		t.Fatalf("mint: %d %s", resp.StatusCode, body)
	}
	return out.JWT
}

var sessionAttr = regexp.MustCompile(`data-session-id="([^"]+)"`)

// openAvatar loads the avatar page with jwt and returns its status, body
// and session ID.
func openAvatar(t *testing.T, s *Server, avatarID, jwt string) (int, string, string) {
	t.Helper()
	resp, err := http.Get(s.URL + AvatarPath + avatarID + "?token=" + jwt)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var id string
	if m := sessionAttr.FindSubmatch(b); m != nil {
		id = string(m[1])
	}
	return resp.StatusCode, string(b), id
}

// stream is an open session stream, as the avatar page holds it.
type stream struct {
	lines  *bufio.Reader
	cancel context.CancelFunc
}

// connect opens the session's stream and reads its first event.
func connect(t *testing.T, s *Server, id string) *stream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+SessionsPath+id, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	st := &stream{lines: bufio.NewReader(resp.Body), cancel: cancel}
	if ev := st.next(t); ev != "live "+id {
		t.Fatalf("first event %q", ev)
	}
	return st
}

// next reads one event and returns "<name> <data>".
func (st *stream) next(t *testing.T) string {
	t.Helper()
	var name, data string
	for {
		line, err := st.lines.ReadString('\n')
		if err != nil {
			t.Fatalf("stream: %v", err)
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "" && name != "":
			return name + " " + data
		case strings.HasPrefix(line, "event: "):
			name = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			data = line[len("data: "):]
		}
	}
}

func TestSessionWebhook(t *testing.T) {
	rc := newReceiver(t)
	s := start(t, map[string]Key{key: {}})
	s.SetWebhook(Webhook{URL: rc.URL, Header: "X-Webhook-Secret", Value: "s3cret", CustomerID: 4242, MaxSessionDuration: 90 * time.Second})

	status, page, id := openAvatar(t, s, avatar, mintToken(t, s, avatar))
	if status != 200 || id == "" || !strings.Contains(page, SessionsPath+id) {
		t.Fatalf("avatar page: %d\n%s", status, page)
	}
	if s.LiveSessions() != 0 || len(s.Deliveries()) != 0 {
		t.Fatal("a session started before the page connected")
	}
	before := time.Now()
	st := connect(t, s, id)
	if s.LiveSessions() != 1 {
		t.Errorf("live sessions %d, want 1", s.LiveSessions())
	}
	connectCall := rc.events(t, 1)[0]
	st.cancel() // the page goes away
	calls := rc.events(t, 2)
	if s.LiveSessions() != 0 {
		t.Errorf("live sessions %d after the page closed", s.LiveSessions())
	}
	if ss := s.Sessions(); len(ss) != 1 || ss[0].EndReason != "closed" || ss[0].ID != id {
		t.Errorf("sessions %+v", ss)
	}

	want := map[string]any{"event_type": EventConnect, "customer_id": float64(4242), "avatar_id": avatar, "session_id": id, "max_session_duration": float64(90)}
	for k, v := range want {
		if connectCall.raw[k] != v {
			t.Errorf("connect %s = %#v, want %#v", k, connectCall.raw[k], v)
		}
	}
	disc := calls[1]
	if disc.event.EventType != EventDisconnect || disc.event.SessionID != id || disc.event.AvatarID != avatar || disc.event.CustomerID != 4242 {
		t.Errorf("disconnect %+v", disc.event)
	}
	if _, ok := disc.raw["max_session_duration"]; ok {
		t.Error("disconnect carries max_session_duration")
	}
	var stamps []time.Time
	for _, c := range calls {
		if c.header.Get("X-Webhook-Secret") != "s3cret" || c.header.Get("Content-Type") != "application/json" {
			t.Errorf("headers %v", c.header)
		}
		ts, err := time.Parse(time.RFC3339, c.event.Timestamp)
		if err != nil || !strings.HasSuffix(c.event.Timestamp, "Z") || ts.Before(before.Add(-time.Second)) || ts.After(time.Now()) {
			t.Errorf("timestamp %q: %v", c.event.Timestamp, err)
		}
		stamps = append(stamps, ts)
	}
	if stamps[1].Before(stamps[0]) {
		t.Errorf("disconnect %v before connect %v", stamps[1], stamps[0])
	}
	if d := s.Deliveries(); len(d) != 2 || d[0].Status != 200 || d[1].Status != 200 {
		t.Errorf("deliveries %+v", d)
	}

	// The stream of an ended session is not reopened.
	resp, err := http.Get(s.URL + SessionsPath + id)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("reopening an ended session: %d, want 204", resp.StatusCode)
	}
	if s.Calls() != 1 {
		t.Errorf("the API recorded %d requests, want 1 (the avatar page is not the API)", s.Calls())
	}
}

func TestSessionTimeUp(t *testing.T) {
	rc := newReceiver(t)
	s := start(t, map[string]Key{key: {}})
	s.SetWebhook(Webhook{URL: rc.URL, CustomerID: 1, MaxSessionDuration: 300 * time.Millisecond})
	_, _, id := openAvatar(t, s, avatar, mintToken(t, s, avatar))
	st := connect(t, s, id)
	if ev := st.next(t); ev != "end time_up" {
		t.Errorf("event %q, want end time_up", ev)
	}
	calls := rc.events(t, 2)
	if calls[0].event.MaxSessionDuration != 1 {
		t.Errorf("max_session_duration %d, want 1 (whole seconds, rounded up)", calls[0].event.MaxSessionDuration)
	}
	if calls[1].event.EventType != EventDisconnect {
		t.Errorf("second event %+v", calls[1].event)
	}
	if ss := s.Sessions(); ss[0].EndReason != "time_up" || ss[0].End.Sub(ss[0].Start) < 300*time.Millisecond {
		t.Errorf("session %+v", ss[0])
	}
}

func TestAvatarRefusesTokens(t *testing.T) {
	s := start(t, map[string]Key{key: {}})
	other := New(nil)
	used := mintToken(t, s, avatar)
	if status, _, id := openAvatar(t, s, avatar, used); status != 200 || id == "" {
		t.Fatalf("first use: %d", status)
	}
	tests := []struct {
		name, avatar, jwt string
		status            int
		says              string
	}{
		{"used twice", avatar, used, 401, "single-use"},
		{"another avatar", "111", mintToken(t, s, avatar), 403, "another avatar"},
		{"expired", avatar, s.mint(avatar, -1), 401, "expired"},
		{"not minted here", avatar, other.mint(avatar, 120), 401, "not issued"},
		{"no token", avatar, "", 401, "not issued"},
	}
	for _, tt := range tests {
		status, page, id := openAvatar(t, s, tt.avatar, tt.jwt)
		if status != tt.status || id != "" || !strings.Contains(page, tt.says) || strings.Contains(page, "EventSource") {
			t.Errorf("%s: %d, session %q\n%s", tt.name, status, id, page)
		}
	}
	if n := len(s.Sessions()); n != 1 {
		t.Errorf("%d sessions, want 1", n)
	}
	resp, err := http.Post(s.URL+AvatarPath+avatar, "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 {
		t.Errorf("POST to the avatar page: %d", resp.StatusCode)
	}
}

func TestWebhookFaults(t *testing.T) {
	tests := []struct {
		faults string
		want   string // event types delivered, in order
	}{
		{"", "connect disconnect"},
		{"duplicate", "connect connect disconnect disconnect"},
		{"reorder", "disconnect connect"},
		{"reorder,duplicate", "disconnect disconnect connect connect"},
		{"drop=connect", "disconnect"},
		{"drop=disconnect", "connect"},
		{"drop=all", ""},
		{"late=150ms", "connect disconnect"},
	}
	for _, tt := range tests {
		t.Run(tt.faults, func(t *testing.T) {
			f, err := ParseWebhookFaults(tt.faults)
			if err != nil {
				t.Fatal(err)
			}
			rc := newReceiver(t)
			s := start(t, map[string]Key{key: {}})
			s.SetWebhook(Webhook{URL: rc.URL, CustomerID: 7, Faults: f})
			_, _, id := openAvatar(t, s, avatar, mintToken(t, s, avatar))
			st := connect(t, s, id)
			opened := time.Now()
			st.cancel()
			n := len(strings.Fields(tt.want))
			var got []string
			for _, c := range rc.events(t, n) {
				got = append(got, strings.TrimPrefix(c.event.EventType, "session."))
				if c.event.SessionID != id {
					t.Errorf("session %q, want %q", c.event.SessionID, id)
				}
			}
			if strings.Join(got, " ") != tt.want {
				t.Errorf("delivered %q, want %q", strings.Join(got, " "), tt.want)
			}
			if f.Late > 0 {
				if d := s.Deliveries(); d[0].At.Sub(opened) < f.Late-20*time.Millisecond {
					t.Errorf("first delivery %v after the session started, want at least %v", d[0].At.Sub(opened), f.Late)
				}
			}
		})
	}
}

func TestParseWebhookFaults(t *testing.T) {
	f, err := ParseWebhookFaults("duplicate, reorder,late=2s,drop=disconnect")
	if err != nil || f != (WebhookFaults{Duplicate: true, Reorder: true, Late: 2 * time.Second, Drop: "disconnect"}) {
		t.Errorf("got %+v, %v", f, err)
	}
	for _, bad := range []string{"late", "late=soon", "late=-1s", "drop", "drop=some", "twice"} {
		if _, err := ParseWebhookFaults(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestWebhookFailures(t *testing.T) {
	rc := newReceiver(t)
	rc.status = 503
	s := start(t, map[string]Key{key: {}})
	s.SetWebhook(Webhook{URL: rc.URL})
	_, _, id := openAvatar(t, s, avatar, mintToken(t, s, avatar))
	connect(t, s, id).cancel()
	rc.events(t, 2) // no retries
	for _, d := range s.Deliveries() {
		if d.Status != 503 || d.Err != "" {
			t.Errorf("delivery %+v", d)
		}
	}

	// An unreachable receiver: the failure is recorded, the session runs.
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	s2 := start(t, map[string]Key{key: {}})
	s2.SetWebhook(Webhook{URL: gone.URL})
	_, _, id = openAvatar(t, s2, avatar, mintToken(t, s2, avatar))
	connect(t, s2, id)
	deadline := time.Now().Add(5 * time.Second)
	for len(s2.Deliveries()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if d := s2.Deliveries(); len(d) != 1 || d[0].Status != 0 || d[0].Err == "" {
		t.Errorf("deliveries %+v", d)
	}
	if s2.LiveSessions() != 1 {
		t.Errorf("live sessions %d", s2.LiveSessions())
	}
}
