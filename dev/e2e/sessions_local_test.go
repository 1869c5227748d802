package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/trulience-token/trulience-token/dev/devstack"
	"github.com/trulience-token/trulience-token/dev/standin/trulience"
)

// TestWebhookRoute checks make local -sessions' front door: POST /webhook
// reaches the webhook function without CORS and outside the signed-in
// mode's JWT authorizer (Trulience's servers send neither an Origin nor a
// bearer token), and only with the secret header.
func TestWebhookRoute(t *testing.T) {
	h := newHarness(t, devstack.Options{SignedIn: true, Sessions: &devstack.Sessions{}})
	event := func(id string) string {
		b, _ := json.Marshal(trulience.Event{
			EventType: trulience.EventConnect, CustomerID: devstack.DemoCustomerID, AvatarID: h.AvatarIDs[0],
			SessionID: id, Timestamp: time.Now().UTC().Format(time.RFC3339),
		})
		return string(b)
	}
	post := func(method string, headers map[string]string, body string) (int, http.Header, string) {
		t.Helper()
		req, _ := http.NewRequest(method, h.WebhookURL, strings.NewReader(body))
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(b)
	}

	secret := map[string]string{h.WebhookHeader: h.WebhookSecret, "Content-Type": "application/json", "Origin": h.SiteURL}
	status, hdr, body := post(http.MethodPost, secret, event("route-1"))
	if status != 200 || body != `{"recorded":true}` {
		t.Fatalf("webhook with the secret: %d %s", status, body)
	}
	for k := range hdr {
		if strings.HasPrefix(strings.ToLower(k), "access-control-") {
			t.Errorf("the webhook's answer carries %s", k)
		}
	}
	if status, _, body := post(http.MethodPost, map[string]string{h.WebhookHeader: "wrong"}, event("route-2")); status != 401 {
		t.Errorf("wrong secret: %d %s", status, body)
	}
	if status, _, _ := post(http.MethodOptions, map[string]string{"Origin": h.SiteURL, "Access-Control-Request-Method": "POST"}, ""); status != 404 {
		t.Errorf("a preflight of the webhook: %d, want 404 (no CORS)", status)
	}
	if status, _, _ := post(http.MethodGet, secret, ""); status != 404 {
		t.Errorf("GET /webhook: %d, want API Gateway's 404", status)
	}
	// The token route is still behind the authorizer.
	if r := h.do(t, http.MethodPost, h.SiteURL, `{}`); r.status != 401 {
		t.Errorf("token without a bearer token: %d", r.status)
	}
	if n := h.WebhookDynamoDB.Calls("TransactWriteItems"); n != 1 {
		t.Errorf("the webhook function wrote %d transactions, want 1 (the one accepted event)", n)
	}
}
