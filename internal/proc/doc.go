// Package proc starts and stops the helper processes of tests and
// `make local` (moto_server, aws-lambda-rie and the function under it) so
// that none of them outlives its owner, and finds them in /proc (Linux) to
// prove it.
package proc
