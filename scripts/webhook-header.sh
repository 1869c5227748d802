#!/usr/bin/env bash
# Prints what Trulience needs to call the stack's session-ledger webhook:
# its URL, and the name and value of the secret header it must send. The
# value goes to standard output only: never into an argument of any
# process, a file or a log.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	cat <<'USAGE'
Usage: scripts/webhook-header.sh [options]

Prints the webhook URL and the secret header (name and value) of a stack
deployed with SessionLedger=on, to paste into Trulience: Developer > API
Keys > the key the endpoint uses > Webhook URL, and its Custom Headers.
Trulience then reports every session's connect and disconnect to the stack
(docs/sessions.md).

The name is the stack's WebhookHeaderName; the value is the secret the
stack generated, <stack>-webhook-key, read with your AWS credentials
(secretsmanager:GetSecretValue). It is printed to standard output only:
keep it out of shared terminals and chat. Anyone who has it can record
sessions that never happened.

Options:
  --stack-name NAME    the stack (default: stack_name in samconfig.toml,
                       else trulience-token)
  --profile PROFILE    AWS CLI profile
  --region REGION      AWS region
  --endpoint-url URL   endpoint for both CloudFormation and Secrets Manager
                       (a local emulator, e.g. http://127.0.0.1:5000)
  -h, --help           show this help
USAGE
}

die() {
	printf 'webhook-header: %s\n' "$*" >&2
	exit 1
}

stack_options "$@"
need_ledger "$stack_name" ${aws_args[@]+"${aws_args[@]}"}

header=$(stack_value "$stack_name" Parameter WebhookHeaderName ${aws_args[@]+"${aws_args[@]}"}) ||
	die "cannot read stack $stack_name"
url=$(stack_value "$stack_name" Output WebhookUrl ${aws_args[@]+"${aws_args[@]}"}) ||
	die "cannot read stack $stack_name"
[[ -n $header && -n $url ]] || die "stack $stack_name has no WebhookHeaderName parameter or WebhookUrl output (deployed with an older template?)"

secret_name="$stack_name-webhook-key"
value=$(aws ${aws_args[@]+"${aws_args[@]}"} secretsmanager get-secret-value --secret-id "$secret_name" \
	--query SecretString --output text) ||
	die "cannot read the secret $secret_name (secretsmanager:GetSecretValue on it needed)"
[[ -n $value && $value != None ]] || die "the secret $secret_name is empty"

# printf is a shell builtin: the value is in no process's arguments.
printf 'Paste into Trulience (Developer > API Keys > your key):\n\n'
printf '  Webhook URL:    %s\n' "$url"
printf '  Custom header:  %s\n' "$header"
printf '  Header value:   %s\n' "$value"
