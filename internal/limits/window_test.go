package limits

import (
	"testing"
	"time"
)

func TestWindowsAlignToTheClock(t *testing.T) {
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	tests := []struct {
		now        string
		window     time.Duration
		start, end string
	}{
		{"2025-03-04T10:17:42Z", 10 * time.Minute, "2025-03-04T10:10:00Z", "2025-03-04T10:20:00Z"},
		{"2025-03-04T10:10:00Z", 10 * time.Minute, "2025-03-04T10:10:00Z", "2025-03-04T10:20:00Z"},
		{"2025-03-04T10:09:59.999Z", 10 * time.Minute, "2025-03-04T10:00:00Z", "2025-03-04T10:10:00Z"},
		{"2025-03-04T23:59:59Z", time.Hour, "2025-03-04T23:00:00Z", "2025-03-05T00:00:00Z"},
		{"2025-03-04T10:17:42+02:00", time.Hour, "2025-03-04T08:00:00Z", "2025-03-04T09:00:00Z"},
		{"2025-03-04T10:17:42Z", 24 * time.Hour, "2025-03-04T00:00:00Z", "2025-03-05T00:00:00Z"},
		{"2025-03-04T10:17:42Z", 90 * time.Second, "2025-03-04T10:16:30Z", "2025-03-04T10:18:00Z"},
	}
	for _, tt := range tests {
		start, end := windowOf(at(tt.now), tt.window)
		if !start.Equal(at(tt.start)) || !end.Equal(at(tt.end)) {
			t.Errorf("%s in %v windows: %v to %v, want %s to %s", tt.now, tt.window, start, end, tt.start, tt.end)
		}
	}
	start, end := dayOf(at("2025-12-31T23:30:00-05:00"))
	if !start.Equal(at("2026-01-01T00:00:00Z")) || !end.Equal(at("2026-01-02T00:00:00Z")) {
		t.Errorf("UTC day: %v to %v", start, end)
	}
}
