# SPDX-License-Identifier: GPL-2.0
"""report.html: one self-contained file (inline CSS/JS, no external assets),
triage first: status, problems with repro lines, the heat map and profile
strip, known kernel bugs, findings, fault-path performance, then every point (reports/README.md
describes the page)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

from .document import build_matrix, report_memory_types
from .heatmap import NO_TYPE, build_heatmap, filter_hash, group_of
from .known_bugs import bug_table
from .model import STATUSES, Run
from .perf import perf_view
from . import perf_render
from .triage import problems

TEMPLATES = Path(__file__).resolve().parent / "templates"
KIND_LABEL = {"run": "run", "kernel_log": "kernel log", "finding": "finding",
              "notrun": "not run"}


def render_html(doc: dict[str, Any], runs: list[Run]) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                             autoescape=True, trim_blocks=True,
                             lstrip_blocks=True,
                             undefined=jinja2.StrictUndefined)
    tpl = env.get_template("report.html.j2")
    m = build_matrix(runs)
    mems = report_memory_types(runs)
    mem_of = {p.id: group_of(p, mems) for r in runs for p in r.points}
    return tpl.render(doc=doc, runs=runs, m=m, hm=build_heatmap(runs),
                      statuses=STATUSES, problems=problems(runs),
                      bugs=bug_table(runs), mem_of=mem_of, no_type=NO_TYPE,
                      profiles=m.probe_tables.get("Deployment profiles", {}),
                      kind_label=KIND_LABEL, filter_hash=filter_hash,
                      perf=perf_view(runs), perf_title=perf_render.TITLE,
                      legend_latency=perf_render.LEGEND_LATENCY,
                      legend_throughput=perf_render.LEGEND_THROUGHPUT)
