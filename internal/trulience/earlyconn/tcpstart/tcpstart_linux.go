package tcpstart

import (
	"sync"
	"syscall"
	"time"

	"github.com/trulience-token/trulience-token/internal/endpoints"
)

// Files and limits of the name resolution, variables for the tests.
var (
	resolvConf = "/etc/resolv.conf"
	hostsFile  = "/etc/hosts"
	dnsPort    = 53
	dnsTimeout = 500 * time.Millisecond
)

// started is a socket opened during initialization, for addr.
type started struct {
	addr string        // host:port as earlyconn names it
	done chan struct{} // closed once fd is final
	fd   int           // -1: none, or taken
}

var (
	mu    sync.Mutex
	early []*started // a few at most: one per endpoints.Early URL
)

func init() {
	// AWS_LAMBDA_RUNTIME_API is set by Lambda (and the emulator) only, so
	// tests and tools never connect from here.
	if v, _ := syscall.Getenv("AWS_LAMBDA_RUNTIME_API"); v == "" {
		return
	}
	for _, u := range endpoints.Early(syscall.Getenv) {
		Start(u)
	}
}

// Start starts the connection to the host of rawURL, an https URL, and
// reports whether it did (the socket is open, or its name being resolved).
// It replaces a connection started before for the same address and not taken.
func Start(rawURL string) bool {
	host, port, addr, ok := target(rawURL)
	if ok {
		start(host, port, addr)
	}
	return ok
}

// start opens the socket and starts its connection to host:port: at once for
// an IPv4 address, after resolving a name in the background otherwise.
func start(host string, port int, addr string) {
	s := &started{addr: addr, done: make(chan struct{}), fd: -1}
	mu.Lock()
	for i, old := range early {
		if old.addr == addr {
			if old.fd >= 0 { // done and never taken; one still being
				syscall.Close(old.fd) // resolved closes its own (see set)
			}
			early = append(early[:i], early[i+1:]...)
			break
		}
	}
	early = append(early, s)
	mu.Unlock()
	set := func(fd int) {
		mu.Lock()
		current := false
		for _, e := range early {
			current = current || e == s
		}
		if current {
			s.fd = fd
		} else if fd >= 0 {
			syscall.Close(fd)
		}
		mu.Unlock()
		close(s.done)
	}
	if ip, ok := ipv4(host); ok {
		set(connect(ip, port))
		return
	}
	go func() {
		fd := -1
		if ip, ok := resolve(host); ok {
			fd = connect(ip, port)
		}
		set(fd)
	}()
}

// Take returns the socket whose connection was started for addr (host:port,
// as in the URL), once its address is resolved, or ok false: none was started
// for addr, it failed, or it was taken already. The caller owns the socket;
// its connection may still be under way (see WaitConnected).
func Take(addr string) (fd int, ok bool) {
	addr = lower(addr)
	mu.Lock()
	var s *started
	for _, e := range early {
		if e.addr == addr {
			s = e
		}
	}
	mu.Unlock()
	if s == nil {
		return -1, false
	}
	<-s.done
	mu.Lock()
	defer mu.Unlock()
	fd, s.fd = s.fd, -1
	return fd, fd >= 0
}

// connect starts a non-blocking connection to ip:port; -1 if it failed.
func connect(ip [4]byte, port int) int {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1
	}
	err = syscall.Connect(fd, &syscall.SockaddrInet4{Port: port, Addr: ip})
	if err != nil && err != syscall.EINPROGRESS {
		syscall.Close(fd)
		return -1
	}
	return fd
}

// WaitConnected waits until the connection of socket fd is established or
// failed, for at most timeout, and returns its outcome.
func WaitConnected(fd int, timeout time.Duration) error {
	var w syscall.FdSet
	wordBits := 1024 / len(w.Bits) // FD_SETSIZE bits: 16 words of 64 or 32 of 32
	if fd < 0 || fd >= 1024 {
		return syscall.EINVAL // select cannot wait for it; the caller dials
	}
	deadline := time.Now().Add(timeout)
	for {
		w = syscall.FdSet{}
		w.Bits[fd/wordBits] |= 1 << (uint(fd) % uint(wordBits))
		left := time.Until(deadline)
		if left <= 0 {
			return syscall.ETIMEDOUT
		}
		tv := syscall.NsecToTimeval(left.Nanoseconds())
		n, err := syscall.Select(fd+1, nil, &w, nil, &tv)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return syscall.ETIMEDOUT
		}
		soErr, err := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_ERROR)
		if err != nil {
			return err
		}
		if soErr != 0 {
			return syscall.Errno(soErr)
		}
		return nil
	}
}

// resolve is host's IPv4 address from one DNS query to the first name server
// of resolv.conf, when nothing says package net would resolve it otherwise.
func resolve(host string) ([4]byte, bool) {
	var none [4]byte
	if hosts, err := readFile(hostsFile); (err != nil && err != syscall.ENOENT) || inHosts(hosts, host) {
		return none, false // named there, or perhaps in the part not read
	}
	conf, err := readFile(resolvConf)
	if err != nil {
		return none, false
	}
	ns, ndots, ok := nameserver(conf)
	if !ok || dots(host) < ndots {
		return none, false
	}
	id, ok := randomID()
	if !ok {
		return none, false
	}
	q, ok := query(id, host)
	if !ok {
		return none, false
	}
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return none, false
	}
	defer syscall.Close(fd)
	if syscall.Connect(fd, &syscall.SockaddrInet4{Port: dnsPort, Addr: ns}) != nil {
		return none, false
	}
	if _, err := syscall.Write(fd, q); err != nil {
		return none, false
	}
	buf := make([]byte, 1232)
	deadline := time.Now().Add(dnsTimeout)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return none, false
		}
		tv := syscall.NsecToTimeval(left.Nanoseconds())
		if syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv) != nil {
			return none, false
		}
		n, err := syscall.Read(fd, buf)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return none, false
		}
		// A connected UDP socket only receives from the name server; an
		// answer to another query (another id) is skipped.
		if ip, ok := answerA(buf[:n], id, host); ok {
			return ip, true
		}
		if n >= 2 && uint16(buf[0])<<8|uint16(buf[1]) == id {
			return none, false // the answer, without an address
		}
	}
}

// readFile reads a small file whole; a file over 64 KiB is an error, not
// cut short.
func readFile(path string) ([]byte, error) {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer syscall.Close(fd)
	const max = 64 << 10
	buf := make([]byte, max+1) // one byte more tells a file that does not fit
	n := 0
	for n < len(buf) {
		m, err := syscall.Read(fd, buf[n:])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		if m == 0 {
			return buf[:n], nil
		}
		n += m
	}
	return nil, syscall.EFBIG
}

// randomID is a random DNS query id, from the kernel's generator.
func randomID() (uint16, bool) {
	fd, err := syscall.Open("/dev/urandom", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return 0, false
	}
	defer syscall.Close(fd)
	var b [2]byte
	if n, err := syscall.Read(fd, b[:]); err != nil || n != len(b) {
		return 0, false
	}
	return uint16(b[0])<<8 | uint16(b[1]), true
}
