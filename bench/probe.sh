#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Median wall time of a full default uffd-probe run (all access paths, API,
# the whole register matrix, kernel config), over N runs (default 50).
#
#   bench/probe.sh [N] [-- extra probe options]
#
# Each run is timed from bash with $EPOCHREALTIME (no extra fork), so the
# figure includes fork, exec and dynamic linking, as a user would see it.
# A /bin/true run is interleaved with every probe run: on a shared machine
# both see the same load, and the difference is the probe's own cost.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-50}
shift || true
[ "${1:-}" = "--" ] && shift
probe=${UFFD_PROBE:-build/uffd-probe}
[ -x "$probe" ] || make -s "$probe"

# usec CMD...: wall time of one run of CMD in microseconds, in $usec.
usec=0
timed() {
	local t0 t1
	t0=$EPOCHREALTIME
	"$@" >/dev/null
	t1=$EPOCHREALTIME
	usec=$((10#${t1/./} - 10#${t0/./}))
}

# stats LABEL VALUES...: median, min, max in ms.
stats() {
	local label=$1 n med
	local -a s
	shift
	s=($(printf '%s\n' "$@" | sort -n))
	n=${#s[@]}
	if ((n % 2)); then
		med=${s[n / 2]}
	else
		med=$(((s[n / 2 - 1] + s[n / 2]) / 2))
	fi
	printf '%-26s median %d.%03d ms over %d runs (min %d.%03d, max %d.%03d)\n' \
		"$label" $((med / 1000)) $((med % 1000)) "$n" \
		$((s[0] / 1000)) $((s[0] % 1000)) \
		$((s[n - 1] / 1000)) $((s[n - 1] % 1000))
}

"$probe" "$@" >/dev/null		# warm the page cache
probe_t=() base_t=()
for ((i = 0; i < runs; i++)); do
	timed /bin/true
	base_t+=("$usec")
	timed "$probe" "$@"
	probe_t+=("$usec")
done
stats "uffd-probe${*:+ $*}" "${probe_t[@]}"
stats "baseline /bin/true" "${base_t[@]}"
