# shellcheck shell=bash
# Helpers shared by the scripts, which source this file and define die
# (their messages and exit statuses differ) and usage.

# AWS CLI v2 would pipe output through a pager; the scripts read it themselves.
export AWS_PAGER=""

# need_value OPTION [VALUE...] dies unless the option has a non-empty value.
need_value() {
	[[ $# -ge 2 && -n $2 ]] || die "$1 needs a value (see --help)"
}

# default_stack_name prints the default environment's stack_name from the
# samconfig.toml beside the scripts ([default.deploy.parameters], else
# [default.global.parameters], as sam deploy reads it), else trulience-token.
# Other environments' tables (staging, prod) are not the default.
default_stack_name() {
	local config name=""
	config="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/samconfig.toml"
	if [[ -f $config ]]; then
		name=$(awk '
			/^[[:space:]]*\[/ { table = $0; gsub(/[][[:space:]]/, "", table); next }
			/^[[:space:]]*stack_name[[:space:]]*=[[:space:]]*"[^"]*"/ {
				v = $0; sub(/^[^"]*"/, "", v); sub(/".*/, "", v)
				if (table == "default.deploy.parameters") deploy = v
				if (table == "default.global.parameters") global = v
			}
			END { print (deploy != "" ? deploy : global) }
		' "$config")
	fi
	printf '%s\n' "${name:-trulience-token}"
}

# stack_value STACK Output|Parameter KEY [AWS ARGS...] prints the stack's
# output KEY, or the value it was deployed with for parameter KEY; nothing
# when there is no such key. It fails when the stack cannot be read.
stack_value() {
	local stack=$1 kind=$2 key=$3 value
	shift 3
	value=$(aws "$@" cloudformation describe-stacks --stack-name "$stack" \
		--query "Stacks[0].${kind}s[?${kind}Key=='$key'].${kind}Value" --output text) || return 1
	[[ $value == None ]] && value=""
	printf '%s\n' "$value"
}

# stack_options [ARGS...] parses the options pause.sh, resume.sh,
# sessions.sh, webhook-header.sh and prepare-stack.sh share (--stack-name, --profile,
# --region, --endpoint-url, -h) and sets stack_name (the default stack when
# not given) and aws_args.
stack_options() {
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
}

# find_function [ARGS...] is stack_options, and sets function_name too (the
# stack's FunctionName output).
find_function() {
	stack_options "$@"
	function_name=$(stack_value "$stack_name" Output FunctionName ${aws_args[@]+"${aws_args[@]}"}) ||
		die "cannot read the outputs of stack $stack_name (deployed? right --region/--profile?)"
	[[ -n $function_name ]] || die "stack $stack_name has no FunctionName output"
}

# need_ledger STACK [AWS ARGS...] dies unless the stack was deployed with
# SessionLedger=on (or cannot be read).
need_ledger() {
	local stack=$1 ledger
	shift
	ledger=$(stack_value "$stack" Parameter SessionLedger "$@") ||
		die "cannot read stack $stack (deployed? right --region/--profile?)"
	[[ $ledger == on ]] ||
		die "stack $stack has no session ledger (SessionLedger=${ledger:-off}): deploy it with SessionLedger=on first (docs/sessions.md)"
}
