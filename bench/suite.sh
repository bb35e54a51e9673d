#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Wall time of the whole conformance suite on the host kernel: every case
# binary once, in sequence, as the runner does. Prints per-binary and total
# seconds and the point counts. Target: under 5 s on a 2-core machine.
#
#   bench/suite.sh [RUNS]     (median of RUNS whole-suite runs, default 5)
set -eu
cd "$(dirname "$0")/.."
make -s >/dev/null
runs=${1:-5}
ms() { date +%s%N | cut -c1-13; }

totals=""
i=0
while [ "$i" -lt "$runs" ]; do
	start=$(ms)
	for b in build/cases/*; do
		"$b" >/dev/null 2>&1 || true
	done
	totals="$totals $(( $(ms) - start ))"
	i=$((i + 1))
done

echo "per binary (last run):"
pass=0 skip=0 fail=0
for b in build/cases/*; do
	t0=$(ms)
	out=$("$b" 2>/dev/null || true)
	t1=$(ms)
	p=$(printf '%s\n' "$out" | grep -c '^ok .*# SKIP' || true)
	o=$(printf '%s\n' "$out" | grep -c '^ok ' || true)
	f=$(printf '%s\n' "$out" | grep -c '^not ok ' || true)
	printf '  %-12s %5d ms  %3d pass %3d skip %3d fail\n' \
		"$(basename "$b")" $((t1 - t0)) $((o - p)) "$p" "$f"
	pass=$((pass + o - p)) skip=$((skip + p)) fail=$((fail + f))
done
median=$(printf '%s\n' $totals | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
echo "points: $pass pass, $skip skip, $fail fail"
echo "suite wall time: median $median ms over $runs runs (runs:$totals)"
