# SPDX-License-Identifier: GPL-2.0
"""Shared fixtures for faultline's own tests: the built tree."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from runner_util import FAKE_MODES

ROOT = Path(__file__).resolve().parent.parent
BUILD = Path(os.environ.get("FAULTLINE_BUILD", ROOT / "build"))


@pytest.fixture(scope="session")
def build_dir() -> Path:
    """The build directory, built once per session (make is idempotent)."""
    subprocess.run(["make", "-s", "-C", str(ROOT), f"O={BUILD}"], check=True)
    return BUILD


@pytest.fixture(scope="session")
def cases_dir(build_dir: Path) -> Path:
    return build_dir / "cases"


@pytest.fixture(scope="session")
def runner(build_dir: Path) -> Path:
    return build_dir / "faultline-runner"


@pytest.fixture
def fakes(build_dir: Path, tmp_path: Path):
    """fakes(*modes) -> a directory of fake cases named after their mode."""
    def make(*modes: str, where: Path | None = None) -> Path:
        d = (where or tmp_path) / "cases"
        d.mkdir(parents=True, exist_ok=True)
        for m in modes:
            assert m in FAKE_MODES
            if where is None:
                (d / m).symlink_to(build_dir / "tools" / "fake_case")
            else:
                # A copy: the link target may be hidden by PID 1's mounts.
                shutil.copy2(build_dir / "tools" / "fake_case", d / m)
        return d
    return make
