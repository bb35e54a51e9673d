# SPDX-License-Identifier: GPL-2.0
"""faultline-runner under faults a CI system throws at it (issue 11): a run
SIGKILLed while it holds the huge page pool (the next run gives the pages
back and says so), a run waiting for another one's pool (it says for whom
at once, and a signal ends the wait), and a reader that goes away (the
runner names that, not "could not be started").

The pool tests change vm.nr_hugepages for real: whatever happens, their
teardown gives back what a killed runner left, under the pool's lock, the
way the runner itself would.
"""
from __future__ import annotations

import os
import select
import signal
import subprocess
from pathlib import Path
from typing import Iterator

import pytest

from runner_util import (NR_HUGEPAGES, POOL_LOCK, hugetlb_writable,
                         more_than_there_are, parse_stream, pool_lock,
                         run_frame, run_pooled)

needs_pool = pytest.mark.skipif(not hugetlb_writable(),
                                reason="needs root and hugetlb")


def nr_hugepages() -> int:
    return int(NR_HUGEPAGES.read_text())


def read_record(fd: int) -> dict[str, int] | None:
    """The record a pool owner keeps in the lock file (runner/pool.c)."""
    text = os.pread(fd, 256, 0).decode()
    if not text.startswith("faultline-hugepages 1 "):
        return None
    return {k: int(v) for k, v in
            (kv.split("=") for kv in text.split()[2:])}


@pytest.fixture
def killed_runs() -> Iterator[list[int]]:
    """Pids of runners the test kills; their pools are given back after."""
    pids: list[int] = []
    yield pids
    if not pids:
        return
    with pool_lock() as fd:
        rec = read_record(fd)
        if rec is None or rec["pid"] not in pids:
            return
        now = nr_hugepages()
        back = rec["before"] if now == rec["set"] else max(now - rec["added"], 0)
        NR_HUGEPAGES.write_text(f"{back}\n")
        os.ftruncate(fd, 0)


@needs_pool
def test_killed_run_pool_is_given_back_by_the_next(runner: Path, fakes,
                                                   killed_runs: list[int]) -> None:
    d = fakes("hang", "pass")
    want = more_than_there_are()
    first = subprocess.Popen([str(runner), "--no-probe", "--timeout", "60",
                              "--hugepages", str(want), str(d / "hang")],
                             stdout=subprocess.PIPE, text=True)
    killed_runs.append(first.pid)
    assert first.stdout is not None
    leftovers: list[int] = []
    try:
        lines = []
        for ln in first.stdout:
            lines.append(ln)
            if ln.startswith("# pids: "):     # it holds the pool now
                leftovers = [int(p) for p in ln.split()[2:]]
                break
        held = run_frame(lines)["hugepages"]
        before, added = held["before"], held["reserved"]
        assert added >= 4
        with open(POOL_LOCK, "rb") as f:
            rec = read_record(f.fileno())
        assert rec == {"pid": first.pid, "before": before, "set": before + added,
                       "added": added}
        first.kill()                    # no chance to give anything back
        first.wait()
    finally:
        first.kill()
        first.wait()
        first.stdout.close()
        for pid in leftovers:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    # Other engineers' runs may take the pool meanwhile: look while no run
    # holds it, as a run would.
    with pool_lock():
        assert nr_hugepages() == before + added     # leaked: issue 11 #5

    second = run_pooled(runner, "--no-probe", "--hugepages", "1", str(d / "pass"))
    assert second.returncode == 0, second.stderr
    s = parse_stream(second.stdout)
    assert s.run["hugepages_repair"] == {"pid": first.pid, "owed": added,
                                         "found": before + added,
                                         "restored": before}
    assert s.run["nr_hugepages"] == before and s.run["hugepages"]["before"] == before
    assert (f"run PID {first.pid} ended without giving back the {added} huge "
            f"pages it added: vm.nr_hugepages {before + added} -> {before}"
            in second.stderr)
    with pool_lock() as fd:
        assert nr_hugepages() == before
        assert read_record(fd) is None      # given back once, not twice


@needs_pool
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_waiting_run_says_for_whom_and_a_signal_ends_the_wait(
        runner: Path, fakes, sig: int) -> None:
    d = fakes("pass")
    with pool_lock():
        before = nr_hugepages()
        proc = subprocess.Popen([str(runner), "--no-probe", "--hugepages", "1",
                                 str(d)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        assert proc.stderr is not None
        try:
            ready, _, _ = select.select([proc.stderr], [], [], 10)
            assert ready, "no word from a waiting runner"
            said = proc.stderr.readline()
            proc.send_signal(sig)
            out, err = proc.communicate(timeout=10)
        finally:
            proc.kill()
            proc.wait()
        assert nr_hugepages() == before     # nothing raised, nothing leaked
    assert said == (f"faultline-runner: waiting for run PID {os.getpid()} "
                    f"({POOL_LOCK}), which holds the huge page pool\n")
    assert proc.returncode == 128 + sig, err
    s = parse_stream(out)
    assert s.end["status"] == "interrupted" and s.binaries == []
    h = s.run["hugepages"]
    assert h["waited_for_pid"] == os.getpid() and h["interrupted"] == sig
    assert h["reserved"] == 0


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_reader_gone_is_named(runner: Path, fakes, jobs: str) -> None:
    d = fakes("flood", "pass")
    proc = subprocess.Popen([str(runner), "--no-probe", "--hugepages", "0",
                             "-j", jobs, str(d)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline() == "@@faultline stream 1\n"
    proc.stdout.close()                 # the reader goes away
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 1
    assert "cannot write the stream (stdout: Broken pipe): the reader went away" in err
    assert "could not be started" not in err
