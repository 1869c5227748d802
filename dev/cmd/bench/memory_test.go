package main

import (
	"testing"
	"time"

	"github.com/trulience-token/trulience-token/dev/bench"
)

func TestChoose(t *testing.T) {
	at := func(mb int, cold time.Duration) sized {
		p := bench.Profile{Cold: []time.Duration{cold}, Warm: []time.Duration{41 * time.Millisecond}}
		return sized{mb: mb, res: []bench.Profile{p}, cost: costOf(mb, p.Warm, 300)}
	}
	runs := []sized{at(128, 350*time.Millisecond), at(256, 200*time.Millisecond), at(512, 145*time.Millisecond), at(1024, 130*time.Millisecond)}
	if got := runs[choose(runs)].mb; got != 512 {
		t.Errorf("chose %d MB, want 512: the cheapest within 15 %% of 130 ms", got)
	}
}

func TestCostOf(t *testing.T) {
	// 41.2 ms bills 42 ms: 0.042 s × 0.5 GB × $0.0000133334 × 1e6 + $0.20 = $0.48
	c := costOf(512, []time.Duration{41200 * time.Microsecond}, 300)
	if c.billed != 42*time.Millisecond || c.lambda < 0.479 || c.lambda > 0.481 || c.api != 1 || c.secrets < 0.0166 || c.secrets > 0.0167 {
		t.Errorf("%+v", c)
	}
}
