# SPDX-License-Identifier: GPL-2.0
"""report.html: one self-contained file (inline CSS/JS, no external assets)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

from .document import build_matrix
from .model import FAILING, STATUSES, Run

TEMPLATES = Path(__file__).resolve().parent / "templates"


def render_html(doc: dict[str, Any], runs: list[Run]) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                             autoescape=True, trim_blocks=True,
                             lstrip_blocks=True,
                             undefined=jinja2.StrictUndefined)
    tpl = env.get_template("report.html.j2")
    problems = [(r, [p for p in r.points if p.status in FAILING
                     or p.status == "xpass"]) for r in runs]
    return tpl.render(doc=doc, runs=runs, m=build_matrix(runs),
                      statuses=STATUSES, problems=problems)
