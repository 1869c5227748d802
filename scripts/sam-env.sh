#!/usr/bin/env bash
# Writes the --env-vars file `sam local invoke` needs to run the built
# function against a deployed stack: the deployed function's own variables,
# limited to the ones template.yaml declares for it (the only ones SAM passes).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
template="$root/template.yaml"
function_id=TokenFunction

usage() {
	cat <<'USAGE'
Usage: scripts/sam-env.sh [options]

Writes the file `sam local invoke --env-vars FILE` reads, so the built
function runs in SAM's container against a deployed (development) stack:
{"TokenFunction": {...}} with the variables of the stack's function (its
FunctionName output) as Lambda runs it: the secret's ARN, the origins and
avatars, the real Trulience URL. Only the variables template.yaml declares
for TokenFunction go in: SAM ignores any other. The file holds no secret
value (the function reads the key from Secrets Manager with your AWS
credentials); it is still written readable by you only (mode 0600).

Then:
  sam build
  sam local invoke TokenFunction -e events/token-default-avatar.json \
    --env-vars FILE --region REGION   (the stack's region; docs/development.md)

Options:
  --stack-name NAME    stack whose FunctionName output names the function
                       (default: stack_name in samconfig.toml, else trulience-token)
  --output FILE        where to write (default: env.<stack>.json at the
                       project root, ignored by git)
  --profile PROFILE    AWS CLI profile
  --region REGION      AWS region
  --endpoint-url URL   endpoint for both CloudFormation and Lambda
                       (a local emulator, e.g. http://127.0.0.1:5000)
  -h, --help           show this help
USAGE
}

die() {
	printf 'sam-env: %s\n' "$*" >&2
	exit 1
}

# declared_variables prints, one a line, the names of the environment
# variables template.yaml declares for TokenFunction: its
# Properties.Environment.Variables and those of Globals.Function, which SAM
# merges in. It reads block-style YAML as template.yaml is written (keys by
# indentation, block scalars skipped); dev/scripttest (TestSamEnv) checks
# it against a real YAML parser.
declared_variables() {
	awk -v fn="$function_id" '
		/^[[:space:]]*(#.*)?$/ { next }
		{
			match($0, /^[ -]*/)
			ind = RLENGTH
			if (block >= 0 && ind > block) next
			block = -1
			line = substr($0, ind + 1)
			if (!match(line, /^[A-Za-z0-9_.:-]+:([[:space:]]|$)/)) next
			key = substr(line, 1, index(line, ":") - 1)
			while (depth > 0 && inds[depth] >= ind) depth--
			keys[++depth] = key
			inds[depth] = ind
			if (line ~ /:[[:space:]]*[>|][-+0-9]*[[:space:]]*(#.*)?$/) block = ind
			path = keys[1]
			for (i = 2; i <= depth; i++) path = path "/" keys[i]
			if (path ~ "^(Resources/" fn "/Properties|Globals/Function)/Environment/Variables/[^/]+$") print key
		}
		BEGIN { block = -1 }
	' "$template" | sort -u
}

stack_name=""
output=""
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
	--output)
		need_value "$@"
		output=$2
		shift 2
		;;
	--profile | --region | --endpoint-url)
		need_value "$@"
		aws_args+=("$1" "$2")
		shift 2
		;;
	--stack-name=* | --output=* | --profile=* | --region=* | --endpoint-url=*)
		set -- "${1%%=*}" "${1#*=}" "${@:2}"
		;;
	*)
		usage >&2
		die "unknown argument: $1"
		;;
	esac
done

command -v aws >/dev/null || die "the AWS CLI (aws) is not installed"
[[ -f $template ]] || die "no template at $template"
declared=$(declared_variables)
[[ -n $declared ]] || die "$template declares no environment variables for $function_id"

stack_name=${stack_name:-$(default_stack_name)}
output=${output:-"$root/env.$stack_name.json"}
function_name=$(stack_value "$stack_name" Output FunctionName ${aws_args[@]+"${aws_args[@]}"}) ||
	die "cannot read the outputs of stack $stack_name (deployed? right --region/--profile?)"
[[ -n $function_name ]] || die "stack $stack_name has no FunctionName output"

# The names the function has (JMESPath keys(): plain words, tab-separated).
# shellcheck disable=SC2016 # the backquotes are JMESPath's, for a literal
names=$(aws ${aws_args[@]+"${aws_args[@]}"} lambda get-function-configuration --function-name "$function_name" \
	--query 'keys(Environment.Variables || `{}`)' --output text) ||
	die "cannot read the configuration of function $function_name"
arn=$(aws ${aws_args[@]+"${aws_args[@]}"} lambda get-function-configuration --function-name "$function_name" \
	--query FunctionArn --output text) ||
	die "cannot read the configuration of function $function_name"

# Keep the declared ones; the AWS CLI then writes the JSON itself, values as
# they are, from one JMESPath multi-select: {TokenFunction: {NAME: NAME, ...}}.
fields=()
skipped=()
for name in $names; do
	if grep -qxF -- "$name" <<<"$declared"; then
		fields+=("$name: $name")
	else
		skipped+=("$name")
	fi
done
[[ ${#fields[@]} -gt 0 ]] || die "function $function_name has none of the variables $template declares"
query="{$function_id: Environment.Variables.{$(
	IFS=,
	printf '%s' "${fields[*]}"
)}}"

# mktemp makes the file 0600; mv puts it in place whole.
dir=$(dirname "$output")
[[ -d $dir ]] || die "no directory $dir for $output"
tmp=$(mktemp "$dir/.sam-env.XXXXXX")
trap 'rm -f "$tmp"' EXIT
aws ${aws_args[@]+"${aws_args[@]}"} lambda get-function-configuration --function-name "$function_name" \
	--query "$query" --output json >"$tmp" ||
	die "cannot read the configuration of function $function_name"
chmod 600 "$tmp"
mv -f "$tmp" "$output"
trap - EXIT

region=$(cut -d: -f4 <<<"$arn")
profile=""
for ((i = 0; i < ${#aws_args[@]}; i += 2)); do
	[[ ${aws_args[i]} == --profile ]] && profile=" --profile ${aws_args[i + 1]}"
done
printf 'Wrote %s: %d variables of %s (stack %s).\n' "$output" "${#fields[@]}" "$function_name" "$stack_name"
[[ ${#skipped[@]} -eq 0 ]] || printf 'Left out (not declared in template.yaml, SAM would drop them): %s\n' "${skipped[*]}"
printf 'Run the built function with them, with your AWS credentials:\n'
printf '  sam build\n'
printf '  sam local invoke %s -e events/token-default-avatar.json --env-vars %s --region %s%s\n' \
	"$function_id" "$output" "$region" "$profile"
