# SPDX-License-Identifier: GPL-2.0
"""The one way from streams to report files. run.py, `run.py report
render|merge` and the pytest plugin all go through here:

    runs = read_streams(paths)            # or run.py's runs, read live
    apply_expectations(runs, expectations)
    runs = <a selection, e.g. pytest -k>  # optional
    report = publish(runs, outdir, expectations)
    print(report.summary()); exit(report.exit_code)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import expectations as expect
from .document import build_document, exit_code
from .model import FAILING, Run
from .perf import summary as perf_summary
from .render_html import render_html
from .render_json import render_json
from .render_junit import render_junit
from .render_markdown import render_markdown
from .stream import read_stream_file

def read_streams(paths: list[Path]) -> list[Run]:
    """Saved stream files, in the order given."""
    return [read_stream_file(p) for p in paths]


def apply_expectations(runs: list[Run],
                       expectations: list[expect.Expectation]) -> None:
    for r in runs:
        expect.apply(r, expectations)


@dataclass
class Report:
    """What publish() wrote, and what to tell the user."""
    runs: list[Run]
    doc: dict[str, Any]
    outdir: Path
    warnings: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return int(self.doc["exit_code"])

    def summary(self) -> str:
        return "\n".join(self.warnings + [summary(self.runs, self.outdir)])


def publish(runs: list[Run], outdir: Path,
            expectations: list[expect.Expectation] | None = None,
            all_runs: list[Run] | None = None) -> Report:
    """Write report.json/md/html and junit.xml for `runs` into outdir.
    Warns about expectations that match no point of `all_runs` (the runs
    before any selection; `runs` by default)."""
    outdir.mkdir(parents=True, exist_ok=True)
    doc = build_document(runs)
    (outdir / "report.json").write_text(render_json(doc), encoding="utf-8")
    (outdir / "report.md").write_text(render_markdown(doc, runs), encoding="utf-8")
    (outdir / "report.html").write_text(render_html(doc, runs), encoding="utf-8")
    (outdir / "junit.xml").write_text(render_junit(runs), encoding="utf-8")
    warnings = [f"warning: expectation {e.id!r} ({e.source}) matches no test point"
                for e in expect.unused(all_runs if all_runs is not None else runs,
                                       expectations or [])]
    return Report(runs=runs, doc=doc, outdir=outdir, warnings=warnings)


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
        perf = perf_summary(r.bench, r.info)
        if perf:        # informational: never in the verdict below
            rel = " (relative only)" if perf["relative_only"] else ""
            lines.append(f"  bench: {perf['state']}: {perf['text']}{rel}")
    code = exit_code(runs)
    verdict = {0: "PASS", 1: "FAIL", 2: "ERROR (run could not be done)",
               4: "SKIP (no target could create a userfaultfd: nothing that "
                  "needs one ran)"}[code]
    where = f" - reports in {outdir}/" if outdir else ""
    lines.append(f"faultline: {verdict}{where}")
    return "\n".join(lines)
