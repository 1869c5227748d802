package httpapi

import (
	"context"
	"testing"
)

type nopMeter struct{}

func (nopMeter) Record(context.Context, Measure) {}

// Two guards that each find the limits table unreachable note it once.
func TestNoteOnce(t *testing.T) {
	ctx, n := (&Handler{}).WithMeter(nopMeter{}).withNotes(context.Background())
	NoteOnce(ctx, "LimitsUnavailable")
	NoteOnce(ctx, "LimitsUnavailable")
	Note(ctx, "Other")
	Note(ctx, "Other")
	if n.counts["LimitsUnavailable"] != 1 || n.counts["Other"] != 2 {
		t.Errorf("counts %v, want LimitsUnavailable 1 and Other 2", n.counts)
	}
	NoteOnce(context.Background(), "LimitsUnavailable") // no meter: nothing, no panic
}
