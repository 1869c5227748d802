# shellcheck shell=bash
# Helpers shared by put-api-key.sh and smoke-test.sh, which source this file
# and define die (their messages and exit statuses differ).

# AWS CLI v2 would pipe output through a pager; the scripts read it themselves.
export AWS_PAGER=""

# need_value OPTION [VALUE...] dies unless the option has a non-empty value.
need_value() {
	[[ $# -ge 2 && -n $2 ]] || die "$1 needs a value (see --help)"
}

# default_stack_name prints stack_name from the samconfig.toml beside the
# scripts, else trulience-token.
default_stack_name() {
	local config name=""
	config="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/samconfig.toml"
	if [[ -f $config ]]; then
		name=$(sed -n 's/^[[:space:]]*stack_name[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p' "$config" | head -n 1)
	fi
	printf '%s\n' "${name:-trulience-token}"
}
