# SPDX-License-Identifier: GPL-2.0
"""report.json: the document, as stable, diffable text."""
from __future__ import annotations

import json
from typing import Any


def render_json(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=1, sort_keys=True) + "\n"
