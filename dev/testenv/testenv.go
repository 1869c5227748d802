// Package testenv decides, in one place, what an integration test does when
// a tool it needs (moto_server, aws-lambda-rie, Chromium, the AWS CLI) is
// missing: it skips, or fails when REQUIRE_INTEGRATION=1 (as in CI, where a
// skipped suite must not pass for a green one).
package testenv

import (
	"fmt"
	"os"
	"testing"
)

// Required reports whether REQUIRE_INTEGRATION=1 turns a missing tool from a
// skip into a failure.
func Required() bool { return os.Getenv("REQUIRE_INTEGRATION") == "1" }

// Missing ends t because what is missing: a skip, or a failure when
// Required. install says how to get it (e.g. "make tools").
func Missing(t testing.TB, what, install string) {
	t.Helper()
	msg := fmt.Sprintf("%s is missing (%s)", what, install)
	if Required() {
		t.Fatalf("REQUIRE_INTEGRATION=1 but %s", msg)
	}
	t.Skipf("skipping: %s; REQUIRE_INTEGRATION=1 makes this a failure", msg)
}
