package hardening

import (
	"encoding/base64"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trulience-token/trulience-token/dev/proc"
	"github.com/trulience-token/trulience-token/dev/standin/trulience"
)

// soakRequest is one kind of invocation in the soak's mix.
type soakRequest struct {
	name    string
	payload func() []byte
	fault   *trulience.Fault // queued in the stand-in before the invocation
	status  int              // 0: an invocation error
	code    string
	calls   int // Trulience calls it makes
}

func soakMix() []soakRequest {
	internal := trulience.ErrInternal.Fault()
	expire := trulience.ErrExpireAt.Fault()
	big := strings.Repeat(" ", 5000)
	good64 := base64.StdEncoding.EncodeToString([]byte(`{"avatar_id":"42","expire_at":600}`))
	return []soakRequest{
		{name: "token", payload: func() []byte { return v2("POST", site, `{"avatar_id":"`+avatar+`","expire_at":300}`) }, status: 200, calls: 1},
		{name: "token-default", payload: func() []byte { return v2e("POST", nil, ``, false) }, status: 200, calls: 1},
		{name: "token-rest", payload: func() []byte { return v1("POST", map[string]string{"Origin": site}, nil, `{}`, false) }, status: 200, calls: 1},
		{name: "token-base64", payload: func() []byte { return v2e("POST", map[string]string{"origin": site}, good64, true) }, status: 200, calls: 1},
		{name: "preflight", payload: func() []byte { return v2("OPTIONS", site, ``) }, status: 204},
		{name: "origin-refused", payload: func() []byte { return v2("POST", "https://evil.example", `{}`) }, status: 403, code: "origin_not_allowed"},
		{name: "avatar-refused", payload: func() []byte { return v2("POST", site, `{"avatar_id":"7"}`) }, status: 403, code: "avatar_not_allowed"},
		{name: "bad-body", payload: func() []byte { return v2("POST", site, `{"avatar_id":42}`) }, status: 400, code: "invalid_request"},
		{name: "too-large", payload: func() []byte { return v2("POST", site, big) }, status: 413, code: "payload_too_large"},
		{name: "method", payload: func() []byte { return v2("GET", site, ``) }, status: 405, code: "method_not_allowed"},
		{name: "not-http", payload: func() []byte { return []byte(`{"Records":[{"eventSource":"aws:s3"}]}`) }},
		{name: "trulience-500", payload: func() []byte { return v2("POST", site, `{}`) }, fault: &internal, status: 502, code: "upstream_error", calls: 1},
		{name: "trulience-400", payload: func() []byte { return v2("POST", site, `{"expire_at":60}`) }, fault: &expire, status: 502, code: "upstream_error", calls: 1},
	}
}

// procStats is what /proc says about the function's process.
type procStats struct {
	rssKB, threads, fds int
	start               string // start time, tells a recycled pid apart
}

func (p procStats) String() string {
	return fmt.Sprintf("VmRSS %.1f MiB, %d threads, %d fds", float64(p.rssKB)/1024, p.threads, p.fds)
}

func readProc(t *testing.T, pid int) procStats {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatalf("reading the function's /proc status: %v", err)
	}
	var s procStats
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(line, ":")
		fields := strings.Fields(v)
		if len(fields) == 0 {
			continue
		}
		switch k {
		case "VmRSS":
			s.rssKB, _ = strconv.Atoi(fields[0])
		case "Threads":
			s.threads, _ = strconv.Atoi(fields[0])
		}
	}
	fds, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		t.Fatalf("listing the function's fds: %v", err)
	}
	s.fds = len(fds)
	s.start = proc.StartTime(pid)
	return s
}

// TestSoak sends thousands of invocations (SOAK=1: 20000; otherwise 3000;
// SOAK_N=n sets the number) of
// a mix of good and bad requests, some meeting Trulience errors, through the
// RIE to one function with SECRET_TTL=1s, and checks that every answer is
// the expected one, the process never restarts, its memory, threads and file
// descriptors stay flat, one kept-alive connection to Trulience serves every
// call, and Secrets Manager is read about once per TTL.
func TestSoak(t *testing.T) {
	t.Parallel()
	n := 3000
	if os.Getenv("SOAK") == "1" {
		n = 20000
	}
	if v, err := strconv.Atoi(os.Getenv("SOAK_N")); err == nil && v >= 5 {
		n = v
	}
	const ttl = time.Second
	f := newFixture(t, opts{env: map[string]string{"SECRET_TTL": ttl.String()}})
	mix := soakMix()
	run := func(i int) {
		r := mix[i%len(mix)]
		calls := f.sin.Calls()
		if r.fault != nil {
			f.sin.Enqueue(*r.fault)
		}
		a := f.invoke(r.payload())
		switch {
		case r.status == 0:
			if a.fnErr == nil || a.fnErr.Type == "Sandbox.Timedout" {
				t.Fatalf("invocation %d (%s): %v, want an invocation error", i, r.name, a)
			}
		default:
			if a.fnErr != nil || a.Status != r.status || a.code() != r.code {
				t.Fatalf("invocation %d (%s): %v, want %d %s", i, r.name, a, r.status, r.code)
			}
			if r.status == 200 && !f.sin.WasMinted(a.jwt()) {
				t.Fatalf("invocation %d (%s): a JWT the stand-in did not mint", i, r.name)
			}
		}
		if got := f.sin.Calls() - calls; got != r.calls {
			t.Fatalf("invocation %d (%s): %d Trulience calls, want %d", i, r.name, got, r.calls)
		}
	}

	const warm = 100
	for i := range warm {
		run(i)
	}
	pid := f.emu.FunctionPID()
	if pid == 0 {
		t.Fatal("no function process under the RIE")
	}
	startStats := readProc(t, pid)
	start, gets0 := time.Now(), f.sm.Calls("GetSecretValue")
	samples := []string{}
	for i := range n {
		run(warm + i)
		if (i+1)%(n/5) == 0 {
			s := readProc(t, pid)
			samples = append(samples, fmt.Sprintf("%d: %.1f MiB", i+1, float64(s.rssKB)/1024))
		}
	}
	elapsed := time.Since(start)
	endStats := readProc(t, pid)
	gets := f.sm.Calls("GetSecretValue") - gets0

	t.Logf("%d invocations (%d kinds) in %v (%.1f ms each), after %d to warm up", n, len(mix), elapsed.Round(time.Millisecond), float64(elapsed.Microseconds())/1000/float64(n), warm)
	t.Logf("function pid %d at start: %v", pid, startStats)
	t.Logf("function pid %d at end:   %v", pid, endStats)
	t.Logf("RSS along the way: %s", strings.Join(samples, ", "))
	t.Logf("Trulience: %d calls over %d connection(s); Secrets Manager: %d GetSecretValue in %v (SECRET_TTL %v)",
		f.sin.Calls(), f.sin.Connections(), gets, elapsed.Round(time.Millisecond), ttl)

	if st := proc.StartTime(pid); st == "" || st != startStats.start {
		t.Errorf("the function process %d is gone or was replaced: it crashed or timed out", pid)
	}
	if inits := len(f.emu.InitDurations()); inits != 1 {
		t.Errorf("%d inits, want 1", inits)
	}
	if c := f.sin.Connections(); c != 1 {
		t.Errorf("%d connections to Trulience, want 1 kept alive", c)
	}
	if grow := endStats.rssKB - startStats.rssKB; grow > 8*1024 {
		t.Errorf("RSS grew by %d KiB over %d invocations", grow, n)
	}
	if endStats.threads > startStats.threads+2 {
		t.Errorf("threads %d -> %d", startStats.threads, endStats.threads)
	}
	if endStats.fds > startStats.fds+2 {
		t.Errorf("file descriptors %d -> %d: a connection leak", startStats.fds, endStats.fds)
	}
	if max := int(elapsed/ttl) + 2; gets > max {
		t.Errorf("%d GetSecretValue calls in %v with SECRET_TTL %v, want at most %d", gets, elapsed, ttl, max)
	}
	logs := f.emu.Logs()
	httpN := 0
	for i := range warm + n {
		if mix[i%len(mix)].status != 0 {
			httpN++
		}
	}
	if got := strings.Count(logs, `"msg":"request"`); got != httpN {
		t.Errorf("%d request log lines for %d HTTP invocations, want one each", got, httpN)
	}
}
