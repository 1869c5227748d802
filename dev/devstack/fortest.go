package devstack

import (
	"context"
	"errors"
	"testing"

	"github.com/trulience-token/trulience-token/dev/emf"
	"github.com/trulience-token/trulience-token/dev/moto"
	"github.com/trulience-token/trulience-token/dev/proc"
	"github.com/trulience-token/trulience-token/dev/rie"
	"github.com/trulience-token/trulience-token/dev/testenv"
)

// ForTest starts a stack for t and stops it at t's cleanup, printing
// everything it logged when t failed. A missing moto_server or
// aws-lambda-rie skips t (fails it with REQUIRE_INTEGRATION=1). opts.Log
// is replaced by the returned buffer, and the RIE's own lines are kept.
func ForTest(t testing.TB, opts Options) (*Stack, *proc.Buffer) {
	t.Helper()
	NeedTools(t, opts.Moto == nil)
	logs := &proc.Buffer{}
	opts.Log, opts.Verbose = logs, true
	s, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatalf("starting the local stack: %v", err)
	}
	t.Cleanup(func() {
		s.Close()
		// Every metrics record the function wrote must be valid EMF and
		// carry no secret.
		if _, err := emf.Records(s.Function.Logs(), s.APIKey); err != nil {
			t.Errorf("metrics records: %v", err)
		}
		if t.Failed() {
			t.Logf("stack log:\n%s", logs.String())
		}
	})
	return s, logs
}

// NeedTools ends t (skip, or failure with REQUIRE_INTEGRATION=1) unless
// aws-lambda-rie and, when withMoto, moto_server can be found.
func NeedTools(t testing.TB, withMoto bool) {
	t.Helper()
	if withMoto {
		if _, err := moto.Command(); errors.Is(err, moto.ErrNoMoto) {
			testenv.Missing(t, "moto_server", "make tools installs it into .venv")
		}
	}
	if _, err := rie.Find(context.Background()); err != nil {
		testenv.Missing(t, "aws-lambda-rie", "go install "+rie.Module)
	}
}
