package devstack

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

func TestWithPageParams(t *testing.T) {
	params := url.Values{"sitekey": {"1x00000000000000000000AA"}, "turnstile": {"local"}, "trulience": {"http://127.0.0.1:4000"}}
	h := withPageParams(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(299) // served as is
	}), func() url.Values { return params })
	tests := []struct {
		method, target string
		status         int
		location       string
	}{
		{"GET", "/", 302, "/?sitekey=1x00000000000000000000AA&trulience=http%3A%2F%2F127.0.0.1%3A4000&turnstile=local"},
		{"GET", "/sdk.html?avatar=1", 302, "/sdk.html?avatar=1&sitekey=1x00000000000000000000AA&trulience=http%3A%2F%2F127.0.0.1%3A4000&turnstile=local"},
		{"HEAD", "/index.html?sitekey=&turnstile=local", 302, "/index.html?sitekey=&trulience=http%3A%2F%2F127.0.0.1%3A4000&turnstile=local"},
		{"GET", "/index.html?sitekey=&turnstile=x&trulience=", 299, ""},
		{"GET", "/app.js", 299, ""},
		{"POST", "/", 299, ""},
	}
	for _, tt := range tests {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(tt.method, tt.target, nil))
		if w.Code != tt.status || w.Header().Get("Location") != tt.location {
			t.Errorf("%s %s: %d %q, want %d %q", tt.method, tt.target, w.Code, w.Header().Get("Location"), tt.status, tt.location)
		}
	}

	none := withPageParams(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(299) }), func() url.Values { return nil })
	w := httptest.NewRecorder()
	none.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Code != 299 {
		t.Errorf("no parameters to add: %d", w.Code)
	}
}

func TestPageParams(t *testing.T) {
	s := &Stack{TokenURL: DefaultTokenURL}
	if q := s.PageParams(); len(q) != 0 {
		t.Errorf("make local's defaults: %v", q)
	}
	s.TokenURL = "http://127.0.0.1:3001/token"
	if q := s.PageParams(); q.Encode() != "endpoint=http%3A%2F%2F127.0.0.1%3A3001%2Ftoken" {
		t.Errorf("another front door port: %v", q)
	}
}
