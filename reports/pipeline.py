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
from .writer import OutputError, write_result

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
    # report files the system refused (a full disk): the others were written
    write_errors: list[OutputError] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """The verdict; 2 when a report file could not be written."""
        return 2 if self.write_errors else int(self.doc["exit_code"])

    def summary(self) -> str:
        lost = [f"error: {e}" for e in self.write_errors]
        return "\n".join(self.warnings + lost + [
            summary(self.runs, self.outdir, self.exit_code,
                    "report files could not be written" if lost else None)])


def publish(runs: list[Run], outdir: Path,
            expectations: list[expect.Expectation] | None = None,
            all_runs: list[Run] | None = None) -> Report:
    """Write report.json/md/html and junit.xml for `runs` into outdir.
    Warns about expectations that match no point of `all_runs` (the runs
    before any selection; `runs` by default). A file the system refuses
    (reports/writer.py) does not stop the others: Report.write_errors."""
    doc = build_document(runs)
    files = (("report.json", lambda: render_json(doc)),
             ("junit.xml", lambda: render_junit(runs)),
             ("report.md", lambda: render_markdown(doc, runs)),
             ("report.html", lambda: render_html(doc, runs)))
    errors = []
    for name, render in files:
        try:
            write_result(outdir / name, render())
        except OutputError as e:
            errors.append(e)
    warnings = [f"warning: expectation {e.id!r} ({e.source}) matches no test point"
                for e in expect.unused(all_runs if all_runs is not None else runs,
                                       expectations or [])]
    return Report(runs=runs, doc=doc, outdir=outdir, warnings=warnings,
                  write_errors=errors)


def summary(runs: list[Run], outdir: Path | None = None, code: int | None = None,
            why: str | None = None) -> str:
    """A few lines for the terminal: per kernel counts, problems, verdict
    (@code, with @why, when not the runs' own)."""
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
    code = exit_code(runs) if code is None else code
    verdict = {0: "PASS", 1: "FAIL",
               2: f"ERROR ({why or 'run could not be done'})",
               4: "SKIP (no target could create a userfaultfd: nothing that "
                  "needs one ran)"}[code]
    where = f" - reports in {outdir}/" if outdir else ""
    lines.append(f"faultline: {verdict}{where}")
    return "\n".join(lines)
