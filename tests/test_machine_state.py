# SPDX-License-Identifier: GPL-2.0
"""Machine state left as it was by runs that overlap or die: a sysctl two
processes flip at once (harness/sysctl.c: one lock and a record of the
original beside it), and the processes of a runner that is killed while
it runs binaries side by side (runner/par.c: workers stop their binaries
when the runner dies)."""
from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT
from test_access_util import SYSCTL, hold_sysctl, sysctl_value

needs_sysctl = pytest.mark.skipif(
    os.geteuid() != 0 or not SYSCTL.exists(),
    reason="needs root and vm.unprivileged_userfaultfd")
LOCK = Path("/run/faultline-sysctl-vm.unprivileged_userfaultfd.lock")


def other(value: int) -> int:
    return 0 if value else 1


def start_hold(build_dir: Path, value: int) -> subprocess.Popen[str]:
    return subprocess.Popen([str(build_dir / "tools" / "sysctl-hold"), str(SYSCTL),
                             str(value)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def line_within(stream, seconds: float) -> str:
    ready, _, _ = select.select([stream], [], [], seconds)
    return stream.readline() if ready else ""


@needs_sysctl
def test_second_holder_waits_and_restores_the_true_original(build_dir: Path) -> None:
    """The reproduction: B starting while A has the sysctl flipped took A's
    temporary value for the original and restored it last."""
    with hold_sysctl(build_dir, 0) as original:
        pass                    # repairs a dead holder's leftovers, if any
    flipped = other(original)
    with hold_sysctl(build_dir, flipped) as seen:
        assert seen == original and sysctl_value() == flipped
        b = start_hold(build_dir, flipped)
        assert b.stderr and b.stdout and b.stdin
        said = line_within(b.stderr, 10)
        assert said.startswith("# waiting for PID ") and str(LOCK) in said
        assert line_within(b.stdout, 0.5) == ""     # not before A is done
    # A restored; B now holds, with the real original
    assert b.stdout.readline() == f"held {original}\n"
    assert sysctl_value() == flipped
    b.stdin.close()
    assert b.wait(timeout=30) == 0
    assert sysctl_value() == original


@needs_sysctl
def test_overlapping_access_binaries_leave_the_sysctl_alone(build_dir: Path) -> None:
    """Two access binaries, the second started while the first holds the
    sysctl flipped (FAULTLINE_TEST_HOLD_MS) and ending after it: both pass
    and the value is back (before: the second recorded the first's 1 as
    the original and wrote it back at its exit)."""
    before = sysctl_value()
    access = str(build_dir / "cases" / "access")
    point = ["-r", "access.sysctl1_unprivileged_allowed"]
    first = subprocess.Popen([access, *point], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True,
                             env={**os.environ, "FAULTLINE_TEST_HOLD_MS": "800"})
    time.sleep(0.3)
    second = subprocess.run([access, *point], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, timeout=60,
                            env={**os.environ, "FAULTLINE_TEST_HOLD_MS": "1200"})
    out1, _ = first.communicate(timeout=60)
    for out in (out1, second.stdout):
        assert "ok 1 access.sysctl1_unprivileged_allowed" in out, out
        assert "not ok" not in out, out
    assert sysctl_value() == before


@needs_sysctl
def test_killed_holder_is_repaired_by_the_next(build_dir: Path) -> None:
    with hold_sysctl(build_dir, 0) as original:
        pass
    a = start_hold(build_dir, other(original))
    assert a.stdout and a.stdout.readline() == f"held {original}\n"
    a.kill()                    # SIGKILL: no restore of its own
    a.wait()
    assert sysctl_value() == other(original)
    assert f"original={original}" in LOCK.read_text()
    with hold_sysctl(build_dir, original) as seen:
        assert seen == original
    assert sysctl_value() == original and LOCK.read_text() == ""


def mutants_put_back(build_dir: Path, original: int) -> None:
    """What make mutants does after its units (tools/liar/mutants.py)."""
    sys.path.insert(0, str(ROOT / "tools" / "liar"))
    import mutants
    mutants._put_back(build_dir / "tools" / "sysctl-hold",
                      {str(SYSCTL): str(original)})


@needs_sysctl
def test_mutants_repairs_a_killed_units_change(build_dir: Path) -> None:
    """A unit SIGKILLed holding the sysctl: make mutants puts the recorded
    original back through the lock, and the record is cleared (before: it
    wrote the value itself and left the record behind)."""
    with hold_sysctl(build_dir, 0) as original:
        pass
    a = start_hold(build_dir, other(original))
    assert a.stdout and a.stdout.readline() == f"held {original}\n"
    a.kill()
    a.wait()
    assert sysctl_value() == other(original)
    mutants_put_back(build_dir, original)
    assert sysctl_value() == original and LOCK.read_text() == ""


@needs_sysctl
def test_mutants_leaves_a_live_holders_change(build_dir: Path, capsys) -> None:
    """Another run holds the sysctl changed when make mutants ends: its
    value stays until that run restores it (before: mutants wrote the value
    it had read at its start under the holder's feet)."""
    with hold_sysctl(build_dir, 0) as original:
        pass
    with hold_sysctl(build_dir, other(original)):
        mutants_put_back(build_dir, original)
        assert sysctl_value() == other(original)
        assert "held by another process" in capsys.readouterr().err
    assert sysctl_value() == original


def processes_under(tmp: Path) -> list[str]:
    """Command lines of live processes running something from @tmp."""
    found = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (d / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if str(tmp) in cmd and state != "Z":
            found.append(f"{d.name}: {cmd}")
    return found


def wait_gone(tmp: Path, seconds: float = 10) -> list[str]:
    end = time.monotonic() + seconds
    while (left := processes_under(tmp)) and time.monotonic() < end:
        time.sleep(0.1)
    return left


@pytest.mark.parametrize("jobs,binaries", [(2, 2), (1, 2), (2, 1)],
                         ids=["j2", "j1", "one_binary"])
def test_sigkilled_runner_leaves_no_binary_behind(runner: Path, fakes,
                                                  tmp_path: Path, jobs: int,
                                                  binaries: int) -> None:
    """Binaries that hang with children in and out of their group; the
    runner is SIGKILLed. The workers stop their binaries and reap what
    those left (before: 4 processes stayed, parented to init, at -j 2; at
    -j 1, or with one binary, the binary died by its parent-death signal
    and its 2 children stayed)."""
    d = fakes("hang")
    hang = str(d / "hang")
    proc = subprocess.Popen([str(runner), "-j", str(jobs), "--hugepages", "0",
                             "--no-probe", "--no-kmsg", *[hang] * binaries],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    running = 3 * min(jobs, binaries)       # each: main + 2 children
    deadline = time.monotonic() + 10
    while len(processes_under(tmp_path)) < running and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(processes_under(tmp_path)) >= running
    proc.kill()
    proc.wait()
    assert wait_gone(tmp_path) == []


def test_sigterm_starts_no_binary_after_it(runner: Path, tmp_path: Path) -> None:
    """-j 2 over binaries that say when they started: after SIGTERM to the
    runner nothing starts, and nothing of the run is left."""
    cases = tmp_path / "cases"
    cases.mkdir()
    for i in range(12):
        case = cases / f"t{i:02d}"
        case.write_text("#!/bin/sh\necho \"# started $(date +%s.%N)\"\n"
                        f"echo 1..1; sleep 0.3; echo 'ok 1 t{i:02d}.x'\n")
        case.chmod(0o755)
    proc = subprocess.Popen([str(runner), "-j", "2", "--hugepages", "0",
                             "--no-probe", "--no-kmsg", str(cases)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    time.sleep(1.0)
    stopped = time.time()
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 128 + signal.SIGTERM
    starts = [float(ln.split()[2]) for ln in out.splitlines()
              if ln.startswith("# started ")]
    assert 2 <= len(starts) < 12
    assert max(starts) < stopped, "a binary started after SIGTERM"
    assert '"status":"interrupted"' in out.splitlines()[-1]
    assert wait_gone(tmp_path) == []
