package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
)

// Avatars is the set of avatar IDs the endpoint may mint tokens for.
type Avatars struct {
	// Any is true when the allowlist is `*`.
	Any bool
	// IDs lists the allowed IDs in configured order.
	IDs []string
	// Default is the avatar used when a request names none ("" when Any and no ID is listed).
	Default string
}

// Allows reports whether tokens may be minted for id.
func (a Avatars) Allows(id string) bool { return a.Any || slices.Contains(a.IDs, id) }

// ParseAvatars parses ALLOWED_AVATAR_IDS: comma-separated IDs of 1 to 32 digits, or `*`.
func ParseAvatars(v string) (Avatars, error) {
	var a Avatars
	for _, item := range strings.Split(v, ",") {
		item = strings.TrimSpace(item)
		switch {
		case item == "":
			continue
		case item == "*":
			a.Any = true
		case !ValidAvatarID(item):
			return Avatars{}, fmt.Errorf("%q is not an avatar ID (1 to 32 digits)", item)
		case !slices.Contains(a.IDs, item):
			a.IDs = append(a.IDs, item)
		}
	}
	if !a.Any && len(a.IDs) == 0 {
		return Avatars{}, errors.New("is required: the comma-separated avatar IDs this endpoint may mint tokens for")
	}
	if len(a.IDs) > 0 {
		a.Default = a.IDs[0]
	}
	return a, nil
}

// ValidAvatarID reports whether s is 1 to 32 ASCII digits.
func ValidAvatarID(s string) bool {
	if len(s) == 0 || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// validHostname reports whether h is a DNS name (letters, digits, '-' and
// '.'), so wildcards and other characters browsers never send are refused.
func validHostname(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// Origins is the set of browser origins allowed to call the endpoint.
type Origins struct {
	// Any is true when the allowlist is `*`.
	Any bool
	// List holds the allowed origins, normalised (lower case, no default port).
	List []string
}

// Allows reports whether a request's Origin header value is allowed. The value
// is compared exactly: browsers send origins in their canonical form.
func (o Origins) Allows(origin string) bool {
	if origin == "" {
		return false
	}
	return o.Any || slices.Contains(o.List, origin)
}

// ParseOrigins parses ALLOWED_ORIGINS: comma-separated origins such as
// https://www.example.com or http://localhost:8000, or `*`. Empty means none.
func ParseOrigins(v string) (Origins, error) {
	var o Origins
	for _, item := range strings.Split(v, ",") {
		item = strings.TrimSpace(item)
		switch item {
		case "":
			continue
		case "*":
			o.Any = true
			continue
		}
		norm, err := normaliseOrigin(item)
		if err != nil {
			return Origins{}, err
		}
		if !slices.Contains(o.List, norm) {
			o.List = append(o.List, norm)
		}
	}
	return o, nil
}

// normaliseOrigin turns a configured origin into the form a browser sends:
// lower-case scheme and host, no default port. A single trailing slash is forgiven.
func normaliseOrigin(s string) (string, error) {
	bad := fmt.Errorf("%q is not an origin: use scheme://host[:port] with no path, such as https://www.example.com", s)
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.Opaque != "" {
		return "", bad
	}
	if u.Path != "" && u.Path != "/" {
		return "", bad
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "https" && scheme != "http" {
		return "", bad
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if ip := net.ParseIP(host); ip != nil && ip.To4() == nil {
		host = "[" + host + "]"
	} else if !validHostname(host) {
		return "", bad
	}
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if port != "" {
		host += ":" + port
	}
	return scheme + "://" + host, nil
}
