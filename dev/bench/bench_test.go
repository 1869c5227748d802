package bench

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestParseGoBench(t *testing.T) {
	out := `goos: linux
goarch: amd64
pkg: github.com/trulience-token/trulience-token/internal/httpapi
cpu: AMD EPYC
BenchmarkInvoke/fake-2         	   46380	     24131 ns/op	    5595 B/op	     101 allocs/op
BenchmarkInvoke/service-2      	   12542	     90382.5 ns/op	   15767 B/op	     221 allocs/op
BenchmarkPlain	1000	12 ns/op
PASS
ok  	github.com/trulience-token/trulience-token/internal/httpapi	2.283s
`
	got := ParseGoBench(out)
	want := []GoBench{
		{Name: "Invoke/fake", N: 46380, NsPerOp: 24131, BytesPerOp: 5595, AllocsPerOp: 101},
		{Name: "Invoke/service", N: 12542, NsPerOp: 90382.5, BytesPerOp: 15767, AllocsPerOp: 221},
		{Name: "Plain", N: 1000, NsPerOp: 12},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestMedianAndPercentile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		var ds []time.Duration
		for _, x := range v {
			ds = append(ds, time.Duration(x)*time.Millisecond)
		}
		return ds
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = 100 - i // 100..1, unsorted
	}
	tests := []struct {
		name     string
		in       []time.Duration
		median   time.Duration
		p99, p50 time.Duration
	}{
		{"none", nil, 0, 0, 0},
		{"one", ms(7), 7 * time.Millisecond, 7 * time.Millisecond, 7 * time.Millisecond},
		{"odd", ms(3, 1, 2), 2 * time.Millisecond, 3 * time.Millisecond, 2 * time.Millisecond},
		{"even", ms(4, 1, 3, 2), 2500 * time.Microsecond, 4 * time.Millisecond, 2 * time.Millisecond},
		{"hundred", ms(hundred...), 50500 * time.Microsecond, 99 * time.Millisecond, 50 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Median(tt.in); got != tt.median {
				t.Errorf("Median = %v, want %v", got, tt.median)
			}
			if got := Percentile(tt.in, 99); got != tt.p99 {
				t.Errorf("p99 = %v, want %v", got, tt.p99)
			}
			if got := Percentile(tt.in, 50); got != tt.p50 {
				t.Errorf("p50 = %v, want %v", got, tt.p50)
			}
		})
	}
}

func TestParseVmHWM(t *testing.T) {
	tests := []struct {
		status string
		want   int64
		ok     bool
	}{
		{"Name:\tbootstrap\nVmPeak:\t 1262508 kB\nVmHWM:\t   13944 kB\nVmRSS:\t   13944 kB\n", 13944 << 10, true},
		{"Name:\tbootstrap\nVmRSS:\t 1 kB\n", 0, false},
		{"VmHWM:\t lots kB\n", 0, false},
	}
	for _, tt := range tests {
		got, err := parseVmHWM(tt.status)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseVmHWM(%q) = %d, %v; want %d, ok=%v", tt.status, got, err, tt.want, tt.ok)
		}
	}
}

func TestPeakRSSOfThisProcess(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	pid := FindProcess(exe)
	if pid != os.Getpid() {
		t.Fatalf("FindProcess(%s) = %d, want this process %d", exe, pid, os.Getpid())
	}
	rss, err := PeakRSS(pid)
	if err != nil || rss < 1<<20 {
		t.Errorf("PeakRSS = %d, %v; want at least 1 MiB", rss, err)
	}
}

func TestZipSize(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bootstrap")
	data := bytes.Repeat([]byte("compressible "), 10000)
	if err := os.WriteFile(path, data, 0o755); err != nil {
		t.Fatal(err)
	}
	n, err := ZipSize(path)
	if err != nil {
		t.Fatal(err)
	}
	if n <= 0 || n >= int64(len(data))/10 {
		t.Errorf("ZipSize = %d for %d compressible bytes: not deflated?", n, len(data))
	}
}

func TestFailed(t *testing.T) {
	over := Row{Figure: "timing", Budget: "≤ 1 ms", OK: false}
	hard := Row{Figure: "count", Budget: "1", OK: false, Hard: true}
	broken := Row{Figure: "broken", Err: os.ErrNotExist}
	fine := Row{Figure: "fine", Budget: "1", OK: true, Hard: true}
	info := Row{Figure: "context"}
	tests := []struct {
		name   string
		rows   []Row
		strict bool
		want   bool
	}{
		{"all fine", []Row{fine, info}, true, false},
		{"timing over budget prints only", []Row{fine, over}, false, false},
		{"timing over budget fails when strict", []Row{fine, over}, true, true},
		{"count over budget always fails", []Row{hard}, false, true},
		{"not measured always fails", []Row{broken}, false, true},
	}
	for _, tt := range tests {
		if got := Failed(tt.rows, tt.strict); got != tt.want {
			t.Errorf("%s: Failed = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestLimits(t *testing.T) {
	ms := time.Millisecond
	l := Latency{SecretsManager: 10 * ms, Trulience: 40 * ms, Turnstile: 30 * ms, DynamoDB: 5 * ms}
	if got := l.Limit(); got != 120*ms {
		t.Errorf("Limit = %v, want max(3×10, 2×40) + 40 = 120ms", got)
	}
	slowSM := Latency{SecretsManager: 50 * ms, Trulience: 20 * ms}
	if got := slowSM.Limit(); got != 170*ms {
		t.Errorf("Limit = %v, want max(3×50, 2×20) + 20 = 170ms", got)
	}
	for _, tt := range []struct {
		g    Guards
		want time.Duration
	}{
		{Guards{}, 40 * ms},
		{Guards{BotCheck: "enforce"}, 70 * ms},
		{Guards{Limits: true}, 45 * ms},
		{Guards{BotCheck: "monitor", Limits: true}, 70 * ms},
	} {
		if got := l.GuardedWarmLimit(tt.g); got != tt.want {
			t.Errorf("GuardedWarmLimit(%+v) = %v, want %v", tt.g, got, tt.want)
		}
	}
	for _, tt := range []struct {
		l    Latency
		g    Guards
		want time.Duration
	}{
		{l, Guards{}, 120 * ms},                                  // = Limit
		{l, Guards{BotCheck: "enforce"}, 130 * ms},               // max(30, 80, max(30, 60)+30) + 40
		{l, Guards{Limits: true}, 120 * ms},                      // max(30, 80, max(30, 10)+5) + 40
		{l, Guards{BotCheck: "monitor", Limits: true}, 130 * ms}, // the bot check is the longer
		{Latency{SecretsManager: 50 * ms, Trulience: 20 * ms, DynamoDB: 5 * ms}, Guards{Limits: true}, 175 * ms}, // max(150, 40, 155) + 20
	} {
		if got := tt.l.GuardedColdLimit(tt.g); got != tt.want {
			t.Errorf("%+v.GuardedColdLimit(%+v) = %v, want %v", tt.l, tt.g, got, tt.want)
		}
	}
}

// TestMeasureCode: the code figures find what they count (make bench
// prints them against their targets).
func TestMeasureCode(t *testing.T) {
	c, err := MeasureCode(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if c.TrulienceLines == 0 {
		t.Errorf("%+v: no lines counted in internal/trulience", c)
	}
	dir := t.TempDir()
	for path, src := range map[string]string{
		"functions/f/main.go":  "package main\n\nfunc main() {}\n",
		"internal/x/x.go":      "package x\n\nimport \"syscall\"\n\nvar _ = syscall.Getpid\n\nfunc init() {}\n",
		"internal/x/x_test.go": "package x\n\nfunc init() {}\n",
	} {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(path)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, path), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c, err = MeasureCode(dir)
	if err != nil || !slices.Equal(c.Inits, []string{"internal/x"}) || !slices.Equal(c.LowLevel, []string{"internal/x/x.go"}) {
		t.Errorf("%+v, %v: want internal/x's init and syscall import, not its test's", c, err)
	}
}
