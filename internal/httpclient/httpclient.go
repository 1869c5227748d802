// Package httpclient builds the HTTP client the function calls Trulience
// and Cloudflare's siteverify with.
package httpclient

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"time"
)

// UserAgent names this project in its calls to Trulience and Cloudflare.
const UserAgent = "trulience-token-function/1.0 (+https://github.com/trulience-token/trulience-token)"

// DialTLS opens a connection past the TLS handshake, as
// http.Transport.DialTLSContext does.
type DialTLS func(ctx context.Context, network, addr string) (net.Conn, error)

// New returns a client whose connections are kept alive across
// invocations, over HTTP/1.1, without a proxy, and that follows no redirect
// (one would carry the API key or the secret to wherever it points).
// dialTLS opens its TLS connections (earlyconn.Dialer in the function); nil
// leaves them to the transport, verified against the system roots.
func New(dialTLS DialTLS) *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			DialContext:            (&net.Dialer{Timeout: 3 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			DialTLSContext:         dialTLS,
			TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12},
			TLSHandshakeTimeout:    3 * time.Second,
			MaxIdleConns:           4,
			MaxIdleConnsPerHost:    2,
			IdleConnTimeout:        90 * time.Second,
			MaxResponseHeaderBytes: 16 << 10,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
