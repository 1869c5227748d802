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

stack_name=""
aws_args=()
while [[ $# -gt 0 ]]; do
	case $1 in
	-h | --help)
		usage
		exit 0
		;;
	--stack-name)
		need_value "$@"
		stack_name=$2
		shift 2
		;;
	--profile | --region | --endpoint-url)
		need_value "$@"
		aws_args+=("$1" "$2")
		shift 2
		;;
	--stack-name=* | --profile=* | --region=* | --endpoint-url=*)
		set -- "${1%%=*}" "${1#*=}" "${@:2}"
		;;
	*)
		usage >&2
		die "unknown argument: $1"
		;;
	esac
done

command -v aws >/dev/null || die "the AWS CLI (aws) is not installed"
stack_name=${stack_name:-$(default_stack_name)}
function_name=$(stack_output "$stack_name" FunctionName ${aws_args[@]+"${aws_args[@]}"}) ||
	die "cannot read the outputs of stack $stack_name (deployed? right --region/--profile?)"
[[ -n $function_name ]] || die "stack $stack_name has no FunctionName output"

aws ${aws_args[@]+"${aws_args[@]}"} lambda put-function-concurrency --function-name "$function_name" \
	--reserved-concurrent-executions 0 >/dev/null ||
	die "could not set the reserved concurrency of $function_name to 0"

printf 'Paused %s: reserved concurrency 0, no token is minted.\n' "$function_name"
printf 'Undo with: scripts/resume.sh --stack-name %s (or make resume STACK_NAME=%s)\n' "$stack_name" "$stack_name"
