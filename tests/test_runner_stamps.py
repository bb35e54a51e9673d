# SPDX-License-Identifier: GPL-2.0
"""The runner's time stamps (STREAM.md): `time_us` in binary-begin and an
`at` frame before the lines of each read, on CLOCK_MONOTONIC in µs."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from runner_util import Binary, parse_stream, run

GAP_S = 0.3
# A case that writes with pauses: a line, a line cut in two by a pause,
# a stderr line after another pause.
SCRIPT = f"""#!/bin/sh
echo 'TAP version 13'
echo '1..2'
sleep {GAP_S}
printf 'ok 1 '
sleep {GAP_S}
echo 'first'
sleep {GAP_S}
echo '# on stderr' >&2
echo 'ok 2 second'
"""


def mono_us() -> int:
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000


def stamp_before(b: Binary, line: str) -> int:
    """time_us of the last `at` frame before @line."""
    i = b.payload.index(line)
    return [t for at, t in b.stamps if at <= i][-1]


@pytest.mark.parametrize("jobs", [1, 2])
def test_reads_are_stamped(runner: Path, tmp_path: Path, jobs: int) -> None:
    d = tmp_path / "cases"
    d.mkdir()
    for name in ("a_paced", "b_paced"):
        (d / name).write_text(SCRIPT)
        (d / name).chmod(0o755)
    before = mono_us()
    r = run(runner, "--no-probe", "--hugepages", "0", "-j", str(jobs), str(d))
    after = mono_us()
    assert r.returncode == 0, r.stderr
    s = parse_stream(r.stdout)
    for b in s.binaries:
        begin = b.begin["time_us"]
        assert before <= begin <= after
        times = [t for _, t in b.stamps]
        assert times == sorted(times) and begin <= times[0] <= after
        # Every payload line comes after a stamp; no stamp without a line.
        assert b.stamps[0][0] == 0
        assert len({at for at, _ in b.stamps}) == len(b.stamps)
        assert all(at < len(b.payload) for at, _ in b.stamps)
        gap = GAP_S * 1e6 * 0.9
        plan = stamp_before(b, "1..2")
        # A line is stamped with the read that completed it.
        first = stamp_before(b, "ok 1 first")
        assert first - plan >= 2 * gap
        assert stamp_before(b, "# on stderr") - first >= gap
        assert stamp_before(b, "ok 2 second") - first >= gap


def test_probe_is_not_stamped(runner: Path, build_dir: Path, fakes) -> None:
    """The probe's JSON stays one document: no frames inside it."""
    probe = build_dir / "uffd-probe"
    r = run(runner, "--hugepages", "0", "--probe", str(probe), str(fakes("pass")))
    s = parse_stream(r.stdout)
    assert s.probe_payload and not any(ln.startswith("@@") for ln in s.probe_payload)
    assert s.binaries[0].stamps
