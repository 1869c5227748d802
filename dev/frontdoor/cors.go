package frontdoor

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// CORS is an HTTP API's CORS configuration (the template's
// CorsConfiguration), applied as API Gateway applies it: a preflight
// (OPTIONS with Origin and Access-Control-Request-Method) is answered by
// the front door without invoking the function, 204 with the CORS headers
// when the origin is allowed and without them when it is not; every other
// answer from an allowed origin gets Access-Control-Allow-Origin, and the
// function's own Access-Control-* headers are dropped.
type CORS struct {
	// AllowOrigins are exact origins, or "*" for any.
	AllowOrigins []string
	// AllowMethods and AllowHeaders are sent on preflights.
	AllowMethods, AllowHeaders []string
	// MaxAge is Access-Control-Max-Age in seconds; 0 sends none.
	MaxAge int
}

// TemplateCORS is the CorsConfiguration template.yaml gives the HTTP API
// for these AllowedOrigins (nil, CORS off, when there are none).
func TemplateCORS(origins []string, allowHeaders ...string) *CORS {
	if len(origins) == 0 {
		return nil
	}
	if len(allowHeaders) == 0 {
		allowHeaders = []string{"content-type"}
	}
	return &CORS{AllowOrigins: origins, AllowMethods: []string{"POST"}, AllowHeaders: allowHeaders, MaxAge: 600}
}

// allowOrigin is the Access-Control-Allow-Origin for origin, "" when it
// is not allowed.
func (c *CORS) allowOrigin(origin string) string {
	if origin == "" {
		return ""
	}
	if slices.Contains(c.AllowOrigins, "*") {
		return "*"
	}
	for _, o := range c.AllowOrigins {
		if strings.EqualFold(o, origin) {
			return origin
		}
	}
	return ""
}

// isPreflight reports whether API Gateway would answer r as a preflight.
func isPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != ""
}

// preflight answers a preflight.
func (c *CORS) preflight(w http.ResponseWriter, r *http.Request) int {
	if allow := c.allowOrigin(r.Header.Get("Origin")); allow != "" {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", allow)
		h.Set("Access-Control-Allow-Methods", strings.Join(c.AllowMethods, ","))
		h.Set("Access-Control-Allow-Headers", strings.Join(c.AllowHeaders, ","))
		if c.MaxAge > 0 {
			h.Set("Access-Control-Max-Age", strconv.Itoa(c.MaxAge))
		}
	}
	w.WriteHeader(http.StatusNoContent)
	return http.StatusNoContent
}

// decorate replaces the function's CORS headers with the gateway's.
func (c *CORS) decorate(h http.Header, origin string) {
	for k := range h {
		if strings.HasPrefix(strings.ToLower(k), "access-control-") {
			delete(h, k)
		}
	}
	if allow := c.allowOrigin(origin); allow != "" {
		h.Set("Access-Control-Allow-Origin", allow)
	}
}
