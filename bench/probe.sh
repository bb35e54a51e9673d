#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Median wall time of a full default uffd-probe run (all access paths, API,
# the whole register matrix, kernel config), over N runs (default 50).
#
#   bench/probe.sh [N] [-- extra probe options]
#
# Each run is timed from bash with $EPOCHREALTIME (no extra fork), so the
# figure includes exec and dynamic linking, as a user would see it.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-50}
shift || true
[ "${1:-}" = "--" ] && shift
probe=${UFFD_PROBE:-build/uffd-probe}
[ -x "$probe" ] || make -s "$probe"

# bench LABEL CMD...: print median/min/max microseconds of CMD over $runs.
bench() {
	local label=$1 i t0 t1 n med
	local -a times sorted
	shift
	"$@" >/dev/null			# warm the page cache
	for ((i = 0; i < runs; i++)); do
		t0=$EPOCHREALTIME
		"$@" >/dev/null
		t1=$EPOCHREALTIME
		times+=("$((10#${t1/./} - 10#${t0/./}))")
	done
	sorted=($(printf '%s\n' "${times[@]}" | sort -n))
	n=${#sorted[@]}
	if ((n % 2)); then
		med=${sorted[n / 2]}
	else
		med=$(((sorted[n / 2 - 1] + sorted[n / 2]) / 2))
	fi
	printf '%-28s median %d.%03d ms over %d runs (min %d.%03d, max %d.%03d)\n' \
		"$label" $((med / 1000)) $((med % 1000)) "$n" \
		$((sorted[0] / 1000)) $((sorted[0] % 1000)) \
		$((sorted[n - 1] / 1000)) $((sorted[n - 1] % 1000))
}

bench "uffd-probe $*" "$probe" "$@"
# What exec alone costs on this machine right now, for scale.
bench "baseline /bin/true" /bin/true
