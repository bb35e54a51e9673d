# SPDX-License-Identifier: GPL-2.0
"""harness/thread.c fl_child_wait_refaulting(): the proof that a child's
write never completes, read from its page fault count instead of waiting
out a timeout (tools/child-wait)."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from reports_util import ROOT

REFAULTS_STUCK = int(re.search(r"#define FL_REFAULTS_STUCK\s+(\d+)",
                               (ROOT / "harness/thread.h").read_text()).group(1))


def child_wait(build_dir: Path, mode: str) -> str:
    res = subprocess.run([str(build_dir / "tools" / "child-wait"), mode],
                         capture_output=True, text=True, timeout=30)
    assert res.returncode == 0, res.stderr
    return res.stdout.strip()


def test_a_child_that_exits_is_reaped_with_its_status(build_dir: Path) -> None:
    assert child_wait(build_dir, "exits") == "ended 7"


def test_a_refaulting_child_is_shown_stuck_before_the_limit(build_dir: Path) -> None:
    m = re.fullmatch(r"running after (\d+) faults, (\d+) ms",
                     child_wait(build_dir, "refaults"))
    assert m, "the refaulting child was not reported as running"
    assert int(m.group(1)) >= REFAULTS_STUCK
    # Ended by its faults, not by the 10 s limit.
    assert int(m.group(2)) < 10000


def test_a_child_that_does_not_fault_is_never_called_stuck(build_dir: Path) -> None:
    """Sleeping is not refaulting: it ends on its own and is reaped."""
    assert child_wait(build_dir, "sleeps") == "ended 8"


@pytest.mark.parametrize("mode,said", [
    ("writes", "readable"),
    # Ended, or refaulting forever: what it was to write will not come.
    ("exits", "no message"), ("refaults", "no message"),
    ("sleeps", "no message")])
def test_readable_or_the_child_is_past_writing(build_dir: Path, mode: str,
                                               said: str) -> None:
    res = subprocess.run([str(build_dir / "tools" / "child-wait"),
                          "--readable", mode], capture_output=True, text=True,
                         timeout=30)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == said
