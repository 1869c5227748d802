package cpushare

import (
	"testing"
	"time"
)

func TestQuota(t *testing.T) {
	tests := []struct {
		mb            int
		quota, period time.Duration
	}{
		{1769, 10 * time.Millisecond, 10 * time.Millisecond},
		{1024, 5788 * time.Microsecond, 10 * time.Millisecond},
		{256, 1447 * time.Microsecond, 10 * time.Millisecond},
		{128, time.Millisecond, 13820 * time.Microsecond},
	}
	for _, tt := range tests {
		q, p := Quota(Share(tt.mb))
		if (q-tt.quota).Abs() > 2*time.Microsecond || (p-tt.period).Abs() > 2*time.Microsecond {
			t.Errorf("%d MB: quota %v per %v, want %v per %v", tt.mb, q, p, tt.quota, tt.period)
		}
	}
	if Share(3008) != 1 {
		t.Error("a share above one CPU")
	}
}
