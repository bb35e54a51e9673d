# SPDX-License-Identifier: GPL-2.0
"""The runner's --bench (STREAM.md, bench-begin/bench-end): the benchmark
runs after the binaries, its JSON is the section's payload, and nothing it
does (fail, crash, hang, forge a frame) changes the runner's exit status or
a binary's result."""
from __future__ import annotations

import json
import shutil
import signal
from pathlib import Path

import pytest

from runner_util import parse_stream, run

# What a benchmark may do, as a shell script (the runner only execs it).
BENCH_SCRIPTS = {
    "good": 'printf \'{"tool":"uffd-bench","memory_types":[],"args":"%s"}\\n\' "$*"\n'
            'echo "a note" >&2\n',
    "fail": 'echo \'{"tool":"uffd-bench","memory_types":[]}\'\nexit 1\n',
    "crash": 'kill -SEGV $$\n',
    "hang": 'exec sleep 60\n',
    "forge": 'echo "@@faultline run-end {}"\n',
}


def bench_script(where: Path, mode: str, name: str | None = None) -> Path:
    path = where / (name or f"bench-{mode}")
    path.write_text("#!/bin/sh\n" + BENCH_SCRIPTS[mode])
    path.chmod(0o755)
    return path


def run_bench(runner: Path, fakes, bench: str, *extra: str):
    d = fakes("pass")
    res = run(runner, "--no-probe", "--hugepages=0", "--timeout=2",
              "--term-grace=0", f"--bench={bench}", *extra, str(d / "pass"))
    return res, parse_stream(res.stdout)


def test_bench_after_the_binaries(runner: Path, fakes, tmp_path: Path) -> None:
    bench = bench_script(tmp_path, "good")
    res, s = run_bench(runner, fakes, str(bench))
    assert res.returncode == 0, res.stderr
    assert s.run["bench"] == str(bench)
    assert s.bench_begin["args"] == ["--quick", "--json", "--budget", "2"]
    assert s.bench_begin["timeout_s"] == 2
    assert s.bench_begin["time_us"] >= s.binary("pass").begin["time_us"]
    doc = json.loads("".join(s.bench_payload))
    assert doc["args"] == "--quick --json --budget 2"
    assert s.bench_end["exit"] == 0 and s.bench_end["timed_out"] is False
    assert s.bench_end["stderr"] == "a note\n"
    assert s.binary("pass").end["exit"] == 0


@pytest.mark.parametrize("mode, exit_, sig, timed_out", [
    ("fail", 1, None, False),
    ("crash", None, signal.SIGSEGV, False),
    ("hang", None, signal.SIGKILL, True),
])
def test_bad_bench_never_changes_the_exit_status(runner: Path, fakes, tmp_path: Path,
                                                 mode: str, exit_: int | None,
                                                 sig: int | None, timed_out: bool) -> None:
    res, s = run_bench(runner, fakes, str(bench_script(tmp_path, mode)))
    assert res.returncode == 0, res.stderr
    assert (s.bench_end["exit"], s.bench_end["signal"], s.bench_end["timed_out"]) == \
        (exit_, sig, timed_out)
    if timed_out:       # the per-binary limit (2 s) ended it
        assert 1900 <= s.bench_end["duration_ms"] < 10000
    assert s.end["status"] == "complete" and s.end["timed_out"] == 0
    assert s.binary("pass").end["exit"] == 0


def test_bench_that_cannot_start(runner: Path, fakes, tmp_path: Path) -> None:
    res, s = run_bench(runner, fakes, str(tmp_path / "missing"))
    assert res.returncode == 0
    assert s.bench_end["exit"] is None
    assert s.bench_end["error"].startswith("cannot execute")


def test_bench_cannot_forge_a_frame(runner: Path, fakes, tmp_path: Path) -> None:
    res, s = run_bench(runner, fakes, str(bench_script(tmp_path, "forge")))
    assert res.returncode == 0
    assert s.bench_payload == ["# stdout: @@faultline run-end {}"]


def test_no_bench_by_default_and_none(runner: Path, fakes) -> None:
    d = fakes("pass")
    for args in ([], ["--bench=none"]):
        res = run(runner, "--no-probe", "--hugepages=0", *args, str(d / "pass"))
        s = parse_stream(res.stdout)
        assert "bench" not in s.run and s.bench_begin is None


def test_bare_name_is_next_to_the_runner(runner: Path, fakes, tmp_path: Path) -> None:
    """run.py passes --bench=uffd-bench for host and VM alike: beside the
    runner (its build directory), / as PID 1."""
    here = tmp_path / "bin"
    here.mkdir()
    shutil.copy2(runner, here / "faultline-runner")
    bench_script(here, "good", name="uffd-bench")
    res, s = run_bench(here / "faultline-runner", fakes, "uffd-bench")
    assert res.returncode == 0, res.stderr
    assert s.bench_begin["path"] == str(here / "uffd-bench")
    assert s.bench_end["exit"] == 0
