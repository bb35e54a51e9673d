#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Wall time of the kernel matrix with a warm cache, the whole suite in each
# kernel, and the boot and run times of every kernel by architecture.
#
#   bench/kernels.sh [-j N] [amd64|cross]
#
# amd64 (default): the host plus four Debian kernels (5.10, 6.1, 6.12, 7.x)
# booted under QEMU. Target: 40 s on a 2-core machine (issue 16).
# cross: the same plus three arm64 (bookworm 6.1, trixie 6.12, sid 7.x,
# cloud-arm64) and two riscv64 (trixie, sid) kernels: ten columns in one
# command, their static binaries cross-built. Target: under 5 minutes.
#
# Measured here (2 cores, TCG: KVM exists but cannot run a Linux guest on
# this nested host), QEMU 10.0 from bookworm-backports, warm cache:
#   run.py --kernel host + 4 Debian kernels, -j2, reports included: 28.7-31 s
#   (load 1.5-2.9; 52-57 s before issue 16's work, bench/README.md)
# Older figures (before issue 16):
#   python3 -m kernels, the 4 Debian kernels alone, -j2:            54-57 s
#   cold download of the 4 kernels (apt update, packages, vmlinux):  22 s
#   boot to /init: 5.10 1.0-1.5 s, 6.1 1.3-1.9 s, 6.12 1.5-2.1 s, 7.2 1.6-2.3 s
# cross, run.py with ten columns, -j2, reports included: 110 s after
# issue 16's work (load 0.3-1.7; per kernel 9.5-19 s, boot 1.1-2.1 s);
# before it, while other jobs kept the 2 cores busy (load average 3-13):
# 249 s, 288 s, 305 s, 340 s, and 279 s at load 2.5-7.9.
# One kernel alone (whole suite, boot to /init): amd64 6.12 24 s (2.3 s);
# arm64 6.1 26 s (2.2 s), 6.12 30 s (3.0 s), 7.2 30 s (2.2 s); riscv64 6.12
# 23 s (2.8 s), 7.2 30 s (3.5 s): about 250 s of VM time for the nine, so
# ~2.5 minutes on an idle machine.
#
# Uses ./run.py when it takes --kernel (the full command, reports included);
# otherwise times the kernels part alone (python3 -m kernels). Kernels missing
# from the cache are downloaded first (untimed); COLD=1 also times a download
# into an empty scratch cache.
set -eu
cd "$(dirname "$0")/.."
jobs=
matrix=amd64
while [ $# -gt 0 ]; do
	case $1 in
	-j) jobs=$2; shift 2 ;;
	-j*) jobs=${1#-j}; shift ;;
	amd64|cross) matrix=$1; shift ;;
	*) echo "usage: bench/kernels.sh [-j N] [amd64|cross]" >&2; exit 2 ;;
	esac
done
jobs=${jobs:-$(nproc)}
PY=/usr/bin/python3
kernels="debian:bullseye debian:bookworm debian:trixie debian:sid"
arches=""
if [ "$matrix" = cross ]; then
	kernels="$kernels debian:bookworm:cloud-arm64 debian:trixie:cloud-arm64"
	kernels="$kernels debian:sid:cloud-arm64 debian:trixie:riscv64 debian:sid:riscv64"
	arches="arm64 riscv64"
fi
n=$(echo $kernels | wc -w)

scripts/deps.sh build vm test $arches
make -s >/dev/null
make -s STATIC=1 O=build-static >/dev/null
for a in $arches; do
	make -s ARCH=$a STATIC=1 O=build-static-$a >/dev/null
done

ms() { date +%s%N | cut -c1-13; }
secs() { echo "$1" | awk '{ printf "%.1f", $1 / 1000 }'; }

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# Cold download, into a scratch cache, when asked (COLD=1): apt update of
# each suite, the packages, vmlinux extraction.
if [ "${COLD:-0}" = 1 ]; then
	t0=$(ms)
	$PY -m kernels --fetch-only --cache "$out/cold" $kernels
	echo "cold download of $n kernels: $(secs $(( $(ms) - t0 ))) s"
fi
# Warm the real cache (downloads only what is missing).
$PY -m kernels --fetch-only $kernels

# Boot and run seconds per kernel, grouped by architecture, from the
# saved <target>.meta.json (run.py) or kernels.json (python3 -m kernels).
per_arch() {
	$PY - "$1" <<'EOF'
import json, sys
from pathlib import Path
d = Path(sys.argv[1])
infos = [json.loads(f.read_text()).get("info") or {} for f in sorted(d.glob("*.meta.json"))]
if (d / "kernels.json").is_file():
    infos = [k["info"] for k in json.loads((d / "kernels.json").read_text())]
by: dict[str, list[dict]] = {}
for i in infos:
    if i.get("arch"):
        by.setdefault(i["arch"], []).append(i)
for arch, ks in by.items():
    boots = [k["boot_seconds"] for k in ks if k.get("boot_seconds") is not None]
    runs = [k["seconds"] for k in ks if k.get("seconds") is not None]
    each = ", ".join("%s %s s" % (k.get("release"), k.get("seconds")) for k in ks)
    print(f"{arch}: {len(ks)} kernel(s), boot to /init "
          f"{min(boots, default=0):.1f}-{max(boots, default=0):.1f} s, whole run "
          f"{min(runs, default=0):.1f}-{max(runs, default=0):.1f} s ({each})")
EOF
}

if [ -x run.py ] && ./run.py --help 2>/dev/null | grep -q -- --kernel; then
	args="--kernel host"
	for k in $kernels; do args="$args --kernel $k"; done
	t0=$(ms)
	./run.py $args -j "$jobs" --output "$out/run" >"$out/run.txt" 2>&1 || true
	echo "./run.py $args -j $jobs: $(secs $(( $(ms) - t0 ))) s (warm cache, $((n + 1)) columns)"
	grep -E ': done \(|: (never|kernel panic|timeout|run cut)' "$out/run.txt" || true
	grep -E '^[^ ].*(pass|fail)=' "$out/run.txt" || true
	per_arch "$out/run"
else
	t0=$(ms)
	$PY -m kernels -j "$jobs" --static build-static --out "$out/k" $kernels >"$out/k.txt" 2>&1 || true
	echo "python3 -m kernels -j $jobs $kernels: $(secs $(( $(ms) - t0 ))) s (warm cache)"
	grep -v '^  ' "$out/k.txt"
	per_arch "$out/k"
fi
