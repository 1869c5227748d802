package webhook

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC)

const good = `{"event_type":"session.connect","customer_id":1234,"avatar_id":"4386676996480451678","session_id":"b7f6-11ee","timestamp":"2026-03-14T09:59:58Z","max_session_duration":600}`

func TestParse(t *testing.T) {
	p, prob := Parse([]byte(good), now)
	if prob != nil {
		t.Fatal(prob)
	}
	want := Payload{EventType: Connect, CustomerID: "1234", AvatarID: "4386676996480451678", SessionID: "b7f6-11ee", Timestamp: now.Add(-2 * time.Second), MaxDuration: 10 * time.Minute}
	if p != want {
		t.Errorf("got %+v\nwant %+v", p, want)
	}
}

func TestParseAccepts(t *testing.T) {
	for name, body := range map[string]string{
		"disconnect":             `{"event_type":"session.disconnect","customer_id":1,"avatar_id":"1","session_id":"x","timestamp":"2026-03-14T10:00:00Z"}`,
		"offset and fraction":    `{"event_type":"session.connect","customer_id":1,"avatar_id":"1","session_id":"x","timestamp":"2026-03-14T11:00:00.123+01:00"}`,
		"null duration":          `{"event_type":"session.connect","customer_id":1,"avatar_id":"1","session_id":"x","timestamp":"2026-03-14T10:00:00Z","max_session_duration":null}`,
		"unknown fields ignored": `{"event_type":"session.connect","customer_id":1,"avatar_id":"1","session_id":"x","timestamp":"2026-03-14T10:00:00Z","extra":{"a":[1,{"b":2}]},"more":null}`,
		"whitespace":             " \n" + good + "\n ",
		"longest session_id":     `{"event_type":"session.connect","customer_id":1,"avatar_id":"1","session_id":"` + strings.Repeat("~", 128) + `","timestamp":"2026-03-14T10:00:00Z"}`,
		"a day ago":              `{"event_type":"session.connect","customer_id":1,"avatar_id":"1","session_id":"x","timestamp":"2026-03-13T10:00:00Z"}`,
		"duration 86400":         `{"event_type":"session.connect","customer_id":1,"avatar_id":"1","session_id":"x","timestamp":"2026-03-14T10:00:00Z","max_session_duration":86400}`,
	} {
		if _, prob := Parse([]byte(body), now); prob != nil {
			t.Errorf("%s: %v", name, prob)
		}
	}
}

// A max_session_duration with a safe reading is read, not refused: a
// refused connect would leave its session uncounted.
func TestParseMaxDuration(t *testing.T) {
	for _, tt := range []struct {
		sent    string
		want    time.Duration
		clamped string
	}{
		{`null`, 0, ""},
		{`0`, 0, ""},
		{`-0`, 0, ""},
		{`0.0`, 0, ""},
		{`1`, time.Second, ""},
		{`1.5`, 2 * time.Second, ""},
		{`0.001`, time.Second, ""},
		{`6e2`, 600 * time.Second, ""},
		{`86400`, 86400 * time.Second, ""},
		{`86400.5`, 86400 * time.Second, "86400.5"},
		{`86401`, 86400 * time.Second, "86401"},
		{`1e400`, 86400 * time.Second, "1e400"},
	} {
		body := strings.Replace(good, `"max_session_duration":600`, `"max_session_duration":`+tt.sent, 1)
		p, prob := Parse([]byte(body), now)
		if prob != nil {
			t.Errorf("%s: %v", tt.sent, prob)
			continue
		}
		if p.MaxDuration != tt.want || p.Clamped != tt.clamped {
			t.Errorf("%s: MaxDuration %v, Clamped %q; want %v, %q", tt.sent, p.MaxDuration, p.Clamped, tt.want, tt.clamped)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	with := func(field, value string) string {
		m := map[string]json.RawMessage{}
		_ = json.Unmarshal([]byte(good), &m)
		if value == "" {
			delete(m, field)
		} else {
			m[field] = json.RawMessage(value)
		}
		b, _ := json.Marshal(m)
		return string(b)
	}
	tests := []struct {
		name, body, mention string
	}{
		{"empty", ``, "JSON object"},
		{"array", `[]`, "JSON object"},
		{"string", `"x"`, "JSON object"},
		{"not JSON", `{event_type: 1}`, "valid JSON"},
		{"truncated", good[:40], "valid JSON"},
		{"trailing value", good + `{}`, "more than one"},
		{"trailing comma", strings.TrimSuffix(good, "}") + `,}`, "valid JSON"},
		{"too large", good[:len(good)-1] + `,"pad":"` + strings.Repeat("x", 4096) + `"}`, "4096"},
		{"duplicate field", strings.TrimSuffix(good, "}") + `,"session_id":"other"}`, "twice"},
		{"duplicate nested", strings.TrimSuffix(good, "}") + `,"x":{"a":1,"a":2}}`, "repeats"},
		{"no event_type", with("event_type", ""), "event_type"},
		{"unknown event_type", with("event_type", `"session.pause"`), "event_type"},
		{"event_type number", with("event_type", `1`), "event_type"},
		{"no customer_id", with("customer_id", ""), "customer_id"},
		{"customer_id string", with("customer_id", `"1234"`), "customer_id"},
		{"customer_id negative", with("customer_id", `-1`), "customer_id"},
		{"customer_id fraction", with("customer_id", `1.5`), "customer_id"},
		{"customer_id exponent", with("customer_id", `1e3`), "customer_id"},
		{"no avatar_id", with("avatar_id", ""), "avatar_id"},
		{"avatar_id number", with("avatar_id", `4386676996480451678`), "avatar_id"},
		{"avatar_id letters", with("avatar_id", `"12a"`), "avatar_id"},
		{"avatar_id too long", with("avatar_id", `"`+strings.Repeat("1", 33)+`"`), "avatar_id"},
		{"no session_id", with("session_id", ""), "session_id"},
		{"session_id empty", with("session_id", `""`), "session_id"},
		{"session_id too long", with("session_id", `"`+strings.Repeat("a", 129)+`"`), "session_id"},
		{"session_id space", with("session_id", `"a b"`), "session_id"},
		{"session_id control", with("session_id", `"a\u0000"`), "session_id"},
		{"session_id non-ASCII", with("session_id", `"café"`), "session_id"},
		{"session_id null", with("session_id", `null`), "session_id"},
		{"no timestamp", with("timestamp", ""), "timestamp"},
		{"timestamp no zone", with("timestamp", `"2026-03-14T10:00:00"`), "timestamp"},
		{"timestamp date", with("timestamp", `"2026-03-14"`), "timestamp"},
		{"timestamp epoch", with("timestamp", `1773482400`), "timestamp"},
		{"timestamp too old", with("timestamp", `"2026-03-13T09:59:59Z"`), "24 hours"},
		{"timestamp too new", with("timestamp", `"2026-03-15T10:00:01Z"`), "24 hours"},
		{"duration negative", with("max_session_duration", `-1`), "max_session_duration"},
		{"duration negative fraction", with("max_session_duration", `-0.5`), "max_session_duration"},
		{"duration huge negative", with("max_session_duration", `-1e400`), "max_session_duration"},
		{"duration string", with("max_session_duration", `"600"`), "max_session_duration"},
		{"duration bool", with("max_session_duration", `true`), "max_session_duration"},
		{"duration object", with("max_session_duration", `{}`), "max_session_duration"},
		{"timestamp local", with("timestamp", `"2026-03-14 10:00:00Z"`), "timestamp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, prob := Parse([]byte(tt.body), now)
			if prob == nil {
				t.Fatalf("accepted %s", tt.body)
			}
			if prob.Status != 400 || prob.Code != "invalid_request" || !strings.Contains(prob.Message, tt.mention) {
				t.Errorf("%d %s %q, want 400 invalid_request naming %q", prob.Status, prob.Code, prob.Message, tt.mention)
			}
		})
	}
}

// FuzzParse: no body panics the parser, and a body it accepts holds only
// values that are safe to record.
func FuzzParse(f *testing.F) {
	f.Add([]byte(good))
	f.Add([]byte(`{"event_type":"session.disconnect","customer_id":1,"avatar_id":"1","session_id":"x","timestamp":"2026-03-14T10:00:00Z","x":[{"a":{}}]}`))
	f.Add([]byte(`{"a":1,"a":2}`))
	f.Add([]byte(`{"max_session_duration":null}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, body []byte) {
		p, prob := Parse(body, now)
		if prob != nil {
			if prob.Status != 400 || prob.Code != "invalid_request" {
				t.Fatalf("problem %+v", prob)
			}
			return
		}
		if len(body) > MaxBody || (p.EventType != Connect && p.EventType != Disconnect) || !sessionID(p.SessionID) ||
			p.AvatarID == "" || p.CustomerID == "" || p.Timestamp.Sub(now).Abs() > Window || p.MaxDuration < 0 || p.MaxDuration > MaxDuration*time.Second {
			t.Fatalf("accepted %q as %+v", body, p)
		}
		var obj map[string]any
		if json.Unmarshal(body, &obj) != nil {
			t.Fatalf("accepted %q, which encoding/json does not read as an object", body)
		}
	})
}
