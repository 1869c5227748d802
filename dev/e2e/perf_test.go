package e2e

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/trulience-token/trulience-token/dev/devstack"
)

// TestSecretReads counts GetSecretValue calls (through the counting proxy in
// front of moto): one during init, none over 100 warm invocations.
func TestSecretReads(t *testing.T) {
	h := newHarness(t, devstack.Options{})
	h.token(t, `{}`)
	initReads := h.SecretsCalls("GetSecretValue")
	for range 100 {
		h.token(t, `{}`)
	}
	warm := h.SecretsCalls("GetSecretValue") - initReads
	t.Logf("GetSecretValue calls: %d during init/first request, %d over 100 warm invocations", initReads, warm)
	if initReads != 1 || warm != 0 {
		t.Errorf("GetSecretValue: %d at start, %d warm; want 1 and 0 (SECRET_TTL 5m)", initReads, warm)
	}
}

// TestInitDuration logs the function's cold start as the RIE measured it.
func TestInitDuration(t *testing.T) {
	h := newHarness(t, devstack.Options{})
	start := time.Now()
	h.token(t, `{}`)
	first := time.Since(start)
	h.token(t, `{}`)
	inits, reports := h.Function.InitDurations(), h.Function.Reports()
	if len(inits) != 1 || len(reports) < 2 {
		t.Fatalf("inits %v, reports %+v", inits, reports)
	}
	size := int64(0)
	if pid := h.Function.FunctionPID(); pid != 0 {
		if exe, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe"); err == nil {
			if fi, err := os.Stat(exe); err == nil {
				size = fi.Size()
			}
		}
	}
	t.Logf("Init Duration %v (RIE INIT REPORT); first invoke %v, second %v (RIE REPORT); first request end to end %v; bootstrap %.1f MiB",
		inits[0], reports[0].Duration, reports[1].Duration, first.Round(time.Millisecond), float64(size)/(1<<20))
}
