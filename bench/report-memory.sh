#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Memory of reading a stream and rendering its reports, against how much of
# the binaries' output the reports keep (reports/payload.py caps it per
# binary), for floods of diagnostics of growing size.
#
#   bench/report-memory.sh [MiB per binary ...]   (default: 0 1 10 100)
#
# For each size: a stream of BINARIES binaries (default 1; BINARIES=17 is
# the whole suite), each printing that much diagnostics between two points,
# read and rendered (report.json/md/html, junit.xml) in a fresh python3.
# Prints the output's size, what the model kept, the peak RSS above the
# interpreter's own, its ratio to the kept output, and the report sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(0 1 10 100)
bins=${BINARIES:-1}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/faultline-bench-mem.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

printf '%8s %6s %10s %10s %12s %10s %10s\n' "MiB/bin" bins "output" "kept" \
	"rss-base" "rss/kept" "reports"
for mib in "${sizes[@]}"; do
	/usr/bin/python3 - "$tmp/s.stream" "$mib" "$bins" <<'PY'
import sys
path, mib, bins = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
line = "# " + "x" * 98 + "\n"
names = [f"b{i:02d}" for i in range(bins)]
with open(path, "w") as f:
    f.write('@@faultline stream 1\n@@faultline run {"release":"6.18.0",'
            f'"binary_names":{names!r}}}\n'.replace("'", '"'))
    for n in names:
        f.write(f'@@faultline binary-begin {{"name":"{n}"}}\n1..2\n'
                f'ok 1 {n}.anon.a\n')
        f.write(line * int(mib * 1024 * 1024 / len(line)))
        f.write(f'not ok 2 {n}.anon.b\n@@faultline binary-end {{"name":"{n}",'
                '"exit":1,"signal":null,"timed_out":false,"duration_ms":1,'
                '"kmsg_alert":false}\n')
    f.write('@@faultline run-end {"duration_ms":1,"status":"complete"}\n')
PY
	/usr/bin/python3 - "$tmp/s.stream" "$tmp/out" "$mib" "$bins" <<'PY'
import os, resource, sys
sys.path.insert(0, os.getcwd())
from reports.pipeline import publish
from reports.stream import read_stream_file
stream, out, mib, bins = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
run = read_stream_file(__import__("pathlib").Path(stream))
kept = sum(len(d) + 1 for b in run.binaries
           for d in b.diagnostics + [x for p in b.points for x in p.diagnostics])
publish([run], __import__("pathlib").Path(out))
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - base
reports = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))
M = 1024 * 1024
ratio = f"{peak / kept:10.1f}" if kept else f"{'-':>10}"
print(f"{mib:>8} {bins:>6} {os.path.getsize(stream) / M:9.1f}M {kept / M:9.2f}M "
      f"{peak / M:11.1f}M {ratio} {reports / M:9.2f}M")
PY
done
