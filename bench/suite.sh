#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Wall time of the whole conformance suite on the host kernel, the way the
# product runs it: `build/faultline-runner --no-probe build/cases`, once
# with -j 1 (one binary at a time) and once with the runner's default jobs
# (the number of online CPUs). Prints the median of RUNS runs of each, the
# per-binary times and point counts of the last -j 1 run (from the stream).
# Target: under 5 s on a 2-core machine.
#
#   bench/suite.sh [RUNS]     (default 5)
set -eu
cd "$(dirname "$0")/.."
make -s >/dev/null
runs=${1:-5}
runner=build/faultline-runner
ms() { date +%s%N | cut -c1-13; }
out=$(mktemp)
trap 'rm -f "$out" "$out.j1"' EXIT INT TERM

# bench_runner LABEL [ARGS...]: median wall ms of $runs runs -> $median
bench_runner() {
	label=$1
	shift
	totals=""
	i=0
	while [ "$i" -lt "$runs" ]; do
		start=$(ms)
		"$runner" --no-probe "$@" build/cases >"$out" 2>/dev/null || true
		totals="$totals $(( $(ms) - start ))"
		i=$((i + 1))
	done
	median=$(printf '%s\n' $totals | sort -n |
		awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
	jobs=$(sed -n 's/^@@faultline run .*"jobs":\([0-9]*\).*/\1/p' "$out")
	printf 'suite wall time, %-8s (jobs %s): median %5d ms over %d runs (runs:%s)\n' \
		"$label" "${jobs:-?}" "$median" "$runs" "$totals"
}

bench_runner "-j 1" -j 1
j1=$median
cp "$out" "$out.j1"
bench_runner "default"
jd=$median

echo "per binary (last -j 1 run, from the stream):"
awk '
/^@@faultline binary-begin / { pass = skip = fail = 0; next }
/^ok .*# SKIP/ { skip++; next }
/^ok / { pass++; next }
/^not ok / { fail++; next }
/^@@faultline binary-end / {
	match($0, /"name":"[^"]*"/); name = substr($0, RSTART + 8, RLENGTH - 9)
	match($0, /"duration_ms":[0-9]+/); d = substr($0, RSTART + 14, RLENGTH - 14)
	printf "  %-12s %5d ms  %3d pass %3d skip %3d fail\n", name, d, pass, skip, fail
	tp += pass; ts += skip; tf += fail
}
END { printf "points: %d pass, %d skip, %d fail\n", tp, ts, tf }
' "$out.j1"
echo "speed-up with the default jobs: $(awk "BEGIN {printf \"%.2f\", $j1 / ($jd ? $jd : 1)}")x"
