// Package bench measures the token function for make bench: the size of the
// deployed arm64 bootstrap and its zip, init duration and warm latency under
// the Lambda Runtime Interface Emulator, Secrets Manager calls, TCP
// connections to Trulience and the bootstrap's peak memory, each next to the
// same figure for a minimal reference Lambda (testdata/minimal) where the
// budget is relative. It also compares the function with the peers a user
// would otherwise pick (testdata/straightforward in Go, node/ in Node.js),
// on loopback and with production round-trip times added by dev/netdelay
// proxies, against the physical limit those round trips set.
// dev/cmd/bench prints the tables.
package bench
