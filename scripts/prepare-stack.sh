#!/usr/bin/env bash
# Runs before sam deploy: checks that the stack can be deployed. A stack whose
# first deploy failed (ROLLBACK_COMPLETE) is deleted, since CloudFormation can
# only delete it and it holds no resources; any other state sam deploy cannot
# update stops here with the one command that unblocks it.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	cat <<'USAGE'
Usage: scripts/prepare-stack.sh [options]

Makes sure sam deploy can deploy the stack:
  - no stack yet, or a stack that can be updated: nothing to do;
  - ROLLBACK_COMPLETE (its creation failed and was rolled back, so no
    resource is left and CloudFormation refuses any update): prints why the
    creation failed, deletes the stack and waits until it is gone, so the
    next sam deploy creates it afresh;
  - any other state sam deploy cannot update (an operation in progress, a
    failed rollback or delete): prints what to run and exits 1.

Options:
  --stack-name NAME    the stack (default: stack_name in samconfig.toml,
                       else trulience-token)
  --profile PROFILE    AWS CLI profile
  --region REGION      AWS region
  --endpoint-url URL   CloudFormation endpoint (a local emulator)
  -h, --help           show this help
USAGE
}

die() {
	printf 'prepare-stack: %s\n' "$*" >&2
	exit 1
}

stack_options "$@"
cfn() { aws ${aws_args[@]+"${aws_args[@]}"} cloudformation "$@"; }

if ! status=$(cfn describe-stacks --stack-name "$stack_name" --query 'Stacks[0].StackStatus' --output text 2>&1); then
	if [[ $status == *"does not exist"* ]]; then
		printf 'Stack %s does not exist yet: sam deploy creates it.\n' "$stack_name"
		exit 0
	fi
	die "cannot read stack $stack_name: $status"
fi

case $status in
REVIEW_IN_PROGRESS | CREATE_COMPLETE | UPDATE_COMPLETE | UPDATE_ROLLBACK_COMPLETE | IMPORT_COMPLETE | IMPORT_ROLLBACK_COMPLETE)
	printf 'Stack %s is %s: ready to deploy.\n' "$stack_name" "$status"
	;;
ROLLBACK_COMPLETE)
	printf 'Stack %s is ROLLBACK_COMPLETE: its creation failed, every resource was removed, and CloudFormation can only delete it.\n' "$stack_name"
	printf 'Why the creation failed:\n'
	cfn describe-stack-events --stack-name "$stack_name" \
		--query "StackEvents[?ResourceStatus=='CREATE_FAILED'].[LogicalResourceId,ResourceStatusReason]" \
		--output text | sed 's/^/  /' || true
	printf 'Deleting it, so this deploy creates it afresh.\n'
	cfn delete-stack --stack-name "$stack_name"
	cfn wait stack-delete-complete --stack-name "$stack_name" ||
		die "stack $stack_name was not deleted; delete it with an administrator's credentials: aws cloudformation delete-stack --stack-name $stack_name"
	printf 'Deleted %s.\n' "$stack_name"
	;;
UPDATE_ROLLBACK_FAILED)
	die "stack $stack_name is UPDATE_ROLLBACK_FAILED: a resource could not be rolled back. Fix the cause shown in its events, then run: aws cloudformation continue-update-rollback --stack-name $stack_name"
	;;
ROLLBACK_FAILED | DELETE_FAILED)
	die "stack $stack_name is $status: some resources could not be deleted. See its events, remove them, then run with an administrator's credentials: aws cloudformation delete-stack --stack-name $stack_name"
	;;
*_IN_PROGRESS)
	die "stack $stack_name is $status: another operation is running. Wait for it to end (aws cloudformation describe-stacks --stack-name $stack_name), then deploy again."
	;;
*)
	die "stack $stack_name is $status, which sam deploy cannot update; see its events: aws cloudformation describe-stack-events --stack-name $stack_name"
	;;
esac
