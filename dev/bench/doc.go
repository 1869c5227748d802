// Package bench measures the token function against its budgets: the
// size of the deployed arm64 bootstrap and its zip, init duration and warm
// latency under the Lambda Runtime Interface Emulator, Secrets Manager calls,
// TCP connections to Trulience and the bootstrap's peak memory, each next to
// the same figure for a minimal reference Lambda (testdata/minimal) where the
// budget is relative. dev/cmd/bench (make bench) prints them as a table.
package bench
