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
UPDATE = os.environ.get("FAULTLINE_UPDATE_GOLDEN") == "1"


def validate(doc: dict) -> None:
    """Raise if doc does not follow the report JSON Schema."""
    jsonschema.validate(doc, SCHEMA, format_checker=jsonschema.FormatChecker())


def check_golden(name: str, text: str) -> None:
    """Compare with tests/data/golden/<name>; FAULTLINE_UPDATE_GOLDEN=1
    rewrites it (review the diff before committing)."""
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"missing golden file {path}"
    assert text == path.read_text(), f"{name} differs from its golden file"
