// Package localsm provides local Secrets Manager peers for tests and
// `make local`: a minimal in-process server speaking the real JSON 1.1
// protocol (GetSecretValue, CreateSecret, PutSecretValue), a launcher for
// moto_server, an SDK client aimed at either, and a counting proxy that tells
// how many times each operation was called.
package localsm
