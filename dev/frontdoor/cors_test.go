package frontdoor

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestCORS: preflights are answered without invoking the function, with
// the CORS headers for an allowed origin and without them otherwise, and
// the function's answers carry the gateway's CORS headers, not its own.
func TestCORS(t *testing.T) {
	calls := 0
	inv := invokerFunc(func(context.Context, []byte) ([]byte, error) {
		calls++
		return []byte(`{"statusCode":200,"headers":{"Access-Control-Allow-Origin":"https://from.function","Content-Type":"application/json"},"body":"{}"}`), nil
	})
	const site = "https://www.example.com"
	h := &Handler{Function: inv, Routes: []string{"POST /token"}, CORS: TemplateCORS([]string{site})}
	do := func(method, origin, reqMethod string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, "/token", nil)
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		if reqMethod != "" {
			r.Header.Set("Access-Control-Request-Method", reqMethod)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec
	}

	rec := do("OPTIONS", site, "POST")
	want := map[string]string{
		"Access-Control-Allow-Origin":  site,
		"Access-Control-Allow-Methods": "POST",
		"Access-Control-Allow-Headers": "content-type",
		"Access-Control-Max-Age":       "600",
	}
	if rec.Code != 204 {
		t.Errorf("allowed preflight: %d", rec.Code)
	}
	for k, v := range want {
		if got := rec.Header().Get(k); got != v {
			t.Errorf("allowed preflight: %s = %q, want %q", k, got, v)
		}
	}
	rec = do("OPTIONS", "https://evil.example", "POST")
	if rec.Code != 204 || corsHeaders(rec.Header()) != nil {
		t.Errorf("refused preflight: %d %v, want 204 without CORS headers", rec.Code, corsHeaders(rec.Header()))
	}
	if rec := do("OPTIONS", site, ""); rec.Code != 404 {
		t.Errorf("OPTIONS without Access-Control-Request-Method: %d, want 404 (routed, no OPTIONS route)", rec.Code)
	}
	if calls != 0 {
		t.Fatalf("preflights invoked the function %d times", calls)
	}

	rec = do("POST", site, "")
	if got := rec.Header().Values("Access-Control-Allow-Origin"); !slices.Equal(got, []string{site}) {
		t.Errorf("POST from the site: ACAO %q, want the gateway's %q only", got, site)
	}
	rec = do("POST", "https://evil.example", "")
	if got := corsHeaders(rec.Header()); got != nil {
		t.Errorf("POST from another origin carries %v", got)
	}
	h.CORS = TemplateCORS([]string{"*"})
	if rec := do("OPTIONS", "https://any.example", "POST"); rec.Header().Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf(`"*" preflight: ACAO %q`, rec.Header().Get("Access-Control-Allow-Origin"))
	}
}

func corsHeaders(h http.Header) map[string][]string {
	var out map[string][]string
	for k, v := range h {
		if strings.HasPrefix(strings.ToLower(k), "access-control-") {
			if out == nil {
				out = map[string][]string{}
			}
			out[k] = v
		}
	}
	return out
}

// TestTemplateCORS: TemplateCORS is what template.yaml configures on the
// HTTP API, so `make local` answers preflights as the deployed API does.
func TestTemplateCORS(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	cfg := find(find(find(find(find(doc.Content[0], "Resources"), "TokenApi"), "Properties"), "CorsConfiguration"), "")
	if cfg == nil {
		t.Fatal("template.yaml: no TokenApi CorsConfiguration")
	}
	// CorsConfiguration: !If [HasOrigins, {…}, !Ref AWS::NoValue]
	if cfg.Tag != "!If" || len(cfg.Content) != 3 {
		t.Fatalf("CorsConfiguration is not the expected !If: %v", cfg.Tag)
	}
	on := cfg.Content[1]
	var got struct {
		AllowMethods []string  `yaml:"AllowMethods"`
		AllowHeaders yaml.Node `yaml:"AllowHeaders"`
		MaxAge       int       `yaml:"MaxAge"`
	}
	if err := on.Decode(&got); err != nil {
		t.Fatal(err)
	}
	var headers []string
	if err := got.AllowHeaders.Decode(&headers); err != nil {
		// A conditional list: !If [Cond, [..], [..]]: its last branch is
		// the default (no extra headers).
		if got.AllowHeaders.Tag != "!If" || len(got.AllowHeaders.Content) != 3 {
			t.Fatalf("AllowHeaders: %v", err)
		}
		if err := got.AllowHeaders.Content[2].Decode(&headers); err != nil {
			t.Fatal(err)
		}
	}
	want := TemplateCORS([]string{"https://www.example.com"})
	if !slices.Equal(got.AllowMethods, want.AllowMethods) || !slices.Equal(headers, want.AllowHeaders) || got.MaxAge != want.MaxAge {
		t.Errorf("template: methods %v headers %v max-age %d; TemplateCORS: %+v", got.AllowMethods, headers, got.MaxAge, want)
	}
}

// find returns the value of key in mapping node n ("" returns n itself).
func find(n *yaml.Node, key string) *yaml.Node {
	if n == nil || key == "" {
		return n
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}
