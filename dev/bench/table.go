package bench

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// Row is one figure of the table, with its budget.
type Row struct {
	Figure string
	Value  string
	Budget string // "" for a figure shown for context, without a budget
	OK     bool   // whether the budget holds (ignored without one)
	// Hard marks a budget that is a count, not a timing (Secrets Manager
	// calls, connections): breaking it is a bug on any machine.
	Hard bool
	Err  error // set when the figure could not be measured
}

// Verdict is PASS, FAIL (over budget), ERROR, or "" without a budget.
func (r Row) Verdict() string {
	switch {
	case r.Err != nil:
		return "ERROR"
	case r.Budget == "":
		return ""
	case r.OK:
		return "PASS"
	}
	return "FAIL (over budget)"
}

// PrintTable writes rows as an aligned table, then the errors in full.
func PrintTable(w io.Writer, rows []Row) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "figure\tmeasured\tbudget\tverdict")
	fmt.Fprintln(tw, "------\t--------\t------\t-------")
	for _, r := range rows {
		v := r.Value
		if r.Err != nil {
			v = "(not measured)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Figure, v, r.Budget, r.Verdict())
	}
	_ = tw.Flush()
	for _, r := range rows {
		if r.Err != nil {
			fmt.Fprintf(w, "\n%s: %v\n", r.Figure, r.Err)
		}
	}
}

// Failed reports whether any row could not be measured or breaks its
// budget; with strict false, only hard budgets count.
func Failed(rows []Row, strict bool) bool {
	for _, r := range rows {
		if r.Err != nil || (r.Budget != "" && !r.OK && (strict || r.Hard)) {
			return true
		}
	}
	return false
}

// MB formats a byte count in decimal megabytes.
func MB(n int64) string { return fmt.Sprintf("%.2f MB", float64(n)/1e6) }

// MiB formats a byte count in binary mebibytes.
func MiB(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
