# SPDX-License-Identifier: GPL-2.0
"""The access, api, errno and seccomp case binaries: zero failures as root,
skips-with-reasons (never failures) as nobody, and the sysctl they touch
always back at its original value - after a clean run and after a signal."""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from test_access_util import (ACCESS_BINARIES, descendants, run_case,
                         sysctl_value, world_copy)

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


@pytest.fixture(scope="module")
def binaries(cases_dir: Path) -> dict[str, Path]:
    found = {name: cases_dir / name for name in ACCESS_BINARIES}
    missing = [n for n, p in found.items() if not p.exists()]
    assert not missing, f"not built: {missing}"
    return found


@pytest.fixture(scope="module")
def nobody_copies(binaries: dict[str, Path]) -> dict[str, Path]:
    d = world_copy(list(binaries.values()))
    yield {name: d / name for name in binaries}
    for f in d.iterdir():
        f.unlink()
    d.rmdir()


@needs_root
@pytest.mark.parametrize("name", ACCESS_BINARIES)
def test_root_zero_failures(binaries: dict[str, Path], name: str) -> None:
    before = sysctl_value()
    run = run_case(binaries[name])
    assert sysctl_value() == before, "vm.unprivileged_userfaultfd not restored"
    assert run.points, run.stdout
    assert not run.failed, run.stdout
    assert run.returncode == 0, run.stdout


@pytest.mark.parametrize("name", ACCESS_BINARIES)
def test_nobody_only_skips(nobody_copies: dict[str, Path], name: str) -> None:
    before = sysctl_value()
    run = run_case(nobody_copies[name], nobody=True)
    assert sysctl_value() == before
    assert run.points, run.stdout
    assert not run.failed, run.stdout
    for p in run.skipped:
        assert p.skip, f"{p.name}: SKIP without a reason"


# Gates root can always exercise (the device node ones need /dev/userfaultfd).
ROOT_GATES = (
    "access.sysctl0_unprivileged_denied",
    "access.sysctl0_user_mode_only_allowed",
    "access.sysctl0_cap_sys_ptrace_allowed",
    "access.sysctl0_root_without_cap_denied",
    "access.sysctl1_unprivileged_allowed",
    "access.event_fork_denied_without_ptrace",
    "access.event_fork_allowed_with_ptrace",
    "access.user_mode_only_kernel_fault_efault",
    "access.kernel_mode_fault_delivered",
    "access.scm_rights_operates_on_creator_mm",
    "access.scm_rights_after_creator_exit",
)


@needs_root
def test_access_gates_ran_as_root(binaries: dict[str, Path]) -> None:
    """As root every gate is exercised, none skipped."""
    run = run_case(binaries["access"])
    ran = {p.name for p in run.points if p.skip is None and p.ok}
    assert set(ROOT_GATES) <= ran, [(p.name, p.skip) for p in run.skipped]
    if Path("/dev/userfaultfd").exists():
        assert {"access.devnode_0600_denies_nobody",
                "access.devnode_0666_allows_nobody"} <= ran, run.stdout


@needs_root
def test_access_as_nobody_skips_root_gates(nobody_copies: dict[str, Path]) -> None:
    run = run_case(nobody_copies["access"], nobody=True)
    reasons = {p.name: p.skip for p in run.skipped}
    assert "access.sysctl0_cap_sys_ptrace_allowed" in reasons
    assert "root" in reasons["access.sysctl0_cap_sys_ptrace_allowed"]
    # What nobody can check by itself still runs.
    ran = {p.name for p in run.points if p.skip is None}
    assert "access.user_mode_only_kernel_fault_efault" in ran
    assert "access.scm_rights_operates_on_creator_mm" in ran


def _hold_and_signal(binary: Path, target: str) -> tuple[int, int]:
    """Start the sysctl=1 point holding the change for a while, signal a
    process as soon as the sysctl is seen changed (the hold is only an upper
    bound: other users of the machine see the change for milliseconds),
    return (original, value after)."""
    original = sysctl_value()
    proc = subprocess.Popen(
        [str(binary), "-r", "access.sysctl1_unprivileged_allowed"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "FAULTLINE_TEST_HOLD_MS": "1500"})
    try:
        deadline = time.monotonic() + 3
        while sysctl_value() == original and time.monotonic() < deadline:
            time.sleep(0.002)
        assert sysctl_value() != original, "the test never changed the sysctl"
        # Let the short probe child finish: the holder is then the deepest.
        time.sleep(0.1)
        kids = descendants(proc.pid)
        if target == "holder":
            # The deepest process is the test body that set the sysctl.
            os.kill(kids[-1], signal.SIGTERM)
        else:
            os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
        time.sleep(0.05)
        after = sysctl_value()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    for pid in descendants(proc.pid) if proc.poll() is None else kids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return original, after


@needs_root
@pytest.mark.parametrize("target", ["holder", "top"])
def test_sysctl_restored_after_sigterm(binaries: dict[str, Path],
                                       target: str) -> None:
    original, after = _hold_and_signal(binaries["access"], target)
    assert after == original
    assert sysctl_value() == original
