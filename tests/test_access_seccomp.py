# SPDX-License-Identifier: GPL-2.0
"""A whole case binary under a seccomp filter that denies userfaultfd(2):
every point is a SKIP whose reason names seccomp, none fails."""
from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from test_access_util import run_case, world_copy


@pytest.fixture(scope="module")
def api_copy(cases_dir: Path) -> Path:
    d = world_copy([cases_dir / "api"])
    yield d / "api"
    (d / "api").unlink()
    d.rmdir()


@pytest.mark.parametrize("err", [errno.EPERM, errno.ENOSYS])
def test_case_binary_skips_naming_seccomp(api_copy: Path, err: int) -> None:
    # As nobody /dev/userfaultfd (0600) is closed too, so no path is left.
    if os.access("/dev/userfaultfd", os.R_OK | os.W_OK) and os.geteuid() != 0:
        pytest.skip("/dev/userfaultfd is open to this user")
    run = run_case(api_copy, nobody=True, seccomp_errno=err)
    assert run.returncode != 99, "could not load the seccomp filter"
    assert run.points, run.stdout
    assert not run.failed, run.stdout
    assert len(run.skipped) == len(run.points), run.stdout
    for p in run.skipped:
        assert "userfaultfd blocked by seccomp" in p.skip, p


def test_case_binary_runs_without_filter(api_copy: Path) -> None:
    """The control: the same binary, same user, no filter, runs its points."""
    run = run_case(api_copy, nobody=True)
    assert not run.failed, run.stdout
    assert len(run.skipped) < len(run.points), run.stdout
