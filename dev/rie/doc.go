// Package rie builds the function's bootstrap and runs it under the AWS
// Lambda Runtime Interface Emulator (aws-lambda-rie) on a loopback port, with
// an explicit environment, so tests and `make local` invoke the real binary
// through the real Lambda Runtime API.
//
// Facts about this RIE version (v0.0.0-20261030222936-bef5c4ba774d) the
// package relies on:
//   - flags --runtime-interface-emulator-address (default 0.0.0.0:8080),
//     --runtime-api-address (default 127.0.0.1:9001, so two emulators collide
//     unless it is set) and --log-level; unknown flags, --help included, are
//     ignored, which is why `aws-lambda-rie --help` seems to hang: it starts
//     serving on :8080;
//   - the RIE passes its whole environment to the function and reads
//     AWS_LAMBDA_FUNCTION_TIMEOUT (seconds, default 300) and LOG_LEVEL itself;
//   - the function is started (init) on the first invoke, in its own process
//     group; invocations are served one at a time at
//     POST /2015-03-31/functions/function/invocations;
//   - an invocation error answers 200 with {"errorMessage","errorType"} and a
//     timeout answers 200 "Task timed out after N.00 seconds": no header tells
//     them apart from a result;
//   - it prints "INIT REPORT(durationMs: …)" (the real init time) and, per
//     invoke, "REPORT RequestId: … Duration: … ms" whose Init Duration and
//     Max Memory Used are not measured (Max Memory Used echoes Memory Size);
//   - SIGTERM makes it SIGKILL the runtime and exit.
package rie
