package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strings"
)

// printMachine says what the figures were measured on.
func printMachine(o options) {
	fmt.Printf("machine: %s/%s, %d CPUs (%s), %s\n", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), cpuModel(), runtime.Version())
	fmt.Printf("function: %s; reference: minimal Lambda (SDK config + Secrets Manager client); %d cold starts, %d warm invocations\n",
		o.function, o.cold, o.n)
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}
