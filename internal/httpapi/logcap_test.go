package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCapped(t *testing.T) {
	short := strings.Repeat("a", maxLoggedValue)
	if got := capped(short); got != short {
		t.Errorf("a value of exactly %d bytes was changed: %q", maxLoggedValue, got)
	}
	long := strings.Repeat("b", 9000)
	got := capped(long)
	if !strings.HasPrefix(got, strings.Repeat("b", maxLoggedValue)+"…") || !strings.HasSuffix(got, "(+8744 bytes)") {
		t.Errorf("capped(9000 bytes) = %q", got)
	}
	// A multi-byte character across the limit is left out whole.
	multi := strings.Repeat("a", maxLoggedValue-1) + "é" + strings.Repeat("c", 10)
	got = capped(multi)
	if !utf8.ValidString(got) || !strings.HasPrefix(got, strings.Repeat("a", maxLoggedValue-1)+"…") {
		t.Errorf("capped cut a character: %q", got)
	}
}

// A refused request with a 9 KB Origin writes a log line of a few hundred
// bytes, not the whole header.
func TestRefusedHugeOriginIsLoggedCapped(t *testing.T) {
	h, logs := newTestHandler(t, nil, &fakeMinter{})
	origin := "https://" + strings.Repeat("x", 9*1024) + ".example.com"
	a := invoke(t, h, v2("POST", origin, ""))
	if a.StatusCode != http.StatusForbidden || a.errCode != "origin_not_allowed" {
		t.Fatalf("answer %d %s, want 403 origin_not_allowed", a.StatusCode, a.errCode)
	}
	var line map[string]any
	if err := json.Unmarshal(bytes.TrimSpace(logs.Bytes()), &line); err != nil {
		t.Fatalf("not one JSON line: %q", logs.String())
	}
	logged, _ := line["origin"].(string)
	if len(logged) > maxLoggedValue+32 || !strings.HasPrefix(logged, "https://xxxx") {
		t.Errorf("origin logged as %d bytes: %.80q…", len(logged), logged)
	}
	if logs.Len() > 2048 {
		t.Errorf("the log line is %d bytes", logs.Len())
	}
}
