// Package proc starts and stops the helper processes of tests and
// `make local` (moto_server, aws-lambda-rie and the function under it) so
// that none of them outlives its owner, and lists a process's descendants
// (from /proc on Linux, from ps(1) on macOS) to prove it.
//
// Linux and macOS are supported; on Windows, run the tools under WSL.
package proc
