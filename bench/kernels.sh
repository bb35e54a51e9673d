#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Wall time of the kernel matrix with a warm cache: the host plus four
# Debian kernels (5.10, 6.1, 6.12, 7.x) booted under QEMU, the whole suite
# in each. Target: under 2 minutes on a 2-core machine.
#
#   bench/kernels.sh [-j N]
#
# Measured here (2 cores, TCG: KVM exists but cannot run a Linux guest on
# this nested host), QEMU 10.0 from bookworm-backports, warm cache:
#   run.py --kernel host + 4 Debian kernels, -j2, reports included: 57-73 s
#   python3 -m kernels, the 4 Debian kernels alone, -j2:            54-57 s
#   cold download of the 4 kernels (apt update, packages, vmlinux):  22 s
#   boot to /init: 5.10 1.0-1.5 s, 6.1 1.3-1.9 s, 6.12 1.5-2.1 s, 7.2 1.6-2.3 s
#
# Uses ./run.py when it takes --kernel (the full command, reports included);
# otherwise times the kernels part alone (python3 -m kernels). Kernels missing
# from the cache are downloaded first (untimed); COLD=1 also times a download
# into an empty scratch cache.
set -eu
cd "$(dirname "$0")/.."
jobs=${1:-}
[ "$jobs" = -j ] && jobs=$2
jobs=${jobs:-$(nproc)}
PY=/usr/bin/python3
kernels="debian:bullseye debian:bookworm debian:trixie debian:sid"

scripts/deps.sh build vm test
make -s >/dev/null
make -s STATIC=1 O=build-static >/dev/null

ms() { date +%s%N | cut -c1-13; }
secs() { echo "$1" | awk '{ printf "%.1f", $1 / 1000 }'; }

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# Cold download, into a scratch cache, when asked (COLD=1): apt update of
# each suite, the packages, vmlinux extraction.
if [ "${COLD:-0}" = 1 ]; then
	t0=$(ms)
	$PY -m kernels --fetch-only --cache "$out/cold" $kernels
	echo "cold download of 4 kernels: $(secs $(( $(ms) - t0 ))) s"
fi
# Warm the real cache (downloads only what is missing).
$PY -m kernels --fetch-only $kernels

if [ -x run.py ] && ./run.py --help 2>/dev/null | grep -q -- --kernel; then
	args="--kernel host"
	for k in $kernels; do args="$args --kernel $k"; done
	t0=$(ms)
	./run.py $args -j "$jobs" --output "$out/run" >"$out/run.txt" 2>&1 || true
	echo "./run.py $args -j $jobs: $(secs $(( $(ms) - t0 ))) s (warm cache)"
	grep -E ': done \(|: (never|kernel panic|timeout|run cut)' "$out/run.txt" || true
	grep -E '^[^ ].*(pass|fail)=' "$out/run.txt" || true
else
	t0=$(ms)
	$PY -m kernels -j "$jobs" --static build-static --out "$out/k" $kernels >"$out/k.txt" 2>&1 || true
	echo "python3 -m kernels -j $jobs $kernels: $(secs $(( $(ms) - t0 ))) s (warm cache)"
	grep -v '^  ' "$out/k.txt"
fi
