package tcpstart

import (
	"bytes"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestTarget(t *testing.T) {
	tests := []struct {
		in, host, addr string
		port           int
		ok             bool
	}{
		{"https://api.trulience.com", "api.trulience.com", "api.trulience.com:443", 443, true},
		{"HTTPS://Trulience.COM/base/", "trulience.com", "trulience.com:443", 443, true},
		{"https://127.0.0.1:8443/x?y#z", "127.0.0.1", "127.0.0.1:8443", 8443, true},
		{"https://user@host.example:444", "host.example", "host.example:444", 444, true},
		{"http://trulience.com", "", "", 0, false},
		{"https://", "", "", 0, false},
		{"https://:443", "", "", 0, false},
		{"https://[::1]:443", "", "", 0, false},
		{"https://host:0", "", "", 0, false},
		{"https://host:65536", "", "", 0, false},
		{"https://host:x", "", "", 0, false},
		{"https://ho_st", "", "", 0, false},
		{"", "", "", 0, false},
	}
	for _, tt := range tests {
		host, port, addr, ok := target(tt.in)
		if host != tt.host || port != tt.port || addr != tt.addr || ok != tt.ok {
			t.Errorf("target(%q) = %q, %d, %q, %v; want %q, %d, %q, %v", tt.in, host, port, addr, ok, tt.host, tt.port, tt.addr, tt.ok)
		}
	}
}

func TestIPv4(t *testing.T) {
	good := map[string][4]byte{"127.0.0.1": {127, 0, 0, 1}, "10.0.255.9": {10, 0, 255, 9}, "0.0.0.0": {}}
	for in, want := range good {
		if got, ok := ipv4(in); !ok || got != want {
			t.Errorf("ipv4(%q) = %v, %v; want %v", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1..2.3", "a.b.c.d", "1.2.3.4 ", "api.trulience.com"} {
		if _, ok := ipv4(in); ok {
			t.Errorf("ipv4(%q) accepted", in)
		}
	}
}

func TestQuery(t *testing.T) {
	q, ok := query(0xbeef, "api.trulience.com.")
	if !ok {
		t.Fatal("query refused a valid name")
	}
	want := []byte{0xbe, 0xef, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0,
		3, 'a', 'p', 'i', 9, 't', 'r', 'u', 'l', 'i', 'e', 'n', 'c', 'e', 3, 'c', 'o', 'm', 0,
		0, 1, 0, 1}
	if !bytes.Equal(q, want) {
		t.Errorf("query = % x\nwant    % x", q, want)
	}
	for _, bad := range []string{"", ".", "a..b", string(bytes.Repeat([]byte("a"), 64)) + ".com"} {
		if _, ok := query(1, bad); ok {
			t.Errorf("query(%q) accepted", bad)
		}
	}
}

// answer builds a response to q with the given flags and answer records.
func answer(q []byte, flags uint16, records ...[]byte) []byte {
	m := append([]byte(nil), q...)
	m[2], m[3] = byte(flags>>8), byte(flags)
	m[6], m[7] = 0, byte(len(records))
	for _, r := range records {
		m = append(m, r...)
	}
	return m
}

// record is a resource record whose name points at the question (offset 12).
func record(typ uint16, data ...byte) []byte {
	r := []byte{0xc0, 12, byte(typ >> 8), byte(typ), 0, 1, 0, 0, 0, 60, 0, byte(len(data))}
	return append(r, data...)
}

func TestAnswerA(t *testing.T) {
	q, _ := query(7, "api.trulience.com")
	cname := record(5, 3, 'w', 'w', 'w', 0xc0, 12)
	a := record(1, 203, 0, 113, 9)
	ip, ok := answerA(answer(q, 0x8180, cname, a), 7, "API.trulience.com.")
	if !ok || ip != [4]byte{203, 0, 113, 9} {
		t.Errorf("answerA after a CNAME = %v, %v; want 203.0.113.9", ip, ok)
	}
	for name, msg := range map[string][]byte{
		"another id":     answer(q, 0x8180, a),
		"not a response": answer(q, 0x0100, a),
		"NXDOMAIN":       answer(q, 0x8183, a),
		"truncated":      answer(q, 0x8380, a),
		"no A record":    answer(q, 0x8180, cname),
		"AAAA only":      answer(q, 0x8180, record(28, make([]byte, 16)...)),
		"cut short":      answer(q, 0x8180, a)[:len(answer(q, 0x8180, a))-2],
		"header only":    q[:12],
		"another name":   answer(func() []byte { q, _ := query(7, "api.trulience.org"); return q }(), 0x8180, a),
		"AAAA question":  answer(append(append([]byte(nil), q[:len(q)-4]...), 0, 28, 0, 1), 0x8180, a),
		"two questions":  func() []byte { m := answer(q, 0x8180, a); m[5] = 2; return m }(),
	} {
		id := uint16(7)
		if name == "another id" {
			id = 8
		}
		if ip, ok := answerA(msg, id, "api.trulience.com"); ok {
			t.Errorf("%s: answerA = %v, want none", name, ip)
		}
	}
}

func TestNameserver(t *testing.T) {
	conf := []byte("# comment\nsearch example.internal\nnameserver 169.254.78.1\nnameserver 10.0.0.2\noptions timeout:2 ndots:2\n")
	ns, ndots, ok := nameserver(conf)
	if !ok || ns != [4]byte{169, 254, 78, 1} || ndots != 2 {
		t.Errorf("nameserver = %v, %d, %v; want 169.254.78.1, 2, true", ns, ndots, ok)
	}
	if _, _, ok := nameserver([]byte("nameserver fd00::1\nnameserver 10.0.0.2\n")); ok {
		t.Error("an IPv6 first name server was accepted")
	}
	if _, ndots, ok := nameserver(nil); ok || ndots != 1 {
		t.Errorf("empty resolv.conf: ndots %d, ok %v; want 1, false", ndots, ok)
	}
}

func TestInHosts(t *testing.T) {
	hosts := []byte("127.0.0.1 localhost\n10.1.2.3\tapi.trulience.com alias # pinned\n# 10.9.9.9 commented.example\n10.4.4.4 rooted.example.\n")
	for host, want := range map[string]bool{"api.trulience.com": true, "API.trulience.com.": true, "alias": true, "localhost": true, "commented.example": false, "trulience.com": false, "127.0.0.1": false, "rooted.example": true} {
		if got := inHosts(hosts, host); got != want {
			t.Errorf("inHosts(%q) = %v, want %v", host, got, want)
		}
	}
}

func FuzzAnswerA(f *testing.F) {
	q, _ := query(7, "api.trulience.com")
	f.Add(answer(q, 0x8180, record(1, 1, 2, 3, 4)))
	f.Add(answer(q, 0x8180, record(5, 0xc0, 12), record(1, 1, 2, 3, 4)))
	f.Add([]byte{0, 7, 0x81, 0x80, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, msg []byte) {
		answerA(msg, 7, "api.trulience.com") // must not panic
		nameserver(msg)
		inHosts(msg, "api.trulience.com")
	})
}

// TestImports keeps the package's imports to those Go initializes before
// almost everything else: one import that sorts late and has its own late
// dependencies (net/url, os, strings...) would make this package wait for
// them, and the early start would be early no more.
func TestImports(t *testing.T) {
	allowed := map[string]bool{"errors": true, "sync": true, "syscall": true, "time": true,
		"github.com/trulience-token/trulience-token/internal/endpoints": true} // constants and loops only
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		parsed, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range parsed.Imports {
			if path, _ := strconv.Unquote(imp.Path.Value); !allowed[path] {
				t.Errorf("%s imports %s; only %v may be imported here", f, path, allowed)
			}
		}
	}
}
