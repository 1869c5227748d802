package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/trulience-token/trulience-token/internal/config"
	"github.com/trulience-token/trulience-token/internal/httpapi"
)

// Event types Trulience sends.
const (
	Connect    = "session.connect"
	Disconnect = "session.disconnect"
)

// Limits of what a call may carry.
const (
	// MaxBody is the largest body accepted, in bytes.
	MaxBody = 4096
	// MaxSessionID is the longest session_id accepted.
	MaxSessionID = 128
	// Window is how far a timestamp may be from now, either way.
	Window = 24 * time.Hour
	// MaxDuration is the largest max_session_duration accepted, in seconds.
	MaxDuration = 86400
)

// Payload is one webhook call's body, checked.
type Payload struct {
	EventType  string
	CustomerID string // digits, as sent
	AvatarID   string
	SessionID  string
	Timestamp  time.Time
	// MaxDuration is max_session_duration, in whole seconds rounded up,
	// at most MaxDuration seconds; 0 when absent, null or 0.
	MaxDuration time.Duration
	// Clamped is the max_session_duration sent when it was above
	// MaxDuration and so taken as MaxDuration (for the log).
	Clamped string
}

func invalid(format string, a ...any) *httpapi.Problem {
	return &httpapi.Problem{Status: http.StatusBadRequest, Code: "invalid_request", Message: fmt.Sprintf(format, a...)}
}

// Parse reads body strictly: one JSON object of at most MaxBody bytes,
// no field twice (at any depth), every known field of its type and range,
// the timestamp within Window of now. Fields it does not know are
// ignored, so a field Trulience adds later does not lose events. Messages
// name the field, never its value.
func Parse(body []byte, now time.Time) (Payload, *httpapi.Problem) {
	var p Payload
	if len(body) > MaxBody {
		return p, invalid("the body is larger than %d bytes", MaxBody)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return p, invalid("the body is not a JSON object")
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return p, invalid("the body is not valid JSON")
		}
		name := tok.(string) // inside an object, the decoder yields names only
		if seen[name] {
			return p, invalid("the field %q appears twice", capped(name))
		}
		seen[name] = true
		if prob := p.field(dec, name, now); prob != nil {
			return p, prob
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return p, invalid("the body is not valid JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return p, invalid("the body holds more than one JSON value")
	}
	for _, f := range []struct {
		name string
		set  bool
	}{{"event_type", p.EventType != ""}, {"customer_id", p.CustomerID != ""}, {"avatar_id", p.AvatarID != ""}, {"session_id", p.SessionID != ""}, {"timestamp", !p.Timestamp.IsZero()}} {
		if !f.set {
			return p, invalid("%s is required", f.name)
		}
	}
	return p, nil
}

// field reads the value of the field name into p.
func (p *Payload) field(dec *json.Decoder, name string, now time.Time) *httpapi.Problem {
	switch name {
	case "event_type", "avatar_id", "session_id", "timestamp", "customer_id", "max_session_duration":
	default:
		if err := skip(dec); err != nil {
			return invalid("the body is not valid JSON, or repeats a field")
		}
		return nil
	}
	tok, err := dec.Token()
	if err != nil {
		return invalid("the body is not valid JSON")
	}
	s, isString := tok.(string)
	n, isNumber := tok.(json.Number)
	switch name {
	case "event_type":
		if !isString || (s != Connect && s != Disconnect) {
			return invalid("event_type must be %q or %q", Connect, Disconnect)
		}
		p.EventType = s
	case "customer_id":
		if !isNumber || !config.ValidAvatarID(n.String()) {
			return invalid("customer_id must be a whole number (1 to 32 digits)")
		}
		p.CustomerID = n.String()
	case "avatar_id":
		if !isString || !config.ValidAvatarID(s) {
			return invalid("avatar_id must be a string of 1 to 32 digits")
		}
		p.AvatarID = s
	case "session_id":
		if !isString || !sessionID(s) {
			return invalid("session_id must be a string of 1 to %d printable ASCII characters", MaxSessionID)
		}
		p.SessionID = s
	case "timestamp":
		// RFC 3339 only: a time without a zone (or a bare date, or epoch
		// seconds, whose unit is a guess) names no instant. Reading it as
		// UTC would, were it ever local time, move seconds between days
		// and could end a session before it began, silently; a 400 shows
		// in WebhookRejected (Reason=invalid_request) and the log instead.
		t, err := time.Parse(time.RFC3339Nano, s)
		if !isString || err != nil {
			return invalid("timestamp must be an RFC 3339 time such as 2026-03-14T10:00:00Z")
		}
		if d := t.Sub(now); d > Window || d < -Window {
			return invalid("timestamp is more than 24 hours from now")
		}
		p.Timestamp = t
	case "max_session_duration":
		// Lenient where a reading is safe, since a refused connect is a
		// session never counted (the caps fail open) and Trulience's
		// retries are undocumented: null or 0 is no limit (the ledger
		// then counts SESSION_MAX_MINUTES at most); above a day is a day
		// (the ledger never counts a session longer, whatever Trulience
		// does); a fraction rounds up. A negative number or a non-number
		// has no safe reading, so it is refused.
		if tok == nil {
			return nil
		}
		f, err := 0.0, error(nil)
		if isNumber {
			f, err = strconv.ParseFloat(n.String(), 64)
			if errors.Is(err, strconv.ErrRange) && f > 0 { // beyond float64: above a day
				err = nil
			}
		}
		if !isNumber || err != nil || f < 0 {
			return invalid("max_session_duration must be a number of seconds, not negative, or null")
		}
		switch {
		case f > MaxDuration:
			p.MaxDuration, p.Clamped = MaxDuration*time.Second, capped(n.String())
		case f > 0:
			p.MaxDuration = time.Duration(math.Ceil(f)) * time.Second
		}
	}
	return nil
}

// skip reads one value of any type, refusing an object that repeats a name.
func skip(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('{'):
		seen := map[string]bool{}
		for dec.More() {
			name, err := dec.Token()
			if err != nil {
				return err
			}
			if seen[name.(string)] {
				return errors.New("a repeated name")
			}
			seen[name.(string)] = true
			if err := skip(dec); err != nil {
				return err
			}
		}
		_, err = dec.Token()
		return err
	case json.Delim('['):
		for dec.More() {
			if err := skip(dec); err != nil {
				return err
			}
		}
		_, err = dec.Token()
		return err
	}
	return nil
}

// sessionID reports whether s is 1 to MaxSessionID visible ASCII
// characters (no spaces or control characters).
func sessionID(s string) bool {
	if s == "" || len(s) > MaxSessionID {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// capped shortens s for a message or log line.
func capped(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
