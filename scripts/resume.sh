#!/usr/bin/env bash
# Lets the token function run again after scripts/pause.sh: gives it back the
# reserved concurrency the stack was deployed with (ReservedConcurrency), or
# removes the reservation when the stack sets none; then puts back the
# provisioned concurrency pause.sh removed (ProvisionedConcurrency, on the
# alias live).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	cat <<'USAGE'
Usage: scripts/resume.sh [options]

Undoes scripts/pause.sh (make pause): the stack's token function (its
FunctionName output) may run again. When the stack was deployed with a
ReservedConcurrency, the function gets that value back; otherwise its
reserved concurrency is removed (delete-function-concurrency). Tokens are
minted again from the next request on.

When the stack was deployed with a ProvisionedConcurrency, that much
provisioned concurrency is then put back on the function's alias live
(pause.sh removes it: Lambda refuses reserved concurrency 0 while it is
there). Lambda takes a minute or two to initialize those instances;
requests are served meanwhile, with cold starts. Should that step fail,
the function runs again all the same, without warm instances: the script
says so and exits non-zero; run it again.

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
	printf 'resume: %s\n' "$*" >&2
	exit 1
}

find_function "$@"
reserved=$(stack_value "$stack_name" Parameter ReservedConcurrency ${aws_args[@]+"${aws_args[@]}"}) ||
	die "cannot read the parameters of stack $stack_name"
provisioned=$(stack_value "$stack_name" Parameter ProvisionedConcurrency ${aws_args[@]+"${aws_args[@]}"}) ||
	die "cannot read the parameters of stack $stack_name"
[[ -z $provisioned || $provisioned =~ ^[1-9][0-9]*$ ]] ||
	die "the stack's ProvisionedConcurrency is not a number: $provisioned"

if [[ -n $reserved && $reserved != 0 ]]; then
	[[ $reserved =~ ^[0-9]+$ ]] || die "the stack's ReservedConcurrency is not a number: $reserved"
	aws ${aws_args[@]+"${aws_args[@]}"} lambda put-function-concurrency --function-name "$function_name" \
		--reserved-concurrent-executions "$reserved" >/dev/null ||
		die "could not set the reserved concurrency of $function_name to $reserved"
	printf 'Resumed %s: reserved concurrency %s (the stack'"'"'s ReservedConcurrency).\n' "$function_name" "$reserved"
else
	aws ${aws_args[@]+"${aws_args[@]}"} lambda delete-function-concurrency --function-name "$function_name" ||
		die "could not remove the reserved concurrency of $function_name"
	printf 'Resumed %s: no reserved concurrency, tokens are minted again.\n' "$function_name"
fi

# After the reservation: Lambda refuses provisioned concurrency above the
# function's reserved concurrency.
if [[ -n $provisioned ]]; then
	aws ${aws_args[@]+"${aws_args[@]}"} lambda put-provisioned-concurrency-config --function-name "$function_name" \
		--qualifier live --provisioned-concurrent-executions "$provisioned" >/dev/null ||
		die "tokens are minted again, but the provisioned concurrency of $function_name:live could not be set back to $provisioned (the stack's ProvisionedConcurrency): run scripts/resume.sh again"
	printf 'Provisioned concurrency %s on %s:live again (the stack'"'"'s ProvisionedConcurrency); Lambda initializes it within minutes.\n' "$provisioned" "$function_name"
fi
