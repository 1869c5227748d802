package hardening

import (
	"encoding/base64"
	"strings"
	"testing"
)

// TestHostileRequests sends the nasty requests of the hardening issue through
// the RIE to one function and checks each answer, that refused requests never
// reach Trulience, and that the process survives them all.
func TestHostileRequests(t *testing.T) {
	t.Parallel()
	f := newFixture(t, opts{})
	f.wantToken(t, f.post(`{}`))

	pad := func(prefix string, n int) string { return prefix + strings.Repeat(" ", n-len(prefix)) }
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	nested := strings.Repeat("[", 5000) + strings.Repeat("]", 5000)
	hdr := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	cases := []struct {
		name    string
		payload []byte
		status  int
		code    string
		// acao is the Access-Control-Allow-Origin expected ("" for none).
		acao string
	}{
		// Bodies.
		{"duplicate-keys", v2("POST", site, `{"avatar_id":"42","avatar_id":"`+avatar+`"}`), 400, "invalid_request", site},
		{"proto", v2("POST", site, `{"__proto__":{"avatar_id":"42"}}`), 400, "invalid_request", site},
		{"constructor", v2("POST", site, `{"constructor":{"prototype":{"isAdmin":true}}}`), 400, "invalid_request", site},
		{"deeply-nested-value", v2("POST", site, `{"avatar_id":`+nested[:2000]+nested[len(nested)-2000:]+`}`), 400, "invalid_request", site},
		{"deeply-nested-top", v2("POST", site, nested[:2048]+nested[len(nested)-2048:]), 400, "invalid_request", site},
		{"huge-number", v2("POST", site, `{"expire_at":`+strings.Repeat("9", 400)+`}`), 400, "invalid_request", site},
		{"expire-1e3", v2("POST", site, `{"expire_at":1e3}`), 400, "invalid_request", site},
		{"expire-minus-zero", v2("POST", site, `{"expire_at":-0}`), 400, "invalid_request", site},
		{"expire-300.0", v2("POST", site, `{"expire_at":300.0}`), 400, "invalid_request", site},
		{"expire-59", v2("POST", site, `{"expire_at":59}`), 400, "invalid_request", site},
		{"expire-3601", v2("POST", site, `{"expire_at":3601}`), 400, "invalid_request", site},
		{"expire-string", v2("POST", site, `{"expire_at":"300"}`), 400, "invalid_request", site},
		{"expire-60", v2("POST", site, `{"expire_at":60}`), 200, "", site},
		{"expire-3600", v2("POST", site, `{"expire_at":3600}`), 200, "", site},
		{"unicode-digits", v2("POST", site, `{"avatar_id":"٤٢"}`), 400, "invalid_request", site},
		{"fullwidth-digits", v2("POST", site, `{"avatar_id":"４２"}`), 400, "invalid_request", site},
		{"avatar-spaces", v2("POST", site, `{"avatar_id":" 42 "}`), 400, "invalid_request", site},
		{"avatar-number", v2("POST", site, `{"avatar_id":42}`), 400, "invalid_request", site},
		{"avatar-escaped-digits", v2("POST", site, `{"avatar_id":"\u0034\u0032"}`), 200, "", site},
		{"avatar-not-allowed", v2("POST", site, `{"avatar_id":"7"}`), 403, "avatar_not_allowed", site},
		{"avatar-leading-zero", v2("POST", site, `{"avatar_id":"042"}`), 403, "avatar_not_allowed", site},
		{"unknown-field", v2("POST", site, `{"avatarId":"42"}`), 400, "invalid_request", site},
		{"field-case", v2("POST", site, `{"Avatar_ID":"42"}`), 400, "invalid_request", site},
		{"trailing-data", v2("POST", site, `{"avatar_id":"42"}{}`), 400, "invalid_request", site},
		{"array", v2("POST", site, `[]`), 400, "invalid_request", site},
		{"null", v2("POST", site, `null`), 400, "invalid_request", site},
		{"invalid-utf8", v2("POST", site, "{\"avatar_id\":\"4\xff2\"}"), 400, "invalid_request", site},
		{"body-4096", v2("POST", site, pad(`{"avatar_id":"42"}`, 4096)), 200, "", site},
		{"body-4097", v2("POST", site, pad(`{"avatar_id":"42"}`, 4097)), 413, "payload_too_large", site},
		{"base64-4096", v2e("POST", hdr("origin", site), b64(pad(`{}`, 4096)), true), 200, "", site},
		{"base64-4097", v2e("POST", hdr("origin", site), b64(pad(`{}`, 4097)), true), 413, "payload_too_large", site},
		{"base64-huge", v2e("POST", hdr("origin", site), b64(strings.Repeat("x", 1<<20)), true), 413, "payload_too_large", site},
		{"base64-invalid", v2e("POST", hdr("origin", site), "eyJ9!!", true), 400, "invalid_request", site},
		{"base64-body", v2e("POST", hdr("origin", site), b64(`{"avatar_id":"42","expire_at":300}`), true), 200, "", site},
		{"text-plain", v2e("POST", hdr("origin", site, "content-type", "text/plain;charset=UTF-8"), `{}`, false), 200, "", site},

		// Origins and headers.
		{"origin-upper-key", v2e("POST", hdr("ORIGIN", site), `{}`, false), 200, "", site},
		{"origin-mixed-key", v2e("POST", hdr("oRiGiN", site), `{}`, false), 200, "", site},
		{"origin-null", v2("POST", "null", `{}`), 403, "origin_not_allowed", ""},
		{"origin-scheme", v2("POST", "http://www.example.com", `{}`), 403, "origin_not_allowed", ""},
		{"origin-port", v2("POST", "https://www.example.com:8443", `{}`), 403, "origin_not_allowed", ""},
		{"origin-default-port", v2("POST", "https://www.example.com:443", `{}`), 403, "origin_not_allowed", ""},
		{"origin-trailing-slash", v2("POST", site+"/", `{}`), 403, "origin_not_allowed", ""},
		{"origin-upper-host", v2("POST", "https://WWW.EXAMPLE.COM", `{}`), 403, "origin_not_allowed", ""},
		{"origin-suffix", v2("POST", site+".evil.example", `{}`), 403, "origin_not_allowed", ""},
		{"origin-prefix", v2("POST", "https://evil-www.example.com", `{}`), 403, "origin_not_allowed", ""},
		{"origin-list-in-one", v2("POST", site+", http://localhost:8000", `{}`), 403, "origin_not_allowed", ""},
		{"origin-two-keys", v2e("POST", hdr("origin", site, "Origin", "https://evil.example"), `{}`, false), 403, "origin_not_allowed", ""},
		{"origin-multi-value", v1("POST", hdr("Origin", site), map[string][]string{"Origin": {site, "https://evil.example"}}, `{}`, false), 403, "origin_not_allowed", ""},
		{"origin-multi-value-same", v1("POST", hdr("Origin", site), map[string][]string{"origin": {site}}, `{}`, false), 200, "", site},
		{"origin-long", v2("POST", "https://"+strings.Repeat("a", 60000)+".example", `{}`), 403, "origin_not_allowed", ""},
		{"origin-refused-avatar-refused", v2("POST", "https://evil.example", `{"avatar_id":"7"}`), 403, "origin_not_allowed", ""},
		{"long-header", v2e("POST", hdr("origin", site, "x-padding", strings.Repeat("x", 100000)), `{}`, false), 200, "", site},
		{"no-origin", v2e("POST", nil, `{}`, false), 200, "", ""},
		{"rest-api", v1("POST", hdr("origin", site), nil, `{"avatar_id":"`+avatar+`"}`, false), 200, "", site},

		// Methods.
		{"preflight", v2("OPTIONS", site, ``), 204, "", site},
		{"preflight-refused", v2("OPTIONS", "https://evil.example", ``), 403, "origin_not_allowed", ""},
		{"get", v2("GET", site, ``), 405, "method_not_allowed", site},
		{"put", v2("PUT", site, `{}`), 405, "method_not_allowed", site},
		{"delete-rest", v1("DELETE", hdr("origin", site), nil, ``, false), 405, "method_not_allowed", site},
		{"lowercase-post", v2("post", site, `{}`), 200, "", site},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			calls := f.sin.Calls()
			a := f.invoke(tc.payload)
			want(t, a, tc.status, tc.code)
			if tc.status == 200 {
				f.wantToken(t, a)
			}
			if got := a.Headers["Access-Control-Allow-Origin"]; got != tc.acao {
				t.Errorf("Access-Control-Allow-Origin %q, want %q", got, tc.acao)
			}
			if tc.acao != "" && a.Headers["Vary"] != "Origin" {
				t.Errorf("Vary %q, want Origin", a.Headers["Vary"])
			}
			if tc.status == 405 && a.Headers["Allow"] != "OPTIONS, POST" {
				t.Errorf("Allow %q", a.Headers["Allow"])
			}
			if tc.status == 204 && (!strings.Contains(a.Headers["Access-Control-Allow-Methods"], "POST") ||
				!strings.Contains(strings.ToLower(a.Headers["Access-Control-Allow-Headers"]), "content-type") ||
				a.Headers["Access-Control-Max-Age"] == "") {
				t.Errorf("preflight headers %v", a.Headers)
			}
			wantCalls := calls
			if tc.status == 200 {
				wantCalls++
			}
			if f.sin.Calls() != wantCalls {
				t.Errorf("Trulience called %d times, want %d", f.sin.Calls()-calls, wantCalls-calls)
			}
		})
	}

	// Events that are not HTTP requests: an invocation error, and the
	// process keeps serving.
	for _, p := range []string{`{}`, `[]`, `null`, `"x"`, `42`, `}{`,
		`{"Records":[{"eventSource":"aws:s3","s3":{"bucket":{"name":"b"},"object":{"key":"k"}}}]}`,
		`{"source":"aws.events","detail-type":"Scheduled Event","detail":{}}`,
		`{"requestContext":{"http":{"method":7}}}`,
	} {
		a := f.invoke([]byte(p))
		if a.fnErr == nil {
			t.Errorf("event %s answered %s, want an invocation error", p, a.raw)
		} else if strings.Contains(a.fnErr.Type, "Timedout") || a.fnErr.Type == "Runtime.ExitError" {
			t.Errorf("event %s: %v", p, a.fnErr)
		}
	}
	f.wantToken(t, f.post(`{}`))
	if n := len(f.emu.InitDurations()); n != 1 {
		t.Errorf("%d inits: a hostile request crashed the function", n)
	}
}
