package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
)

// GoBench is one result line of `go test -bench -benchmem`.
type GoBench struct {
	Name        string // without the "Benchmark" prefix and the -GOMAXPROCS suffix
	N           int
	NsPerOp     float64
	BytesPerOp  float64
	AllocsPerOp float64
}

// RunGoBench runs the benchmarks of pkg in the module at dir, in process
// (`go test -run '^$' -bench . -benchmem`), benchtime as -benchtime ("" for
// go test's default), and parses the results.
func RunGoBench(ctx context.Context, dir, pkg, benchtime string) ([]GoBench, error) {
	args := []string{"test", "-run", "^$", "-bench", ".", "-benchmem", "-count", "1"}
	if benchtime != "" {
		args = append(args, "-benchtime", benchtime)
	}
	cmd := exec.CommandContext(ctx, "go", append(args, pkg)...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go test -bench %s: %w\n%s", pkg, err, out.String())
	}
	res := ParseGoBench(out.String())
	if len(res) == 0 {
		return nil, fmt.Errorf("go test -bench %s printed no results:\n%s", pkg, out.String())
	}
	return res, nil
}

// ParseGoBench reads the result lines of go test -bench output, such as
// "BenchmarkInvoke/fake-2   123456   950.1 ns/op   1200 B/op   14 allocs/op".
func ParseGoBench(out string) []GoBench {
	var res []GoBench
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		n, err := strconv.Atoi(f[1])
		if err != nil {
			continue
		}
		name := strings.TrimPrefix(f[0], "Benchmark")
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		b := GoBench{Name: name, N: n}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			switch f[i+1] {
			case "ns/op":
				b.NsPerOp = v
			case "B/op":
				b.BytesPerOp = v
			case "allocs/op":
				b.AllocsPerOp = v
			}
		}
		res = append(res, b)
	}
	return res
}
