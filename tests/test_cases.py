# SPDX-License-Identifier: GPL-2.0
"""Every case binary: passes on this kernel, well-formed TAP, no point lost.

Run as root (the normal CI setting), where every point whose needs the
probe reports must run (point_requirements.py), and once more as an
unprivileged user, where privileged points must skip naming a privilege
reason and nothing may fail.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from conftest import BUILD
from ksft import Stream, failures, listed_points, parse
from point_requirements import POOL, Probe, bad_skip, extra_need

CASE_TIMEOUT = 300
CASES = sorted(p.name for p in (BUILD / "cases").glob("*")) if (
    BUILD / "cases").is_dir() else []


def case_names() -> list[str]:
    # Collected before the session build: fall back to the sources.
    src = Path(__file__).resolve().parent.parent / "cases"
    return sorted({p.stem for p in src.glob("*.c")} | set(CASES))


def run_case(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True,
                          timeout=CASE_TIMEOUT)


@pytest.fixture(scope="session")
def probe(build_dir: Path) -> Probe:
    """What uffd-probe reports here, for this user."""
    proc = subprocess.run([str(build_dir / "uffd-probe"), "--json"],
                          capture_output=True, text=True, timeout=60)
    return Probe(json.loads(proc.stdout))


def skip_reason(directive: str) -> str:
    return directive[4:].strip()


def wrongly_skipped(binary: Path, stream: Stream, probe: Probe) -> list[str]:
    """Points that skipped although the probe reports all they need. A
    skip for want of huge pages (other runs hold the pool) is run again,
    alone, a few times before it counts."""
    bad = []
    for p in stream.points:
        why = bad_skip(probe, p.name, skip_reason(p.directive)) \
            if p.skipped else None
        tries = 0
        while why and POOL.search(why) and tries < 3:
            tries += 1
            time.sleep(3)
            again = parse(run_case([str(binary), "-r", p.name]).stdout)
            q = again.points[0] if again.points else None
            why = None if q and not q.skipped else why
        if why:
            bad.append(why)
    return bad


@pytest.mark.parametrize("name", case_names())
def test_case_passes_as_root(cases_dir: Path, probe: Probe, name: str) -> None:
    binary = cases_dir / name
    proc = run_case([str(binary)])
    stream = parse(proc.stdout)
    assert not stream.errors, "\n".join(stream.errors) + "\n" + proc.stdout[-3000:]
    expected = listed_points(binary)
    got = [p.name for p in stream.points]
    assert sorted(got) == sorted(expected), (
        f"missing {sorted(set(expected) - set(got))}, "
        f"unexpected {sorted(set(got) - set(expected))}")
    assert not failures(stream), failures(stream)
    for p in stream.points:
        if p.skipped:
            reason = skip_reason(p.directive)
            assert reason and reason != "unknown", f"{p.name}: skip without reason"
    assert proc.returncode == 0, f"exit {proc.returncode}"
    if os.geteuid() == 0:
        bad = wrongly_skipped(binary, stream, probe)
        assert not bad, "\n".join(bad)


@pytest.fixture(scope="module")
def unprivileged_cases(cases_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    if os.geteuid() != 0:
        pytest.skip("needs root to switch to the unprivileged user 'nobody'")
    if not shutil.which("setpriv"):
        pytest.skip("setpriv (util-linux) is not installed")
    # /root is not reachable by nobody: copy the binaries somewhere that is.
    dest = tmp_path_factory.mktemp("cases-nobody")
    dest.chmod(0o755)
    for b in cases_dir.iterdir():
        shutil.copy2(b, dest / b.name)
        (dest / b.name).chmod(0o755)
    return dest


# What an unprivileged skip may give as its reason: what the kernel or
# the system refused this user (privilege, capability, policy), never a
# missing feature the root run has.
PRIVILEGE = re.compile(
    r"EPERM|EACCES|CAP_SYS_|root|unprivileged|nobody|euid|privilege|"
    r"not accessible|denied|vm\.nr_hugepages|Permission denied", re.I)


def explained_unprivileged(point: str, reason: str) -> bool:
    """A privilege reason, or the one need beyond the probe the point has
    (a CPU feature, say), which no privilege would change."""
    extra = extra_need(point)
    return bool(PRIVILEGE.search(reason) or
                (extra and re.search(extra.reason, reason, re.I)))


@pytest.mark.parametrize("name", case_names())
def test_case_unprivileged_fails_nothing(unprivileged_cases: Path, name: str) -> None:
    proc = run_case(["setpriv", "--reuid=nobody", "--regid=nogroup",
                     "--clear-groups", "--", str(unprivileged_cases / name)])
    stream = parse(proc.stdout)
    assert not stream.errors, "\n".join(stream.errors) + "\n" + proc.stdout[-3000:]
    assert not failures(stream), failures(stream)
    assert len(stream.points) == len(listed_points(unprivileged_cases / name))
    # Skips are not failures: the binary's verdict is a pass.
    assert proc.returncode == 0, f"exit {proc.returncode}"
    unexplained = [f"{p.name}: {skip_reason(p.directive)}"
                   for p in stream.points if p.skipped and
                   not explained_unprivileged(p.name, skip_reason(p.directive))]
    assert not unexplained, ("unprivileged skips that name no privilege "
                             "reason:\n" + "\n".join(unexplained))
