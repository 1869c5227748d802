#!/usr/bin/env bash
# Stops all token minting at once: sets the token function's reserved
# concurrency to 0, so Lambda runs no instance of it and API Gateway answers
# every request with an error. Lambda refuses a reserved concurrency below
# the provisioned concurrency of the function's aliases and versions, so any
# provisioned concurrency (the stack's ProvisionedConcurrency, on the alias
# live) is removed first. scripts/resume.sh undoes both.
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

Lambda refuses a reserved concurrency below the function's provisioned
concurrency, so when an alias or version of the function has provisioned
concurrency (a stack deployed with ProvisionedConcurrency has it on the
alias live), it is deleted first (delete-provisioned-concurrency-config)
and the output says so. Those instances are released and no longer billed;
scripts/resume.sh puts the stack's ProvisionedConcurrency back.

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

# Lambda refuses a reserved concurrency below the provisioned concurrency of
# the function's aliases and versions: that goes first. Should the list be
# unreadable (no lambda:ListProvisionedConcurrencyConfigs), the switch is
# still tried: it works whenever there is no provisioned concurrency.
if configs=$(aws ${aws_args[@]+"${aws_args[@]}"} lambda list-provisioned-concurrency-configs \
	--function-name "$function_name" --output text \
	--query 'ProvisionedConcurrencyConfigs[].[FunctionArn, RequestedProvisionedConcurrentExecutions]'); then
	while IFS=$'\t' read -r arn count; do
		[[ -n $arn && $arn != None ]] || continue
		qualifier=${arn##*:}
		aws ${aws_args[@]+"${aws_args[@]}"} lambda delete-provisioned-concurrency-config \
			--function-name "$function_name" --qualifier "$qualifier" ||
			die "could not remove the provisioned concurrency of $function_name:$qualifier, so not paused (Lambda refuses reserved concurrency 0 while it is there)"
		printf 'Removed the provisioned concurrency of %s:%s (%s instances).\n' "$function_name" "$qualifier" "$count"
	done <<<"$configs"
else
	printf 'pause: could not list the provisioned concurrency of %s; setting reserved concurrency 0 anyway\n' "$function_name" >&2
fi

aws ${aws_args[@]+"${aws_args[@]}"} lambda put-function-concurrency --function-name "$function_name" \
	--reserved-concurrent-executions 0 >/dev/null ||
	die "could not set the reserved concurrency of $function_name to 0 (Lambda refuses it while an alias or version has provisioned concurrency: aws lambda list-provisioned-concurrency-configs --function-name $function_name)"

printf 'Paused %s: reserved concurrency 0, no token is minted.\n' "$function_name"
printf 'Undo with: scripts/resume.sh --stack-name %s (or make resume STACK_NAME=%s)\n' "$stack_name" "$stack_name"
