package localsm

import (
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
)

// Counter is a reverse proxy in front of a Secrets Manager endpoint that
// counts the calls of each operation passing through it.
type Counter struct {
	proxy *httputil.ReverseProxy
	mu    sync.Mutex
	calls map[string]int
}

// NewCounter returns a counting proxy to the endpoint target.
func NewCounter(target *url.URL) *Counter {
	return &Counter{proxy: httputil.NewSingleHostReverseProxy(target), calls: map[string]int{}}
}

// ServeHTTP counts the call's operation and forwards it.
func (c *Counter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "secretsmanager.")
	c.mu.Lock()
	c.calls[op]++
	c.mu.Unlock()
	c.proxy.ServeHTTP(w, r)
}

// Calls is how many calls of operation (e.g. "GetSecretValue") went through.
func (c *Counter) Calls(operation string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[operation]
}
