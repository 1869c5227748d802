package trulience

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// FuzzParseToken feeds arbitrary 200 bodies to parseToken: it never panics,
// and a token it accepts has a JWT of three base64url segments (safe to place
// unescaped in JSON and in a URL), the requested avatar, and expires_in >= 0.
func FuzzParseToken(f *testing.F) {
	const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"
	for _, s := range [][2]string{
		{`{"jwt":"` + jwt + `","expires_in":300,"avatar_id":"4386676996480451678"}`, "4386676996480451678"},
		{`{"jwt":"` + jwt + `","expires_in":300}`, "42"},
		{`{"jwt":"` + jwt + `","expires_in":300,"avatar_id":"43"}`, "42"},
		{`{"jwt":"` + jwt + `","expires_in":-1,"avatar_id":"42"}`, "42"},
		{`{"jwt":"` + jwt + `","expires_in":1e2,"avatar_id":"42"}`, "42"},
		{`{"jwt":12345,"expires_in":300,"avatar_id":"42"}`, "42"},
		{`{"jwt":null,"expires_in":300}`, "42"},
		{`{"jwt":["a.b.c"]}`, "42"},
		{`{"jwt":"a.b"}`, "42"},
		{`{"jwt":"a.b.c.d"}`, "42"},
		{`{"jwt":"ey\"J.b.c"}`, "42"},
		{`{"jwt":"eyJ\u003c.b.c"}`, "42"},
		{`{"jwt":"eyJ.b.c</script>"}`, "42"},
		{`{"jwt":"` + jwt + `"`, "42"},
		{``, "42"},
		{`null`, "42"},
		{`[]`, "42"},
		{`<html>502 Bad Gateway</html>`, "42"},
		{`{"jwt":"` + jwt + `","jwt":"x.y.z"}`, "42"},
		{`{"JWT":"` + jwt + `"}`, "42"},
		{`{"error":{"code":45,"message":"Internal server error occurred"}}`, "42"},
	} {
		f.Add([]byte(s[0]), s[1])
	}
	f.Fuzz(func(t *testing.T, body []byte, avatarID string) {
		tok, err := parseToken(body, avatarID)
		if err != nil {
			te, ok := err.(*Error)
			if !ok || te.Kind != KindBadResponse || te.Status != 200 || !te.Sent || te.Retryable() {
				t.Fatalf("parseToken error %#v", err)
			}
			if strings.Contains(te.Error(), string(body)) && len(body) > 8 {
				t.Errorf("error quotes the body: %v", te)
			}
			return
		}
		segs := strings.Split(tok.JWT, ".")
		if len(segs) != 3 {
			t.Errorf("accepted JWT %q with %d segments", tok.JWT, len(segs))
		}
		for _, s := range segs {
			for _, c := range []byte(s) {
				if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '=') {
					t.Errorf("accepted JWT %q with byte %q", tok.JWT, c)
				}
			}
		}
		if q, _ := json.Marshal(tok.JWT); string(q) != `"`+tok.JWT+`"` {
			t.Errorf("accepted JWT %q needs escaping in JSON", tok.JWT)
		}
		if tok.AvatarID != avatarID {
			t.Errorf("accepted a token for avatar %q, requested %q", tok.AvatarID, avatarID)
		}
		if tok.ExpiresIn < 0 {
			t.Errorf("accepted expires_in %d", tok.ExpiresIn)
		}
	})
}

// FuzzErrorCode feeds arbitrary error bodies to errorCode: it never panics,
// and reads the code of a well-formed Trulience error body.
func FuzzErrorCode(f *testing.F) {
	for _, s := range []string{
		`{"error":{"code":19,"message":"expire_at must be between 60 and 3600 seconds"}}`,
		`{"error":{"code":"16"}}`, `{"error":"nope"}`, `{"error":{"code":1e400}}`, `{"error":{"code":-1}}`,
		`{"error":null}`, `<html>`, ``, `{"error":{"code":36,"code":37}}`, `[{"error":{"code":1}}]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		code := errorCode(body)
		var e struct {
			Error struct {
				Code int `json:"code"`
			} `json:"error"`
		}
		if json.Unmarshal(body, &e) == nil && e.Error.Code != code {
			t.Errorf("errorCode(%q) = %d, want %d", body, code, e.Error.Code)
		}
	})
}

// FuzzRetryAfter feeds arbitrary Retry-After values to parseRetryAfter: the
// wait is never negative and never beyond an hour, whether the header holds
// delta-seconds or an HTTP date, so it always fits in the Retry-After header
// the function passes on and in the retry's deadline arithmetic.
func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{
		"", "0", "1", "3600", "3601", "-1", "1.5", "99999999999999999999",
		"Thu, 26 Nov 2026 12:00:30 GMT", "Fri, 27 Nov 2026 12:00:00 GMT",
		"Fri, 31 Dec 9999 23:59:59 GMT", "Mon, 01 Jan 0001 00:00:00 GMT",
		"Thursday, 26-Nov-26 12:01:00 GMT", "Thu Nov 26 12:00:05 2026",
	} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		d := parseRetryAfter(v, now)
		if d < 0 || d > time.Hour {
			t.Errorf("parseRetryAfter(%q) = %v, want 0..1h", v, d)
		}
	})
}
