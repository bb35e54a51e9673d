# SPDX-License-Identifier: GPL-2.0
"""Golden files: regenerating one never makes a test pass.

check_golden() compares with the file as it was; with
FAULTLINE_UPDATE_GOLDEN=1 a file that differs is rewritten and the test
fails, so a run that regenerates cannot go green by comparing a file with
itself. The audit: no other test module writes under tests/data.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from reports_util import DATA, UPDATE_VAR, check_golden

TESTS = Path(__file__).resolve().parent


def test_regenerated_golden_fails(tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a.txt").write_text("old\n")
    monkeypatch.setenv(UPDATE_VAR, "1")
    with pytest.raises(AssertionError, match="regenerated"):
        check_golden("a.txt", "new\n", golden=tmp_path)
    assert (tmp_path / "a.txt").read_text() == "new\n"
    # Regenerated and unchanged since: the comparison is with the old file.
    check_golden("a.txt", "new\n", golden=tmp_path)


def test_new_golden_fails_when_created(tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(UPDATE_VAR, "1")
    with pytest.raises(AssertionError, match="regenerated"):
        check_golden("sub/b.txt", "text\n", golden=tmp_path)
    assert (tmp_path / "sub/b.txt").read_text() == "text\n"


def test_golden_differs_without_update(tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(UPDATE_VAR, raising=False)
    (tmp_path / "c.txt").write_text("old\n")
    with pytest.raises(AssertionError, match="differs"):
        check_golden("c.txt", "new\n", golden=tmp_path)
    assert (tmp_path / "c.txt").read_text() == "old\n"
    with pytest.raises(AssertionError, match="missing"):
        check_golden("none.txt", "x\n", golden=tmp_path)


# Writing into the shared data directory: only check_golden may do that.
WRITES_DATA = re.compile(r"\b(DATA|GOLDEN)\b[^\n]*\.(write_text|write_bytes|open)\(")


def test_only_check_golden_writes_test_data() -> None:
    offenders = []
    for path in sorted(TESTS.glob("*.py")):
        if path.name == "reports_util.py":
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            sets_update = UPDATE_VAR in line and path != Path(__file__)
            if WRITES_DATA.search(line) or sets_update:
                offenders.append(f"{path.name}:{n}: {line.strip()}")
    assert not offenders, ("tests that write expected data themselves "
                           "(use check_golden):\n" + "\n".join(offenders))
    assert DATA.is_dir()
