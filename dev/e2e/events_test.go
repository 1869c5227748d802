package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"github.com/trulience-token/trulience-token/dev/devstack"
	"github.com/trulience-token/trulience-token/dev/rie"
)

// TestRESTEvent: a REST API (v1) proxy event is answered in the v1 format.
func TestRESTEvent(t *testing.T) {
	h := newHarness(t, devstack.Options{})
	event := map[string]any{
		"resource":   "/token",
		"path":       "/token",
		"httpMethod": "POST",
		"headers":    map[string]string{"Origin": h.SiteURL, "Content-Type": "application/json"},
		"multiValueHeaders": map[string][]string{
			"Origin": {h.SiteURL}, "Content-Type": {"application/json"},
		},
		"requestContext": map[string]any{
			"resourcePath": "/token", "httpMethod": "POST", "path": "/prod/token", "stage": "prod",
			"requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef", "accountId": "123456789012",
			"identity": map[string]any{"sourceIp": "127.0.0.1", "userAgent": "e2e"},
		},
		"body":            `{"avatar_id":"` + devstack.DemoAvatarID + `"}`,
		"isBase64Encoded": false,
	}
	payload, _ := json.Marshal(event)
	out, err := h.Function.Invoke(context.Background(), payload)
	if err != nil {
		t.Fatalf("invoke: %v (%s)", err, out)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(out, &raw); err != nil {
		t.Fatalf("answer %s: %v", out, err)
	}
	if _, v2 := raw["cookies"]; v2 {
		t.Errorf("REST event answered in the 2.0 format: %s", out)
	}
	var resp struct {
		StatusCode        int                 `json:"statusCode"`
		Headers           map[string]string   `json:"headers"`
		MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
		Body              string              `json:"body"`
	}
	_ = json.Unmarshal(out, &resp)
	var tok tokenBody
	if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(resp.Body), &tok) != nil || !h.StandIn.WasMinted(tok.JWT) {
		t.Errorf("answer %s", out)
	}
	if header(resp.Headers, resp.MultiValueHeaders, "Access-Control-Allow-Origin") != h.SiteURL {
		t.Errorf("no ACAO in %s", out)
	}
}

// header finds a header by name, case-insensitively, in either map.
func header(single map[string]string, multi map[string][]string, name string) string {
	c := http.CanonicalHeaderKey(name)
	for k, v := range single {
		if http.CanonicalHeaderKey(k) == c {
			return v
		}
	}
	for k, v := range multi {
		if http.CanonicalHeaderKey(k) == c && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

// TestNonAPIEvents: events that are not from API Gateway are invocation
// errors, and the process keeps serving the next request.
func TestNonAPIEvents(t *testing.T) {
	h := newHarness(t, devstack.Options{})
	for _, event := range []string{`{}`, `[]`, `"text"`, `{"Records":[{"eventSource":"aws:s3","s3":{"bucket":{"name":"b"}}}]}`, `garbage`} {
		out, err := h.Function.Invoke(context.Background(), []byte(event))
		var fe *rie.FunctionError
		if !errors.As(err, &fe) {
			t.Errorf("event %s: answer %s, %v; want an invocation error", event, out, err)
			continue
		}
		t.Logf("event %s: %s", event, fe.Type)
		h.token(t, `{}`)
	}
	if n := len(h.Function.InitDurations()); n != 1 {
		t.Errorf("the function was initialised %d times: an invocation error restarted it", n)
	}
}
