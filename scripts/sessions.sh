#!/usr/bin/env bash
# Prints the session ledger's live sessions and today's minutes per avatar,
# read from the stack's table as the token function's caps read it.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	cat <<'USAGE'
Usage: scripts/sessions.sh [options]

Prints, per avatar and in total, the avatar sessions live now and the
minutes of the current UTC day, from the session ledger of a stack deployed
with SessionLedger=on (its table <stack>-sessions; docs/sessions.md).

Today's minutes are the sessions that ended today plus today's part of the
ones still live, as the caps MaxLiveSessions and DailySessionMinutes count
them. A session counts as live until its disconnect, or until its
max_session_duration (else SessionMaxMinutes) is up.

Options:
  --stack-name NAME    the stack (default: stack_name in samconfig.toml,
                       else trulience-token)
  --profile PROFILE    AWS CLI profile
  --region REGION      AWS region
  --endpoint-url URL   endpoint for both CloudFormation and DynamoDB
                       (a local emulator, e.g. http://127.0.0.1:5000)
  -h, --help           show this help
USAGE
}

die() {
	printf 'sessions: %s\n' "$*" >&2
	exit 1
}

stack_options "$@"
need_ledger "$stack_name" ${aws_args[@]+"${aws_args[@]}"}
table="$stack_name-sessions"

# One clock reading for everything below; UTC days are 86400 s of epoch time.
read -r now today clock < <(date -u '+%s %Y-%m-%d %H:%M')
midnight=$((now - now % 86400))

# query PK QUERY prints the items of partition PK as text, one per line.
query() {
	aws ${aws_args[@]+"${aws_args[@]}"} dynamodb query --table-name "$table" \
		--key-condition-expression 'pk = :pk' \
		--expression-attribute-values "{\":pk\":{\"S\":\"$1\"}}" \
		--query "$2" --output text
}

live=$(query live 'Items[].[sk.S, avatar_id.S, start.N, max_end.N]') ||
	die "cannot read the live sessions in table $table"
days=$(query "day#$today" 'Items[].[sk.S, seconds.N]') ||
	die "cannot read today's totals in table $table"

printf 'Sessions of stack %s on %s (UTC, now %s):\n\n' "$stack_name" "$today" "$clock"
{
	printf '%s\n' "$live" | sed '/^$/d; s/^/live\t/'
	printf '%s\n' "$days" | sed '/^$/d; s/^/day\t/'
} | awk -F '\t' -v now="$now" -v midnight="$midnight" '
	function num(v) { return (v == "None" || v == "") ? 0 : v + 0 }
	$1 == "live" {
		avatar = $3; start = num($4); end = num($5)
		seen[avatar] = 1
		# Live until max_end; a marker past it awaits the sweep, which ends
		# it at max_end: its time until then still counts.
		if (end > now) { live[avatar]++; total_live++ }
		from = start > midnight ? start : midnight
		to = end < now ? end : now
		if (to > from) { secs[avatar] += to - from; live_secs += to - from }
		next
	}
	$1 == "day" && $2 == "total" { ended_total = num($3); next }
	$1 == "day" && $2 ~ /^avatar#/ {
		avatar = substr($2, 8); seen[avatar] = 1; secs[avatar] += num($3); next
	}
	END {
		printf "  %-32s %6s %15s\n", "avatar", "live", "minutes today"
		n = 0
		for (a in seen) list[++n] = a
		# Insertion sort: awk has no portable sort.
		for (i = 2; i <= n; i++) {
			v = list[i]
			for (j = i - 1; j > 0 && list[j] > v; j--) list[j + 1] = list[j]
			list[j + 1] = v
		}
		for (i = 1; i <= n; i++) {
			a = list[i]
			printf "  %-32s %6d %15.1f\n", a, live[a], secs[a] / 60
		}
		if (n == 0) printf "  (no sessions today)\n"
		printf "  %-32s %6d %15.1f\n", "total", total_live, (ended_total + live_secs) / 60
	}
'
