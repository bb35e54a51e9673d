# SPDX-License-Identifier: GPL-2.0
"""faultline reports: stream/TAP parsing, result model, renderers, merge, diff."""
from __future__ import annotations

from pathlib import Path


def _read_version() -> str:
    """The one version string: the top-level VERSION file of the tree (C
    binaries are built with the same file). A copy of reports/ installed
    without it still reports something honest."""
    try:
        return (Path(__file__).resolve().parent.parent / "VERSION").read_text(
            encoding="utf-8").strip()
    except OSError:
        return "unknown (no VERSION file)"


__version__ = _read_version()
REPORT_SCHEMA_VERSION = 1
