#!/usr/bin/env bash
# Stores the Trulience API key, or with --turnstile-secret the Turnstile
# secret key, in the token stack's Secrets Manager secret, keeping the other.
# The value is read from standard input only, so it never lands in shell
# history or in any process's argument list.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	cat <<'EOF'
Usage: scripts/put-api-key.sh [options] < key-file
       scripts/put-api-key.sh [options]            (prompts, without echo)
       scripts/put-api-key.sh --turnstile-secret [options] < turnstile-secret-file

Stores the Trulience API key (tru_..., with the "Generate Tokens" permission)
in the secret the token function reads. The key comes from standard input:
typed at the prompt, or piped, e.g. `pbpaste | scripts/put-api-key.sh`.
It is never accepted as an argument.

With --turnstile-secret, standard input holds the Turnstile secret key
(Cloudflare dashboard > Turnstile > your widget) instead, for the bot check
(BotCheck=monitor or enforce). Either way the secret's other field is kept:
the secret holds {"api_key": "...", "turnstile_secret": "..."}.

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
  --turnstile-secret   store the Turnstile secret key read from standard
                       input (keeps the API key)
  -h, --help           show this help
EOF
}

die() {
	printf 'put-api-key: %s\n' "$*" >&2
	exit 1
}

stack_name=""
secret_id=""
turnstile=false
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
	--turnstile-secret)
		turnstile=true
		shift
		;;
	--turnstile-secret=*)
		# Not echoed: it may be the secret itself.
		die "--turnstile-secret takes no value: the secret is read from standard input, never from arguments"
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

what="Trulience API key"
$turnstile && what="Turnstile secret key"
key=""
if [[ -t 0 ]]; then
	printf '%s (input hidden): ' "$what" >&2
	IFS= read -r -s key || true
	printf '\n' >&2
else
	IFS= read -r key || true
fi
# Trim the whitespace a copy-paste brings along.
key=${key#"${key%%[![:space:]]*}"}
key=${key%"${key##*[![:space:]]}"}

if [[ -z $key ]]; then
	$turnstile && die "no Turnstile secret key on standard input"
	die "no key on standard input"
fi
if $turnstile; then
	[[ $key != tru_* ]] || die "that is a Trulience API key, not a Turnstile secret key (run without --turnstile-secret to store it)"
	[[ $key =~ ^[A-Za-z0-9._~+/=-]+$ ]] || die "the Turnstile secret key has characters a secret key does not have"
else
	[[ $key == tru_* ]] || die "that is not a Trulience API key: it must start with tru_"
	# Keys are plain tokens; refusing anything else keeps the JSON below well-formed.
	[[ $key =~ ^[A-Za-z0-9._~+/=-]+$ ]] || die "the key has characters a Trulience API key does not have"
fi

# Read the current value to keep its other field. It goes from the CLI's
# standard output into a variable: never into an argument list.
current=$(aws ${aws_args[@]+"${aws_args[@]}"} secretsmanager get-secret-value --secret-id "$secret_id" \
	--query SecretString --output text) ||
	die "could not read the current value of $secret_id (needed to keep its other field)"
api_key=""
turnstile_secret=""
field='"%s"[[:space:]]*:[[:space:]]*"([^"\\[:cntrl:]]*)"'
# shellcheck disable=SC2059
if [[ $current =~ $(printf "$field" api_key) ]]; then
	api_key=${BASH_REMATCH[1]}
elif [[ $current != "{"* && $current =~ ^[A-Za-z0-9._~+/=-]+$ ]]; then
	api_key=$current # a bare key
fi
# shellcheck disable=SC2059
if [[ $current =~ $(printf "$field" turnstile_secret) ]]; then
	turnstile_secret=${BASH_REMATCH[1]}
fi
unset current
if $turnstile; then
	turnstile_secret=$key
	[[ -n $api_key ]] || die "the secret $secret_id holds no api_key yet: store the Trulience API key first"
else
	api_key=$key
fi
unset key

# printf is a shell builtin, and the CLI reads the value from its standard
# input: neither value appears in any argument list.
value=$(printf '{"api_key":"%s"}' "$api_key")
[[ -z $turnstile_secret ]] || value=$(printf '{"api_key":"%s","turnstile_secret":"%s"}' "$api_key" "$turnstile_secret")
unset api_key turnstile_secret
version=$(printf '%s' "$value" |
	aws ${aws_args[@]+"${aws_args[@]}"} secretsmanager put-secret-value --secret-id "$secret_id" \
		--secret-string file:///dev/stdin --query VersionId --output text) ||
	die "could not write the secret $secret_id"
unset value

printf 'Stored the %s in %s (version %s).\n' "$what" "$secret_id" "$version"
printf 'The function uses it within 5 minutes (SECRET_TTL); new instances use it at once.\n'
