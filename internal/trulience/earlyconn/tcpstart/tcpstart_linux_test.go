package tcpstart

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// dnsStandIn answers A queries on a loopback UDP port: with ip, or with
// rcode when it is not 0, or never when silent. It counts the queries.
type dnsStandIn struct {
	queries atomic.Int32
}

func startDNS(t *testing.T, ip [4]byte, rcode byte, silent bool) *dnsStandIn {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	s := &dnsStandIn{}
	go func() {
		buf := make([]byte, 512)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			s.queries.Add(1)
			if silent {
				continue
			}
			var resp []byte
			if rcode != 0 {
				resp = answer(buf[:n], 0x8180|uint16(rcode))
			} else {
				resp = answer(buf[:n], 0x8180, record(1, ip[:]...))
			}
			_, _ = pc.WriteTo(resp, from)
		}
	}()
	dir := t.TempDir()
	conf := filepath.Join(dir, "resolv.conf")
	hosts := filepath.Join(dir, "hosts")
	writeFile(t, conf, "nameserver 127.0.0.1\n")
	writeFile(t, hosts, "127.0.0.1 localhost\n10.9.9.9 pinned.example\n")
	old := []any{resolvConf, hostsFile, dnsPort, dnsTimeout}
	resolvConf, hostsFile = conf, hosts
	dnsPort = pc.LocalAddr().(*net.UDPAddr).Port
	dnsTimeout = 200 * time.Millisecond
	t.Cleanup(func() {
		resolvConf, hostsFile, dnsPort, dnsTimeout = old[0].(string), old[1].(string), old[2].(int), old[3].(time.Duration)
	})
	return s
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// listener accepts TCP connections on loopback and counts them.
func listener(t *testing.T) (port int, accepted *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	accepted = &atomic.Int32{}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			defer c.Close()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port, accepted
}

// takeConnected is Take, then WaitConnected, for a test.
func takeConnected(t *testing.T, addr string) bool {
	t.Helper()
	fd, ok := Take(addr)
	if !ok {
		return false
	}
	defer syscall.Close(fd)
	if err := WaitConnected(fd, time.Second); err != nil {
		t.Fatalf("WaitConnected: %v", err)
	}
	return true
}

func startURL(t *testing.T, url string) string {
	t.Helper()
	_, _, addr, _ := target(url)
	if !Start(url) {
		t.Fatalf("Start(%q) refused", url)
	}
	return addr
}

func TestStartIPv4(t *testing.T) {
	port, accepted := listener(t)
	addr := startURL(t, "https://127.0.0.1:"+strconv.Itoa(port))
	if _, ok := Take("127.0.0.1:1"); ok {
		t.Error("Take for another address returned a socket")
	}
	if !takeConnected(t, addr) {
		t.Fatal("Take returned no socket for an IPv4 address")
	}
	if _, ok := Take(addr); ok {
		t.Error("a second Take returned a socket")
	}
	waitCount(t, accepted, 1)
}

func TestStartResolves(t *testing.T) {
	dns := startDNS(t, [4]byte{127, 0, 0, 1}, 0, false)
	port, accepted := listener(t)
	addr := startURL(t, "https://API.Trulience.test:"+strconv.Itoa(port)+"/base")
	if !takeConnected(t, "api.trulience.test:"+strconv.Itoa(port)) {
		t.Fatal("Take returned no socket for a name the DNS stand-in resolves")
	}
	if addr != "api.trulience.test:"+strconv.Itoa(port) {
		t.Errorf("addr = %q", addr)
	}
	waitCount(t, accepted, 1)
	if n := dns.queries.Load(); n != 1 {
		t.Errorf("%d DNS queries, want 1", n)
	}
}

// TestStartLeavesToNet: whatever package net would resolve differently, or
// a failed resolution, leaves no socket (earlyconn then dials as usual).
func TestStartLeavesToNet(t *testing.T) {
	for _, tt := range []struct {
		name, url string
		rcode     byte
		silent    bool
		ndots     string
		queries   int32
	}{
		{name: "in the hosts file", url: "https://pinned.example", queries: 0},
		{name: "fewer dots than ndots", url: "https://api.trulience.test", ndots: "options ndots:3\n", queries: 0},
		{name: "NXDOMAIN", url: "https://nowhere.test", rcode: 3, queries: 1},
		{name: "no answer", url: "https://slow.test", silent: true, queries: 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dns := startDNS(t, [4]byte{127, 0, 0, 1}, tt.rcode, tt.silent)
			if tt.ndots != "" {
				writeFile(t, resolvConf, "nameserver 127.0.0.1\n"+tt.ndots)
			}
			addr := startURL(t, tt.url)
			if fd, ok := Take(addr); ok {
				syscall.Close(fd)
				t.Error("Take returned a socket")
			}
			if n := dns.queries.Load(); n != tt.queries {
				t.Errorf("%d DNS queries, want %d", n, tt.queries)
			}
		})
	}
}

func TestWaitConnectedRefused(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close() // nothing listens there any more
	addr := startURL(t, "https://127.0.0.1:"+strconv.Itoa(port))
	fd, ok := Take(addr)
	if !ok {
		t.Fatal("no socket: the connection attempt should only fail later")
	}
	defer syscall.Close(fd)
	if err := WaitConnected(fd, time.Second); err != syscall.ECONNREFUSED {
		t.Errorf("WaitConnected = %v, want connection refused", err)
	}
}

func waitCount(t *testing.T, n *atomic.Int32, want int32) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if n.Load() == want {
			return
		}
	}
	t.Errorf("%d connections accepted, want %d", n.Load(), want)
}

// TestWaitConnectedOutOfRange: select(2) cannot wait for a descriptor past
// FD_SETSIZE; WaitConnected says so instead of writing past its set.
func TestWaitConnectedOutOfRange(t *testing.T) {
	for _, fd := range []int{-1, 1024, 5000} {
		if err := WaitConnected(fd, time.Millisecond); err != syscall.EINVAL {
			t.Errorf("WaitConnected(%d) = %v, want EINVAL", fd, err)
		}
	}
}
