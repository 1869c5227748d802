#!/usr/bin/env bash
# Checks a deployed token endpoint the way a website uses it: a token for an
# allowed origin, the CORS preflight, and a refused origin. Prints one line per
# check and a PASS/FAIL summary; exits non-zero when a check fails. Never
# prints the token itself.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	cat <<'EOF'
Usage: scripts/smoke-test.sh [options]

Requests tokens from the deployed endpoint and checks:
  1. POST with an allowed Origin: 200, a JWT in the body, Cache-Control: no-store,
     Access-Control-Allow-Origin for that origin
  2. the CORS preflight (OPTIONS) for that origin is allowed
  3. POST from a refused origin: 403, without Access-Control-Allow-Origin
With no allowed origin (a server-to-server stack), check 1 is made without an
Origin header and check 2 is skipped.

The endpoint is the stack's TokenEndpoint output, the allowed origin the first
of the stack's AllowedOrigins parameter, unless --url / --origin say otherwise.

Options:
  --stack-name NAME      stack to test (default: stack_name in samconfig.toml,
                         else trulience-token)
  --url URL              token endpoint; skips the stack lookup
  --origin ORIGIN        an allowed origin (default: first of AllowedOrigins;
                         "none" sends no Origin header)
  --refused-origin ORIGIN  an origin the stack refuses (default: https://evil.example)
  --avatar-id ID         avatar to ask for (default: the stack's default avatar)
  --profile PROFILE      AWS CLI profile (stack lookup)
  --region REGION        AWS region (stack lookup)
  --endpoint-url URL     CloudFormation endpoint (a local emulator)
  -h, --help             show this help
EOF
}

die() {
	printf 'smoke-test: %s\n' "$*" >&2
	exit 2
}

stack_name=""
url=""
origin=""
origin_given=false
origins=""
refused_origin="https://evil.example"
avatar_id=""
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
	--url)
		need_value "$@"
		url=$2
		shift 2
		;;
	--origin)
		need_value "$@"
		origin=$2
		origin_given=true
		shift 2
		;;
	--refused-origin)
		need_value "$@"
		refused_origin=$2
		shift 2
		;;
	--avatar-id)
		need_value "$@"
		avatar_id=$2
		shift 2
		;;
	--profile | --region | --endpoint-url)
		need_value "$@"
		aws_args+=("$1" "$2")
		shift 2
		;;
	--*=*)
		set -- "${1%%=*}" "${1#*=}" "${@:2}"
		;;
	*)
		usage >&2
		die "unknown argument: $1"
		;;
	esac
done

command -v curl >/dev/null || die "curl is not installed"

# stack_query prints one value of the stack's description (empty when absent).
stack_query() {
	local out
	out=$(aws ${aws_args[@]+"${aws_args[@]}"} cloudformation describe-stacks --stack-name "$stack_name" \
		--query "$1" --output text) || die "cannot describe stack $stack_name (deployed? right --region/--profile?)"
	[[ $out == None ]] && out=""
	printf '%s\n' "$out"
}

if [[ -z $url || $origin_given == false ]]; then
	command -v aws >/dev/null || die "the AWS CLI (aws) is not installed; pass --url and --origin"
	stack_name=${stack_name:-$(default_stack_name)}
fi
if [[ -z $url ]]; then
	url=$(stack_query "Stacks[0].Outputs[?OutputKey=='TokenEndpoint'].OutputValue | [0]")
	[[ -n $url ]] || die "stack $stack_name has no TokenEndpoint output"
fi
if [[ $origin_given == false ]]; then
	origins=$(stack_query "Stacks[0].Parameters[?ParameterKey=='AllowedOrigins'].ParameterValue | [0]")
	origin=${origins%%,*}
	# A stack open to every origin answers any one.
	[[ $origin == "*" ]] && origin="https://smoke-test.example"
fi
[[ $origin == none ]] && origin=""

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

failures=0
passes=0

pass() {
	passes=$((passes + 1))
	printf 'PASS  %s\n' "$*"
}

fail() {
	failures=$((failures + 1))
	printf 'FAIL  %s\n' "$*"
}

# request METHOD ORIGIN [BODY] [EXTRA-HEADER...]: sets $status, leaves the
# headers in $work/headers and the body in $work/body.
request() {
	local method=$1 from=$2 body=${3:-}
	local args=(-sS -X "$method" -o "$work/body" -D "$work/headers" -w '%{http_code}' --max-time 30)
	[[ -n $from ]] && args+=(-H "Origin: $from")
	[[ -n $body ]] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
	shift 3 || shift $#
	local h
	for h in "$@"; do
		args+=(-H "$h")
	done
	: >"$work/body"
	: >"$work/headers"
	status=$(curl "${args[@]}" "$url") || status=000
}

# header NAME prints the value of the response header NAME (last one wins).
header() {
	local name
	name=$(printf '%s' "$1" | tr '[:upper:]' '[:lower:]')
	tr -d '\r' <"$work/headers" | awk -v n="$name" '
		{ i = index($0, ":"); if (i > 0 && tolower(substr($0, 1, i - 1)) == n) { v = substr($0, i + 1); sub(/^[ \t]+/, "", v); out = v } }
		END { print out }'
}

# error_code prints the "code" of an error body, if any.
error_code() {
	sed -n 's/.*"code"[[:space:]]*:[[:space:]]*"\([a-z_]*\)".*/\1/p' "$work/body" | head -n 1
}

printf 'Smoke test of %s\n' "$url"
printf '  allowed origin: %s, refused origin: %s\n\n' "${origin:-(none: server-to-server)}" "$refused_origin"

# 1. A token for the allowed origin.
body='{}'
[[ -n $avatar_id ]] && body=$(printf '{"avatar_id":"%s"}' "$avatar_id")
request POST "$origin" "$body"
if [[ $status == 200 ]]; then
	pass "token request answers 200"
else
	fail "token request answers $status, want 200 ${status:+($(error_code))}"
fi
if grep -Eq '"jwt"[[:space:]]*:[[:space:]]*"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+"' "$work/body"; then
	pass "body carries a JWT (not shown)"
else
	fail "body carries no JWT"
fi
if grep -Eq '"expires_in"[[:space:]]*:[[:space:]]*[0-9]+' "$work/body"; then
	pass "body says when the token expires"
else
	fail "body has no expires_in"
fi
cache=$(header Cache-Control)
if [[ $cache == *no-store* ]]; then
	pass "Cache-Control: $cache"
else
	fail "Cache-Control is '${cache}', want no-store"
fi
if [[ -n $origin ]]; then
	acao=$(header Access-Control-Allow-Origin)
	if [[ $acao == "$origin" || $acao == "*" ]]; then
		pass "Access-Control-Allow-Origin: $acao"
	else
		fail "Access-Control-Allow-Origin is '${acao}', want $origin"
	fi
fi

# 2. The browser's preflight for the allowed origin.
if [[ -n $origin ]]; then
	request OPTIONS "$origin" "" "Access-Control-Request-Method: POST" "Access-Control-Request-Headers: content-type"
	acao=$(header Access-Control-Allow-Origin)
	methods=$(header Access-Control-Allow-Methods)
	if [[ $status =~ ^20[04]$ && ($acao == "$origin" || $acao == "*") && $methods == *POST* ]]; then
		pass "preflight answers $status and allows POST from $origin"
	else
		fail "preflight answers $status, Access-Control-Allow-Origin '${acao}', Access-Control-Allow-Methods '${methods}'"
	fi
fi

# 3. A refused origin.
if [[ $origins == "*" ]]; then
	printf 'SKIP  refused origin: the stack allows every origin (AllowedOrigins=*)\n'
else
	[[ $refused_origin != "$origin" ]] || die "--refused-origin is the allowed origin"
	request POST "$refused_origin" "$body"
	acao=$(header Access-Control-Allow-Origin)
	if [[ $status == 403 ]]; then
		pass "refused origin answers 403 $(error_code)"
	else
		fail "refused origin answers $status, want 403"
	fi
	if [[ -z $acao ]]; then
		pass "refused origin gets no Access-Control-Allow-Origin"
	else
		fail "refused origin gets Access-Control-Allow-Origin: $acao"
	fi
fi

# 4. The alias live runs what the last deploy set: the same code and
# configuration as $LATEST. A deploy that changed parameters alone, without
# a new ReleaseDigest, updates $LATEST but publishes no version.
if [[ -n $stack_name ]]; then
	fn=$(stack_query "Stacks[0].Outputs[?OutputKey=='FunctionName'].OutputValue | [0]")
	config() {
		aws ${aws_args[@]+"${aws_args[@]}"} lambda get-function-configuration --function-name "$fn" "$@" \
			--query '[CodeSha256, MemorySize, Environment.Variables]' --output json
	}
	if [[ -z $fn ]]; then
		printf 'SKIP  live version: stack %s has no FunctionName output\n' "$stack_name"
	elif ! latest=$(config 2>/dev/null) || ! live=$(config --qualifier live 2>/dev/null); then
		printf 'SKIP  live version: cannot read %s and its alias live (lambda:GetFunctionConfiguration)\n' "$fn"
	elif [[ $latest == "$live" ]]; then
		pass "the alias live runs the deployed code and configuration"
	else
		fail "the alias live runs an older version than the one deployed: deploy with make deploy or the workflow, which publish a version when parameters change (docs/releases.md)"
	fi
fi

printf '\n'
if [[ $failures -eq 0 ]]; then
	printf 'PASS: %d checks passed\n' "$passes"
else
	printf 'FAIL: %d of %d checks failed\n' "$failures" $((failures + passes))
	exit 1
fi
