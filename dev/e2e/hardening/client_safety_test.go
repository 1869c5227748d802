package hardening

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/trulience-token/trulience-token/dev/standin/trulience"
)

// thief is a server that must never be reached: it counts requests and
// whether they carried an API key.
type thief struct {
	*httptest.Server
	hits, keys atomic.Int32
}

func (th *thief) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	th.hits.Add(1)
	if r.Header.Get("X-Api-Key") != "" {
		th.keys.Add(1)
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"jwt":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ0aGllZiJ9.c2ln","expires_in":120,"avatar_id":"` + avatar + `"}`))
}

func newThief(t *testing.T, tls bool) *thief {
	th := &thief{}
	th.Server = httptest.NewUnstartedServer(th)
	th.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are expected
	if tls {
		th.StartTLS()
	} else {
		th.Start()
	}
	t.Cleanup(th.Close)
	return th
}

// TestKeyNeverLeavesForUntrustedPeers: the function refuses a TLS peer it
// cannot verify (self-signed certificate) and never follows a redirect, so
// the key reaches neither.
func TestKeyNeverLeavesForUntrustedPeers(t *testing.T) {
	t.Parallel()
	t.Run("untrusted-certificate", func(t *testing.T) {
		t.Parallel()
		th := newThief(t, true)
		f := newFixture(t, opts{env: map[string]string{"TRULIENCE_API_URL": th.URL}})
		want(t, f.post(`{}`), 502, "upstream_error")
		if th.hits.Load() != 0 {
			t.Errorf("%d requests reached a server with an untrusted certificate", th.hits.Load())
		}
	})
	t.Run("redirects", func(t *testing.T) {
		t.Parallel()
		th := newThief(t, false)
		f := newFixture(t, opts{})
		f.wantToken(t, f.post(`{}`))
		for _, status := range []int{301, 302, 303, 307, 308} {
			f.sin.Enqueue(trulience.Fault{Status: status, Header: http.Header{"Location": {th.URL + trulience.TokenPath}}, Body: []byte(`{}`)})
			want(t, f.post(`{}`), 502, "upstream_error")
		}
		if th.hits.Load() != 0 {
			t.Errorf("redirects followed: %d requests (%d with the key) reached the redirect target", th.hits.Load(), th.keys.Load())
		}
		f.wantToken(t, f.post(`{}`))
	})
}

// TestMisconfigured: a function whose environment is invalid logs one clear
// line and answers every request 500 internal_error without crashing or
// calling anyone.
func TestMisconfigured(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, variable, value, logs string }{
		{"plain-http-api-url", "TRULIENCE_API_URL", "http://trulience.example.com", "TRULIENCE_API_URL"},
		{"api-url-with-credentials", "TRULIENCE_API_URL", "https://user:tru_live_in_the_url_0000@trulience.example.com", "TRULIENCE_API_URL"},
		{"no-secret-id", "TRULIENCE_SECRET_ID", "", "TRULIENCE_SECRET_ID"},
		{"no-avatars", "ALLOWED_AVATAR_IDS", "", "ALLOWED_AVATAR_IDS"},
		{"bad-avatar", "ALLOWED_AVATAR_IDS", "abc", "ALLOWED_AVATAR_IDS"},
		{"bad-origin", "ALLOWED_ORIGINS", "www.example.com/path", "ALLOWED_ORIGINS"},
		{"bad-ttl", "SECRET_TTL", "forever", "SECRET_TTL"},
	}
	concurrently(t, 4, cases, func(c struct{ name, variable, value, logs string }) string { return c.name },
		func(t *testing.T, c struct{ name, variable, value, logs string }) {
			f := newFixture(t, opts{env: map[string]string{c.variable: c.value}})
			for _, p := range [][]byte{v2("POST", "", `{}`), v2("OPTIONS", site, ``), v2("POST", site, `{}`)} {
				want(t, f.invoke(p), 500, "internal_error")
			}
			if f.sin.Calls() != 0 || f.sm.Calls("GetSecretValue") != 0 {
				t.Errorf("misconfigured function called Trulience %d times and Secrets Manager %d times", f.sin.Calls(), f.sm.Calls("GetSecretValue"))
			}
			logs := f.emu.Logs()
			if !strings.Contains(logs, "invalid configuration") || !strings.Contains(logs, c.logs) {
				t.Errorf("no clear configuration error naming %s in the log", c.logs)
			}
			if strings.Contains(logs, "tru_live_in_the_url") {
				t.Error("the credentials of TRULIENCE_API_URL reached the log")
			}
			if n := len(f.emu.InitDurations()); n != 1 {
				t.Errorf("%d inits: the function crash-loops", n)
			}
		})
}
