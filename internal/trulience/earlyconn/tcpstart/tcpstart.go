// Package tcpstart sends the first packets of a cold start, the TCP SYNs to
// Trulience (and Cloudflare), at the very start of the program: before package net and the
// TLS stack are initialized, and before the AWS SDK's packages, whose
// initialization takes milliseconds that the TCP handshake's round trip now
// overlaps. Package earlyconn takes the socket (Take) once package net is
// ready and runs the TLS handshake on it.
//
// It may use nothing initialized after it: package syscall and the runtime
// only. Go initializes packages in import-path order as far as their imports
// allow, so a package that needs only syscall runs long before net, whose
// own dependencies sort late. That rules out package net's resolver: a host
// name is resolved here with one DNS query (an A record, over UDP, to the
// first IPv4 name server of /etc/resolv.conf), in the background. Anything
// out of the ordinary (a name in /etc/hosts, an IPv6 address or name server,
// an ndots option above the name's dot count, a truncated or failed answer)
// leaves the socket unstarted, and earlyconn dials as usual. The address is
// only where the SYN goes: the TLS handshake still verifies the server's
// certificate for the host name, so a wrong answer costs a dial, never trust.
//
// It runs only in a Lambda execution environment (AWS_LAMBDA_RUNTIME_API
// set), only on Linux (elsewhere Take always reports none), for the https
// URLs of endpoints.Early: Trulience's API, and Cloudflare's siteverify when
// the bot check is on.
package tcpstart

// target is the host and port of an https URL, and the address as earlyconn
// names it (host:port, the host in lower case). It parses just enough of a
// URL (scheme, optional userinfo, host, port) without package net/url,
// which is initialized later than this package. IPv6 literals and anything
// unusual are refused: earlyconn dials those as usual.
func target(raw string) (host string, port int, addr string, ok bool) {
	const scheme = "https://"
	if len(raw) < len(scheme) || lower(raw[:len(scheme)]) != scheme {
		return "", 0, "", false
	}
	rest := raw[len(scheme):]
	for i := 0; i < len(rest); i++ {
		if c := rest[i]; c == '/' || c == '?' || c == '#' {
			rest = rest[:i]
			break
		}
	}
	for i := len(rest) - 1; i >= 0; i-- {
		if rest[i] == '@' {
			rest = rest[i+1:]
			break
		}
	}
	portText := "443"
	if i := lastColon(rest); i >= 0 {
		portText, rest = rest[i+1:], rest[:i]
	}
	port, ok = atoi(portText)
	if !ok || port < 1 || port > 65535 || rest == "" {
		return "", 0, "", false
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return "", 0, "", false
		}
	}
	host = lower(rest)
	return host, port, host + ":" + portText, true
}

func lastColon(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == ':' {
			return i
		}
	}
	return -1
}

func atoi(s string) (int, bool) {
	if s == "" || len(s) > 5 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

func lower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// ipv4 parses a dotted-quad IPv4 address.
func ipv4(s string) ([4]byte, bool) {
	var ip [4]byte
	n, start := 0, 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] != '.' {
			continue
		}
		if n == 4 || i-start > 3 {
			return ip, false
		}
		v, ok := atoi(s[start:i])
		if !ok || v > 255 || (i-start > 1 && s[start] == '0') {
			return ip, false
		}
		ip[n] = byte(v)
		n, start = n+1, i+1
	}
	return ip, n == 4
}
