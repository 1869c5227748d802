package tcpstart

// The one DNS exchange this package makes (RFC 1035): a recursive query for
// the A record of a fully qualified name, and the first A record of the
// answer. Written by hand because package net's resolver (and its DNS
// message package) is initialized too late to be used here.

const (
	typeA   = 1
	classIN = 1
)

// query is a DNS query with id for the A record of name (no trailing dot
// needed), recursion desired; ok is false for a name that is not a valid
// DNS name.
func query(id uint16, name string) ([]byte, bool) {
	name = trimDot(name)
	if name == "" || len(name) > 253 {
		return nil, false
	}
	q := make([]byte, 0, 12+len(name)+2+4)
	q = append(q, byte(id>>8), byte(id), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0) // RD; one question
	start := 0
	for i := 0; i <= len(name); i++ {
		if i < len(name) && name[i] != '.' {
			continue
		}
		n := i - start
		if n == 0 || n > 63 {
			return nil, false
		}
		q = append(q, byte(n))
		q = append(q, name[start:i]...)
		start = i + 1
	}
	return append(q, 0, 0, typeA, 0, classIN), true
}

// answerA is the first IN A record of msg, the answer to query id for name;
// ok is false for anything else: another id, not a response, an error code,
// a truncated answer (the full one would need TCP), a question other than
// name's A record, no A record, or a malformed message.
func answerA(msg []byte, id uint16, name string) (ip [4]byte, ok bool) {
	if len(msg) < 12 || uint16(msg[0])<<8|uint16(msg[1]) != id {
		return ip, false
	}
	flags := uint16(msg[2])<<8 | uint16(msg[3])
	const qr, tc, opcode, rcode = 0x8000, 0x0200, 0x7800, 0x000f
	if flags&qr == 0 || flags&tc != 0 || flags&opcode != 0 || flags&rcode != 0 {
		return ip, false
	}
	qd := int(msg[4])<<8 | int(msg[5])
	an := int(msg[6])<<8 | int(msg[7])
	if qd != 1 {
		return ip, false
	}
	off, same := questionIs(msg, 12, name)
	if !same || off+4 > len(msg) || msg[off] != 0 || msg[off+1] != typeA || msg[off+2] != 0 || msg[off+3] != classIN {
		return ip, false
	}
	off += 4
	for range an {
		if off = skipName(msg, off); off < 0 || off+10 > len(msg) {
			return ip, false
		}
		typ := int(msg[off])<<8 | int(msg[off+1])
		class := int(msg[off+2])<<8 | int(msg[off+3])
		n := int(msg[off+8])<<8 | int(msg[off+9])
		off += 10
		if off+n > len(msg) {
			return ip, false
		}
		if typ == typeA && class == classIN && n == 4 {
			copy(ip[:], msg[off:off+4])
			return ip, true
		}
		off += n
	}
	return ip, false
}

// questionIs reports whether the uncompressed name at off is name (case
// insensitive, a trailing dot ignored), and the offset just past it.
func questionIs(msg []byte, off int, name string) (int, bool) {
	name = trimDot(lower(name))
	var got []byte
	for off < len(msg) {
		n := int(msg[off])
		if n == 0 {
			return off + 1, string(got) == name
		}
		if n&0xc0 != 0 || off+1+n > len(msg) {
			return -1, false
		}
		if len(got) > 0 {
			got = append(got, '.')
		}
		got = append(got, lower(string(msg[off+1:off+1+n]))...)
		off += 1 + n
	}
	return -1, false
}

// skipName returns the offset just past the name at off, -1 if malformed.
// A compression pointer ends the name where it stands, so it is not followed.
func skipName(msg []byte, off int) int {
	for off < len(msg) {
		n := int(msg[off])
		switch {
		case n == 0:
			return off + 1
		case n&0xc0 == 0xc0:
			if off+2 > len(msg) {
				return -1
			}
			return off + 2
		case n&0xc0 != 0:
			return -1 // reserved label types
		}
		off += 1 + n
	}
	return -1
}

// nameserver is the first name server of a resolv.conf, when it is an IPv4
// address, and the ndots option (1 when absent).
func nameserver(conf []byte) (ns [4]byte, ndots int, ok bool) {
	ndots = 1
	found := false
	for _, line := range lines(conf) {
		f := fields(line)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "nameserver":
			if !found {
				found = true
				ns, ok = ipv4(f[1])
			}
		case "options":
			for _, o := range f[1:] {
				if len(o) > 6 && o[:6] == "ndots:" {
					if n, isNum := atoi(o[6:]); isNum {
						ndots = n
					}
				}
			}
		}
	}
	return ns, ndots, ok
}

// inHosts reports whether a hosts file names host: package net would answer
// from there, so the name is left to it.
func inHosts(hosts []byte, host string) bool {
	host = trimDot(lower(host))
	for _, line := range lines(hosts) {
		f := fields(line)
		for _, name := range f[min(1, len(f)):] {
			if trimDot(lower(name)) == host {
				return true
			}
		}
	}
	return false
}

// trimDot drops a trailing dot: "trulience.com." and "trulience.com" are one name.
func trimDot(name string) string {
	if name != "" && name[len(name)-1] == '.' {
		return name[:len(name)-1]
	}
	return name
}

// lines splits b at newlines, dropping comments (# or ;).
func lines(b []byte) []string {
	var out []string
	start := 0
	for i := 0; i <= len(b); i++ {
		if i < len(b) && b[i] != '\n' {
			continue
		}
		line := string(b[start:i])
		for j := 0; j < len(line); j++ {
			if line[j] == '#' || line[j] == ';' {
				line = line[:j]
				break
			}
		}
		out = append(out, line)
		start = i + 1
	}
	return out
}

// fields splits s at spaces and tabs.
func fields(s string) []string {
	var out []string
	start := -1
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ' ' || s[i] == '\t' || s[i] == '\r' {
			if start >= 0 {
				out = append(out, s[start:i])
				start = -1
			}
			continue
		}
		if start < 0 {
			start = i
		}
	}
	return out
}

// dots counts the dots in name, a trailing one excluded.
func dots(name string) int {
	n := 0
	for i := 0; i < len(name); i++ {
		if name[i] == '.' && i != len(name)-1 {
			n++
		}
	}
	return n
}
