package config

import (
	"net/url"
	"slices"
	"strings"
	"testing"
)

// FuzzOrigins checks ALLOWED_ORIGINS parsing and the Origin check: an origin
// that Allows accepts is exactly one of the configured, normalised origins
// (never a prefix, a case variant, another scheme, port or a trailing slash).
func FuzzOrigins(f *testing.F) {
	seeds := [][2]string{
		{"https://www.example.com", "https://www.example.com"},
		{"https://www.example.com", "https://www.example.com/"},
		{"https://www.example.com", "http://www.example.com"},
		{"https://www.example.com", "https://www.example.com:443"},
		{"https://www.example.com", "https://WWW.example.com"},
		{"https://www.example.com", "https://www.example.com.evil.com"},
		{"https://www.example.com", "null"},
		{"https://www.example.com", "https://www.example.com, https://www.example.com"},
		{"HTTPS://WWW.Example.COM:443/", "https://www.example.com"},
		{"http://localhost:8000, https://a.example", "http://localhost:8000"},
		{"http://[::1]:8000", "http://[::1]:8000"},
		{"http://[0:0::1]:80", "http://[0:0::1]"},
		{"*", "https://anything.example"},
		{"*, https://a.example", ""},
		{"", "https://a.example"},
		{"null", "null"},
		{"https://a.example/path", "https://a.example"},
		{"https://user@a.example", "https://a.example"},
		{"https://a.example:0x50", "https://a.example"},
		{"https://a%2eexample", "https://a.example"},
		{"https://a.example\t", "https://a.example"},
		{"https://\u212aelvin.example", "https://kelvin.example"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, list, origin string) {
		o, err := ParseOrigins(list)
		if err != nil {
			if o.Any || len(o.List) != 0 {
				t.Fatalf("ParseOrigins(%q) returned %+v with error %v", list, o, err)
			}
			return
		}
		for _, entry := range o.List {
			checkCanonicalOrigin(t, list, entry)
		}
		// Parsing the normalised list again gives the same list.
		again, err := ParseOrigins(strings.Join(o.List, ","))
		if err != nil || !slices.Equal(again.List, o.List) {
			t.Errorf("ParseOrigins(%q) = %q, reparsed %q, %v", list, o.List, again.List, err)
		}
		allowed := o.Allows(origin)
		switch {
		case origin == "":
			if allowed {
				t.Errorf("an empty Origin is allowed by %q", list)
			}
		case o.Any:
			if !allowed {
				t.Errorf("%q not allowed by a wildcard list %q", origin, list)
			}
		case allowed && !slices.Contains(o.List, origin):
			t.Errorf("Allows(%q) with list %q (from %q): not one of the configured origins", origin, o.List, list)
		case !allowed && slices.Contains(o.List, origin):
			t.Errorf("configured origin %q refused", origin)
		}
		// An allowed origin is allowed only in its exact form.
		if allowed && !o.Any {
			for _, v := range []string{origin + "/", strings.ToUpper(origin), " " + origin, origin + ", " + origin} {
				if v != origin && o.Allows(v) && !slices.Contains(o.List, v) {
					t.Errorf("variant %q of %q allowed", v, origin)
				}
			}
		}
	})
}

// checkCanonicalOrigin asserts that entry is what a browser sends: scheme and
// host in lower case, no default port, no path, userinfo, query or fragment.
func checkCanonicalOrigin(t *testing.T, list, entry string) {
	t.Helper()
	u, err := url.Parse(entry)
	if err != nil {
		t.Errorf("ParseOrigins(%q) kept %q, which does not parse: %v", list, entry, err)
		return
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		t.Errorf("ParseOrigins(%q) kept %q with scheme %q", list, entry, u.Scheme)
	}
	if u.Host == "" || u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" || u.ForceQuery {
		t.Errorf("ParseOrigins(%q) kept %q, which is not scheme://host[:port]", list, entry)
	}
	if entry != strings.ToLower(entry) && !strings.Contains(entry, "%") {
		t.Errorf("ParseOrigins(%q) kept %q, not lower case", list, entry)
	}
	if strings.HasSuffix(entry, ":443") && u.Scheme == "https" || strings.HasSuffix(entry, ":80") && u.Scheme == "http" {
		t.Errorf("ParseOrigins(%q) kept the default port in %q", list, entry)
	}
	if strings.ContainsAny(entry, ", \t\r\n") {
		t.Errorf("ParseOrigins(%q) kept %q with a separator or space", list, entry)
	}
	if norm, err := normaliseOrigin(entry); err != nil || norm != entry {
		t.Errorf("normaliseOrigin(%q) = %q, %v: not idempotent", entry, norm, err)
	}
}

// FuzzAvatars checks ALLOWED_AVATAR_IDS parsing: every kept ID is 1 to 32
// ASCII digits, the default is the first, and Allows accepts only listed IDs.
func FuzzAvatars(f *testing.F) {
	for _, s := range [][2]string{
		{"4386676996480451678", "4386676996480451678"},
		{" 1, 2 ,1", "2"},
		{"*", "123"},
		{"1", " 1"},
		{"1", "１"},
		{"1", "01"},
		{"", ""},
		{"12345678901234567890123456789012", "12345678901234567890123456789012"},
		{"123456789012345678901234567890123", "1"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, list, id string) {
		a, err := ParseAvatars(list)
		if err != nil {
			return
		}
		for _, x := range a.IDs {
			if !ValidAvatarID(x) {
				t.Errorf("ParseAvatars(%q) kept %q", list, x)
			}
		}
		if len(a.IDs) > 0 && a.Default != a.IDs[0] || len(a.IDs) == 0 && (a.Default != "" || !a.Any) {
			t.Errorf("ParseAvatars(%q) = %+v", list, a)
		}
		if a.Allows(id) && !a.Any && !slices.Contains(a.IDs, id) {
			t.Errorf("Allows(%q) with %+v", id, a)
		}
		if ValidAvatarID(id) {
			for _, r := range id {
				if r < '0' || r > '9' {
					t.Errorf("ValidAvatarID(%q) accepted %q", id, r)
				}
			}
		}
	})
}

// FuzzAPIURL checks TRULIENCE_API_URL: an accepted base URL, once the token
// path is added, is https, or plain http to a loopback host, and carries no
// credentials — the key is never sent in clear text off the machine.
func FuzzAPIURL(f *testing.F) {
	for _, s := range []string{
		"", "https://trulience.com", "http://127.0.0.1:8080", "http://localhost:9000/x/", "http://[::1]:1",
		"http://127.0.0.1.nip.io", "http://localhost.example.com", "http://127.0.0.1@evil.com", "http://evil.com#@127.0.0.1",
		"http://127.0.0.1%2F@evil.com", "http://0x7f.0.0.1", "http://127.1", "http://[::ffff:127.0.0.1]", "HTTP://LOCALHOST",
		"http://localhost%00.evil.com", "http://127.0.0.1:80\\@evil.com", "https://trulience.com/%2e%2e/", "http://[fe80::1%25lo]:80",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		c, err := Load(func(k string) string {
			switch k {
			case "TRULIENCE_SECRET_ID":
				return "s"
			case "ALLOWED_AVATAR_IDS":
				return "1"
			case "TRULIENCE_API_URL":
				return v
			}
			return ""
		})
		if err != nil {
			return
		}
		u, err := url.Parse(c.APIURL + "/auth/generate-token")
		if err != nil {
			t.Fatalf("accepted %q as %q, which does not parse: %v", v, c.APIURL, err)
		}
		if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			t.Errorf("accepted %q as %q: userinfo, query or fragment", v, c.APIURL)
		}
		switch u.Scheme {
		case "https":
		case "http":
			if !IsLoopback(u.Hostname()) {
				t.Errorf("accepted %q as %q: plain http to non-loopback host %q", v, c.APIURL, u.Hostname())
			}
		default:
			t.Errorf("accepted %q as %q: scheme %q", v, c.APIURL, u.Scheme)
		}
		if u.Host == "" {
			t.Errorf("accepted %q as %q without a host", v, c.APIURL)
		}
	})
}
