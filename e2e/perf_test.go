package e2e

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trulience-token/trulience-token/internal/localstack"
)

// TestSecretReads counts GetSecretValue calls (through the counting proxy in
// front of moto): one during init, none over 100 warm invocations.
func TestSecretReads(t *testing.T) {
	h := newHarness(t, localstack.Options{})
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
	h := newHarness(t, localstack.Options{})
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

// TestSoak (SOAK=1, `make soak`): thousands of invocations through the
// front door; the function's RSS must level off.
func TestSoak(t *testing.T) {
	if os.Getenv("SOAK") != "1" {
		t.Skip("set SOAK=1 to run the soak test (make soak)")
	}
	n := 5000
	if v, err := strconv.Atoi(os.Getenv("SOAK_N")); err == nil && v > 0 {
		n = v
	}
	h := newHarness(t, localstack.Options{})
	h.token(t, `{}`)
	var samples []int
	start := time.Now()
	for i := 1; i <= n; i++ {
		switch i % 4 {
		case 0:
			h.do(t, "POST", "https://evil.example", `{}`)
		case 1:
			h.do(t, "POST", h.SiteURL, `{"avatar_id":1}`)
		default:
			h.token(t, `{}`)
		}
		if i%(n/10) == 0 {
			samples = append(samples, rssKB(h.Function.FunctionPID()))
		}
	}
	elapsed := time.Since(start)
	t.Logf("%d requests in %v (%.0f/s); function RSS every %d requests (KiB): %v; upstream connections %d; GetSecretValue %d",
		n, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds(), n/10, samples, h.StandIn.Connections(), h.SecretsCalls("GetSecretValue"))
	if len(samples) >= 4 && samples[len(samples)-1] > samples[1]*2 {
		t.Errorf("RSS grew from %d to %d KiB", samples[1], samples[len(samples)-1])
	}
}

// rssKB is VmRSS of pid in KiB (0 when unknown).
func rssKB(pid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return kb
		}
	}
	return 0
}
