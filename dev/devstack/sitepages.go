package devstack

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/trulience-token/trulience-token/dev/standin/turnstile"
)

// DefaultTokenURL is the endpoint the example site calls unless its URL
// says otherwise (TOKEN_ENDPOINT in site/token.js).
const DefaultTokenURL = "http://" + DefaultFrontDoorAddr + "/token"

// PageParams are the query parameters the example site's pages need to
// run against this stack: ?endpoint= when the front door is not where the
// site looks by default, the Turnstile widget (Cloudflare's test site key
// and the offline script) when the bot check runs against the siteverify
// stand-in, and ?trulience= (the stand-in's avatar page, which reports
// sessions) with the session ledger.
func (s *Stack) PageParams() url.Values {
	q := url.Values{}
	if s.TokenURL != "" && s.TokenURL != DefaultTokenURL {
		q.Set("endpoint", s.TokenURL)
	}
	if s.Turnstile != nil {
		q.Set("sitekey", turnstile.PassSiteKey)
		q.Set("turnstile", "local")
	}
	if s.Webhook != nil && s.StandIn != nil {
		q.Set("trulience", s.StandIn.URL)
	}
	return q
}

// withPageParams sends a request for one of the site's pages that lacks
// any of params to the same page with them added, so the address `make
// local` prints works in every mode: a visitor who types it gets the
// widget, the stand-in's avatar page and the right endpoint, and sees them
// in the address bar. Parameters the request has, even empty ones, are
// kept: ?sitekey= still tries the page without the widget.
func withPageParams(site http.Handler, params func() url.Values) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		page := r.URL.Path == "/" || strings.HasSuffix(r.URL.Path, ".html")
		if !page || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
			site.ServeHTTP(w, r)
			return
		}
		q := r.URL.Query()
		added := false
		for k, v := range params() {
			if !q.Has(k) {
				q[k] = v
				added = true
			}
		}
		if !added {
			site.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, r.URL.Path+"?"+q.Encode(), http.StatusFound)
	})
}
