// Package e2e holds end-to-end tests: the real bootstrap, built like the
// deployment, under the Lambda RIE, reading its key from moto_server and
// calling the Trulience stand-in, reached through the API Gateway front door.
package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/trulience-token/trulience-token/dev/devstack"
	"github.com/trulience-token/trulience-token/dev/proc"
)

// harness is one local stack for one test, with its log.
type harness struct {
	*devstack.Stack
	log *proc.Buffer // front door, site and everything the function and RIE printed
}

// newHarness starts the local stack for t (skipped without moto_server,
// unless REQUIRE_INTEGRATION=1).
func newHarness(t *testing.T, opts devstack.Options) *harness {
	t.Helper()
	s, logs := devstack.ForTest(t, opts)
	return &harness{Stack: s, log: logs}
}

// reply is an answer of the front door.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// tokenBody is the 200 answer.
type tokenBody struct {
	JWT       string `json:"jwt"`
	ExpiresIn int    `json:"expires_in"`
	AvatarID  string `json:"avatar_id"`
}

// errorBody is an error answer.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// do sends method to the token route with origin (if any) and body.
func (h *harness) do(t *testing.T, method, origin, body string) reply {
	t.Helper()
	headers := map[string]string{"Origin": origin}
	if body != "" {
		headers["Content-Type"] = "application/json"
	}
	return h.send(t, method, headers, body)
}

// send sends method to the token route with headers (an empty value is
// left out) and body.
func (h *harness) send(t *testing.T, method string, headers map[string]string, body string) reply {
	t.Helper()
	req, err := http.NewRequest(method, h.TokenURL, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{resp.StatusCode, resp.Header, b}
}

// token asks for a token from the site's origin and expects one.
func (h *harness) token(t *testing.T, body string) tokenBody {
	t.Helper()
	r := h.do(t, http.MethodPost, h.SiteURL, body)
	var tok tokenBody
	if err := json.Unmarshal(r.body, &tok); err != nil || r.status != http.StatusOK || tok.JWT == "" {
		t.Fatalf("token request: %d %s", r.status, r.body)
	}
	return tok
}

// code is the error code of an error answer.
func (r reply) code() string {
	var e errorBody
	_ = json.Unmarshal(r.body, &e)
	return e.Error.Code
}
