// Package e2e holds end-to-end tests: the real bootstrap, built like the
// deployment, under the Lambda RIE, reading its key from moto_server and
// calling the Trulience stand-in, reached through the API Gateway front door.
package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/trulience-token/trulience-token/internal/localstack"
	"github.com/trulience-token/trulience-token/internal/proc"
)

// harness is one local stack for one test, with its log.
type harness struct {
	*localstack.Stack
	log *proc.Buffer // front door, site and everything the function and RIE printed
}

// newHarness starts the local stack against moto_server. Without
// moto_server the test is skipped, unless REQUIRE_INTEGRATION=1 (CI).
func newHarness(t *testing.T, opts localstack.Options) *harness {
	t.Helper()
	if _, err := exec.LookPath("moto_server"); err != nil {
		if os.Getenv("REQUIRE_INTEGRATION") == "1" {
			t.Fatal("REQUIRE_INTEGRATION=1 but moto_server is not on PATH")
		}
		t.Skip("skipping end-to-end test: moto_server not on PATH (pip install 'moto[server]'; REQUIRE_INTEGRATION=1 makes this a failure)")
	}
	h := &harness{log: &proc.Buffer{}}
	opts.SecretsManager = localstack.SMMoto
	opts.Log = h.log
	opts.Verbose = true
	s, err := localstack.Start(context.Background(), opts)
	if err != nil {
		t.Fatalf("starting the local stack: %v", err)
	}
	h.Stack = s
	t.Cleanup(func() {
		s.Close()
		if t.Failed() {
			t.Logf("stack log:\n%s", h.log.String())
		}
	})
	return h
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
	req, err := http.NewRequest(method, h.TokenURL, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
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
