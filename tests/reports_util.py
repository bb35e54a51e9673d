# SPDX-License-Identifier: GPL-2.0
"""Helpers shared by the reports/run.py tests."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import jsonschema

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:           # the reports package, from anywhere
    sys.path.insert(0, str(ROOT))
DATA = ROOT / "tests" / "data"
GOLDEN = DATA / "golden"
SCHEMA = json.loads((ROOT / "reports/schema/report-1.schema.json").read_text())
UPDATE_VAR = "FAULTLINE_UPDATE_GOLDEN"


def validate(doc: dict) -> None:
    """Raise if doc does not follow the report JSON Schema."""
    jsonschema.validate(doc, SCHEMA, format_checker=jsonschema.FormatChecker())


def check_golden(name: str, text: str, golden: Path | None = None) -> None:
    """Compare with tests/data/golden/<name>. FAULTLINE_UPDATE_GOLDEN=1
    rewrites a file that differs, and then the test fails: the comparison
    is always with the file as it was, never with what was just written
    (review the diff, commit, rerun without the variable)."""
    path = (golden or GOLDEN) / name
    old = path.read_text() if path.exists() else None
    if os.environ.get(UPDATE_VAR) == "1" and text != old:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        raise AssertionError(f"{name}: golden file regenerated; review the "
                             "diff and rerun without FAULTLINE_UPDATE_GOLDEN")
    assert old is not None, f"missing golden file {path}"
    assert text == old, f"{name} differs from its golden file"
