#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Median wall time of `./run.py --list` (every point of every case binary,
# from the binaries' own -l, nothing run) over N runs (default 10): with the
# make check run.py does first, and with --no-build (the listing alone).
#
#   bench/list.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
make -s

# ms CMD...: wall time of one run of CMD in milliseconds, in $ms.
ms=0
timed() {
	local t0 t1
	t0=$EPOCHREALTIME
	"$@" >/dev/null 2>&1
	t1=$EPOCHREALTIME
	ms=$(((10#${t1/./} - 10#${t0/./}) / 1000))
}

# median LABEL VALUES...
median() {
	local label=$1 n
	local -a s
	shift
	s=($(printf '%s\n' "$@" | sort -n))
	n=${#s[@]}
	printf '%-28s median %d ms over %d runs (min %d, max %d)\n' "$label" \
		"${s[n / 2]}" "$n" "${s[0]}" "${s[n - 1]}"
}

points=$(./run.py --list --no-build 2>/dev/null | wc -l)
with_make=() no_build=()
for ((i = 0; i < runs; i++)); do
	timed ./run.py --list
	with_make+=("$ms")
	timed ./run.py --list --no-build
	no_build+=("$ms")
done
echo "$points points"
median "run.py --list" "${with_make[@]}"
median "run.py --list --no-build" "${no_build[@]}"
