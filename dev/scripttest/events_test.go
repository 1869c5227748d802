package scripttest

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/trulience-token/trulience-token/dev/moto"
)

// eventTableRow matches a row of the table in events/README.md:
// | token-request.json | 200 | ... |
var eventTableRow = regexp.MustCompile(`(?m)^\| ([a-z0-9-]+\.json) \| ([0-9]{3}) \|`)

// documentedEvents reads the status each event promises from events/README.md.
func documentedEvents(t *testing.T) map[string]int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "events", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{}
	for _, m := range eventTableRow.FindAllStringSubmatch(string(b), -1) {
		want[m[1]], _ = strconv.Atoi(m[2])
	}
	return want
}

// TestEventsTable checks that every event file has a row in events/README.md
// and every row has a file.
func TestEventsTable(t *testing.T) {
	want := documentedEvents(t)
	files, err := filepath.Glob(filepath.Join(repoRoot(t), "events", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		if name := filepath.Base(f); name != "env.json" {
			names = append(names, name)
		}
	}
	var rows []string
	for name := range want {
		rows = append(rows, name)
	}
	slices.Sort(names)
	slices.Sort(rows)
	if !slices.Equal(names, rows) {
		t.Errorf("events/*.json = %v\nevents/README.md rows = %v", names, rows)
	}
}

// TestEvents runs every file in events/ through the built bootstrap under the
// RIE, with events/env.json aimed at moto and the Trulience stand-in, and
// checks the status events/README.md promises for it.
func TestEvents(t *testing.T) {
	t.Parallel()
	mt := moto.ForTest(t)
	stack := startStack(t, mt, "", "", nil)
	trulience, fn := stack.StandIn, stack.Function

	events := documentedEvents(t)
	if len(events) == 0 {
		t.Fatal("events/README.md lists no events")
	}
	names := make([]string, 0, len(events))
	for name := range events {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		want := events[name]
		t.Run(strings.TrimSuffix(name, ".json"), func(t *testing.T) {
			event := readEvent(t, name)
			calls := trulience.Calls()
			r := invoke(t, fn, event)
			if r.StatusCode != want {
				t.Fatalf("status %d, want %d; body %s", r.StatusCode, want, r.Body)
			}
			if got := r.header("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", got)
			}
			origin, speaksCORS := eventOrigin(t, event)
			allowed := origin == exampleOrigin && speaksCORS
			if got := r.header("Access-Control-Allow-Origin"); allowed && got != origin || !allowed && got != "" {
				t.Errorf("Access-Control-Allow-Origin = %q for origin %q (the function speaks CORS in this shape: %v)", got, origin, speaksCORS)
			}
			body := r.Body
			if r.IsBase64Encoded {
				b, err := base64.StdEncoding.DecodeString(body)
				if err != nil {
					t.Fatal(err)
				}
				body = string(b)
			}
			switch {
			case want == 200:
				var tok struct {
					JWT      string `json:"jwt"`
					AvatarID string `json:"avatar_id"`
				}
				if err := json.Unmarshal([]byte(body), &tok); err != nil {
					t.Fatalf("body %q: %v", body, err)
				}
				if !trulience.WasMinted(tok.JWT) {
					t.Error("the JWT in the answer is not one the Trulience stand-in minted")
				}
				if tok.AvatarID != exampleAvatar {
					t.Errorf("avatar_id = %q, want %q", tok.AvatarID, exampleAvatar)
				}
			case want == 204:
				if trulience.Calls() != calls {
					t.Error("a preflight called Trulience")
				}
			default:
				if trulience.Calls() != calls {
					t.Errorf("a %d answer called Trulience", want)
				}
				var problem struct {
					Error struct{ Code, Message string } `json:"error"`
				}
				if err := json.Unmarshal([]byte(body), &problem); err != nil || problem.Error.Code == "" {
					t.Errorf("error body %q is not {\"error\":{\"code\",\"message\"}}", body)
				}
			}
		})
	}
}

// eventOrigin is the Origin header of an event in either API Gateway
// format, and whether the function sends CORS headers itself for the
// event's shape: a REST API or a function URL, not an HTTP API (whose CORS
// configuration adds them).
func eventOrigin(t *testing.T, event []byte) (string, bool) {
	t.Helper()
	var e struct {
		Headers        map[string]string `json:"headers"`
		HTTPMethod     string            `json:"httpMethod"`
		RequestContext struct {
			DomainName string `json:"domainName"`
		} `json:"requestContext"`
	}
	if err := json.Unmarshal(event, &e); err != nil {
		t.Fatal(err)
	}
	speaks := e.HTTPMethod != "" || strings.Contains(e.RequestContext.DomainName, ".lambda-url.")
	for k, v := range e.Headers {
		if strings.EqualFold(k, "Origin") {
			return v, speaks
		}
	}
	return "", speaks
}
