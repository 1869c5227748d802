// Package hardening drives the real bootstrap, built like the deployment and
// run under the Lambda Runtime Interface Emulator, through faults: Trulience
// errors and broken connections, Secrets Manager failures behind a
// fault-injecting proxy in front of moto_server, key rotation, Lambda
// deadlines, hostile requests and a soak. Every test also collects all the
// function logged (LOG_LEVEL=debug) and every answer, and checks that no API
// key, no minted JWT and no AWS error text escaped.
//
// Without moto_server or aws-lambda-rie the tests skip, unless
// REQUIRE_INTEGRATION=1 (CI), which makes that a failure.
package hardening

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/trulience-token/trulience-token/internal/localsm"
	"github.com/trulience-token/trulience-token/internal/rie"
)

// shared is what every test of the package uses: one moto_server and one
// bootstrap build, made on first use.
var shared struct {
	once      sync.Once
	bootstrap string
	moto      *localsm.Moto
	skip      string // why integration tests cannot run here
	err       error  // a set-up failure
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.moto != nil {
		shared.moto.Close()
	}
	os.Exit(code)
}

// need returns the bootstrap and moto, starting them once; it skips the test
// when a tool is missing (fails with REQUIRE_INTEGRATION=1).
func need(t *testing.T) (string, *localsm.Moto) {
	t.Helper()
	shared.once.Do(setup)
	if shared.skip != "" {
		if os.Getenv("REQUIRE_INTEGRATION") == "1" {
			t.Fatalf("REQUIRE_INTEGRATION=1 but %s", shared.skip)
		}
		t.Skipf("skipping integration test: %s (REQUIRE_INTEGRATION=1 makes this a failure)", shared.skip)
	}
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.bootstrap, shared.moto
}

func setup() {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if _, err := exec.LookPath("moto_server"); err != nil {
		shared.skip = "moto_server is not on PATH (pip install 'moto[server]')"
		return
	}
	if _, err := rie.Find(ctx); err != nil {
		shared.skip = fmt.Sprintf("aws-lambda-rie is not installed and could not be (go install %s): %v", rie.Module, err)
		return
	}
	bootstrap, err := rie.BuildCached(ctx, rie.FunctionPackage)
	if err != nil {
		shared.err = err
		return
	}
	moto, err := localsm.StartMoto(ctx)
	if errors.Is(err, localsm.ErrNoMoto) {
		shared.skip = err.Error()
		return
	}
	if err != nil {
		shared.err = err
		return
	}
	shared.bootstrap, shared.moto = bootstrap, moto
}
