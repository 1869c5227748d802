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
	"os"
	"sync"
	"testing"
	"time"

	"github.com/trulience-token/trulience-token/dev/devstack"
	"github.com/trulience-token/trulience-token/dev/moto"
	"github.com/trulience-token/trulience-token/dev/rie"
)

// shared is what every test of the package uses: one moto_server and one
// bootstrap build, made on first use.
var shared struct {
	once      sync.Once
	bootstrap string
	moto      *moto.Moto
	err       error // a set-up failure
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
func need(t *testing.T) (string, *moto.Moto) {
	t.Helper()
	devstack.NeedTools(t, true)
	shared.once.Do(setup)
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.bootstrap, shared.moto
}

func setup() {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bootstrap, err := rie.BuildCached(ctx, rie.FunctionPackage)
	if err != nil {
		shared.err = err
		return
	}
	mt, err := moto.StartMoto(ctx)
	if err != nil {
		shared.err = err
		return
	}
	shared.bootstrap, shared.moto = bootstrap, mt
}
