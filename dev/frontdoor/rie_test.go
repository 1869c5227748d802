package frontdoor

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/trulience-token/trulience-token/dev/rie"
)

// TestThroughRIE sends requests through the front door to the echo function
// under the RIE: the event comes back as the answer, and an invocation error
// becomes a 502 while the next request is still served.
func TestThroughRIE(t *testing.T) {
	ctx := context.Background()
	bootstrap, err := rie.BuildCached(ctx, "./dev/rie/testdata/echo")
	if err != nil {
		t.Fatal(err)
	}
	emu, err := rie.Start(ctx, rie.Options{Bootstrap: bootstrap})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emu.Close)
	srv := httptest.NewServer(&Handler{Function: emu})
	t.Cleanup(srv.Close)

	post := func(body string) (int, []byte) {
		t.Helper()
		resp, err := http.Post(srv.URL+"/token", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	status, body := post(`{"hello":"world"}`)
	var e events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(body, &e); err != nil || status != 200 {
		t.Fatalf("%d %s %v", status, body, err)
	}
	if e.Body != `{"hello":"world"}` || e.RequestContext.HTTP.Method != "POST" || e.Version != "2.0" {
		t.Errorf("echoed event %+v", e)
	}
	if status, body := post(`{"error":"boom"}`); status != 502 || string(body) != `{"message":"Internal Server Error"}` {
		t.Errorf("invocation error: %d %s", status, body)
	}
	if status, _ := post(`{}`); status != 200 {
		t.Errorf("after an invocation error: %d", status)
	}
}
