# SPDX-License-Identifier: GPL-2.0
"""Every case binary: passes on this kernel, well-formed TAP, no point lost.

Run as root (the normal CI setting) and once more as an unprivileged user,
where privileged points must skip with a reason and nothing may fail.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import BUILD
from ksft import failures, listed_points, parse

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


@pytest.mark.parametrize("name", case_names())
def test_case_passes_as_root(cases_dir: Path, name: str) -> None:
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
            reason = p.directive[4:].strip()
            assert reason and reason != "unknown", f"{p.name}: skip without reason"
    assert proc.returncode == 0, f"exit {proc.returncode}"


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


@pytest.mark.parametrize("name", case_names())
def test_case_unprivileged_fails_nothing(unprivileged_cases: Path, name: str) -> None:
    proc = run_case(["setpriv", "--reuid=nobody", "--regid=nogroup",
                     "--clear-groups", "--", str(unprivileged_cases / name)])
    stream = parse(proc.stdout)
    assert not stream.errors, "\n".join(stream.errors) + "\n" + proc.stdout[-3000:]
    assert not failures(stream), failures(stream)
    assert len(stream.points) == len(listed_points(unprivileged_cases / name))
