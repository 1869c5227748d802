#!/usr/bin/env bash
# Stores the Trulience API key in the token stack's Secrets Manager secret.
# The key is read from standard input only, so it never lands in shell
# history or in any process's argument list.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	cat <<'EOF'
Usage: scripts/put-api-key.sh [options] < key-file
       scripts/put-api-key.sh [options]            (prompts, without echo)

Stores the Trulience API key (tru_..., with the "Generate Tokens" permission)
in the secret the token function reads. The key comes from standard input:
typed at the prompt, or piped, e.g. `pbpaste | scripts/put-api-key.sh`.
It is never accepted as an argument.

The secret is the stack's SecretArn output, unless --secret-id names it.
The function uses the new key within SECRET_TTL (5 minutes) at the latest.

Options:
  --stack-name NAME    stack whose SecretArn output names the secret
                       (default: stack_name in samconfig.toml, else trulience-token)
  --secret-id ID       name or ARN of the secret; skips the stack lookup
  --profile PROFILE    AWS CLI profile
  --region REGION      AWS region
  --endpoint-url URL   endpoint for both CloudFormation and Secrets Manager
                       (a local emulator, e.g. http://127.0.0.1:5000)
  -h, --help           show this help
EOF
}

die() {
	printf 'put-api-key: %s\n' "$*" >&2
	exit 1
}

stack_name=""
secret_id=""
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
	--secret-id)
		need_value "$@"
		secret_id=$2
		shift 2
		;;
	--profile | --region | --endpoint-url)
		need_value "$@"
		aws_args+=("$1" "$2")
		shift 2
		;;
	--stack-name=* | --secret-id=* | --profile=* | --region=* | --endpoint-url=*)
		set -- "${1%%=*}" "${1#*=}" "${@:2}"
		;;
	-*)
		usage >&2
		die "unknown option: $1"
		;;
	*)
		# Not echoed: it may be the key itself.
		die "unexpected argument: the key is read from standard input, never from arguments (see --help)"
		;;
	esac
done

command -v aws >/dev/null || die "the AWS CLI (aws) is not installed"

if [[ -z $secret_id ]]; then
	stack_name=${stack_name:-$(default_stack_name)}
	secret_id=$(aws ${aws_args[@]+"${aws_args[@]}"} cloudformation describe-stacks --stack-name "$stack_name" \
		--query "Stacks[0].Outputs[?OutputKey=='SecretArn'].OutputValue" --output text) ||
		die "cannot read the outputs of stack $stack_name (deployed? right --region/--profile?)"
	if [[ -z $secret_id || $secret_id == None ]]; then
		die "stack $stack_name has no SecretArn output"
	fi
fi

key=""
if [[ -t 0 ]]; then
	printf 'Trulience API key (input hidden): ' >&2
	IFS= read -r -s key || true
	printf '\n' >&2
else
	IFS= read -r key || true
fi
# Trim the whitespace a copy-paste brings along.
key=${key#"${key%%[![:space:]]*}"}
key=${key%"${key##*[![:space:]]}"}

[[ -n $key ]] || die "no key on standard input"
[[ $key == tru_* ]] || die "that is not a Trulience API key: it must start with tru_"
# Keys are plain tokens; refusing anything else keeps the JSON below well-formed.
[[ $key =~ ^[A-Za-z0-9._~+/=-]+$ ]] || die "the key has characters a Trulience API key does not have"

# printf is a shell builtin, and the CLI reads the value from its standard
# input: the key appears in no argument list.
version=$(printf '{"api_key":"%s"}' "$key" |
	aws ${aws_args[@]+"${aws_args[@]}"} secretsmanager put-secret-value --secret-id "$secret_id" \
		--secret-string file:///dev/stdin --query VersionId --output text) ||
	die "could not write the secret $secret_id"
unset key

printf 'Stored the API key in %s (version %s).\n' "$secret_id" "$version"
printf 'The function uses it within 5 minutes (SECRET_TTL); new instances use it at once.\n'
