# SPDX-License-Identifier: GPL-2.0
"""Write every report file from a list of runs; the short summary."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .document import build_document, exit_code
from .model import FAILING, Run
from .render_html import render_html
from .render_json import render_json
from .render_junit import render_junit
from .render_markdown import render_markdown

FILES = ("report.json", "report.md", "report.html", "junit.xml")


def write_reports(runs: list[Run], outdir: Path) -> dict[str, Any]:
    """Write report.json/md/html and junit.xml into outdir; return the doc."""
    outdir.mkdir(parents=True, exist_ok=True)
    doc = build_document(runs)
    (outdir / "report.json").write_text(render_json(doc), encoding="utf-8")
    (outdir / "report.md").write_text(render_markdown(doc, runs), encoding="utf-8")
    (outdir / "report.html").write_text(render_html(doc, runs), encoding="utf-8")
    (outdir / "junit.xml").write_text(render_junit(runs), encoding="utf-8")
    return doc


def summary(runs: list[Run], outdir: Path | None = None) -> str:
    """A few lines for the terminal: per kernel counts, problems, verdict."""
    lines = []
    for r in runs:
        c = r.counts()
        counts = " ".join(f"{k}={v}" for k, v in c.items() if v)
        state = "" if r.stream_state == "complete" else f" [{r.stream_state}]"
        lines.append(f"{r.label}: {counts or 'no points'}{state}")
        if r.cause:
            lines.append(f"  cause: {r.cause}")
        lines += [f"  note: {n}" for n in r.notes()]
        bad = [p for p in r.points if p.status in FAILING]
        for p in bad[:15]:
            lines.append(f"  {p.status.upper():8} {p.id}: {p.reason or ''}")
        if len(bad) > 15:
            lines.append(f"  ... and {len(bad) - 15} more (see report.md)")
        for p in r.points:
            if p.status == "xpass":
                lines.append(f"  XPASS    {p.id}: {p.reason}")
    code = exit_code(runs)
    verdict = {0: "PASS", 1: "FAIL", 2: "ERROR (run could not be done)"}[code]
    where = f" - reports in {outdir}/" if outdir else ""
    lines.append(f"faultline: {verdict}{where}")
    return "\n".join(lines)
