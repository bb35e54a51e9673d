# SPDX-License-Identifier: GPL-2.0
"""Shared fixtures for faultline's own tests: the built tree."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

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
