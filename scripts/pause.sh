#!/usr/bin/env bash
# Stops all token minting at once: sets the token function's reserved
# concurrency to 0, so Lambda runs no instance of it and API Gateway answers
# every request with an error. scripts/resume.sh undoes it.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	cat <<'USAGE'
Usage: scripts/pause.sh [options]

Stops all token minting at once (the kill switch): sets the reserved
concurrency of the stack's token function (its FunctionName output) to 0.
Lambda then runs no instance of it: running requests finish, every new one
is refused by Lambda (a throttle) and API Gateway answers it with an error.
No token is minted until scripts/resume.sh (make resume).

While paused, the throttles alarm fires if alarms are on: that is expected.

Options:
  --stack-name NAME    stack whose FunctionName output names the function
                       (default: stack_name in samconfig.toml, else trulience-token)
  --profile PROFILE    AWS CLI profile
  --region REGION      AWS region
  --endpoint-url URL   endpoint for both CloudFormation and Lambda
                       (a local emulator, e.g. http://127.0.0.1:5000)
  -h, --help           show this help
USAGE
}

die() {
	printf 'pause: %s\n' "$*" >&2
	exit 1
}

find_function "$@"

aws ${aws_args[@]+"${aws_args[@]}"} lambda put-function-concurrency --function-name "$function_name" \
	--reserved-concurrent-executions 0 >/dev/null ||
	die "could not set the reserved concurrency of $function_name to 0"

printf 'Paused %s: reserved concurrency 0, no token is minted.\n' "$function_name"
printf 'Undo with: scripts/resume.sh --stack-name %s (or make resume STACK_NAME=%s)\n' "$stack_name" "$stack_name"
