# SPDX-License-Identifier: GPL-2.0
"""report.md, in the order the HTML page has: status, problems with repro
lines, the heat map as a compact table (and the profile strip), known
kernel bugs, fault-path performance (with --bench), then the details
(findings, features, probe tables, every point)."""
from __future__ import annotations

from typing import Any

from .document import Matrix, build_matrix
from .heatmap import NO_TYPE, HeatCell, HeatMap, build_heatmap
from .known_bugs import BugTable, bug_table
from .model import Run
from .perf import perf_view
from .perf_render import markdown as perf_markdown
from .triage import Problem, problems

ICON = {"pass": "✅ pass", "fail": "❌ FAIL", "skip": "⏭ skip", "xfail": "⚠ xfail",
        "xpass": "❗ XPASS", "timeout": "⏱ TIMEOUT", "error": "💥 ERROR",
        "notrun": "∅ not run", "finding": "🔎 finding"}
KIND = {"run": "💥 RUN", "kernel_log": "❌ KERNEL LOG", "notrun": "∅ NOT RUN",
        "finding": "🔎 FINDING"}
NONE_MARK = "·"
KERNEL_LINES = 12


def _md_escape(text: str | None) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ")


def _code(text: str) -> str:
    """Inline code that survives backticks in the text."""
    fence = "``" if "`" in text else "`"
    pad = " " if fence == "``" else ""
    return f"{fence}{pad}{text}{pad}{fence}"


PARTIAL_MARK = "◐"     # some points skipped, the others passed


def _mark(cell: HeatCell) -> str:
    if cell.partial:
        return PARTIAL_MARK
    return ICON[cell.status].split()[0] if cell.status else NONE_MARK


def _run_line(r: Run) -> str:
    c = r.counts()
    parts = [f"{c[s]} {s}" for s in c if c[s]]
    state = "" if r.stream_state == "complete" else f" — **{r.stream_state}**: {r.cause}"
    return (f"- **{r.label}** ({r.kernel.get('machine') or '?'}): "
            f"{', '.join(parts) or 'no points'}{state}")


def render_markdown(doc: dict[str, Any], runs: list[Run]) -> str:
    m = build_matrix(runs)
    hm = build_heatmap(runs)
    probs = problems(runs)
    out = ["# faultline compatibility report", "",
           f"Status: **{doc['status']}** (exit {doc['exit_code']}), "
           f"{len(probs)} problem{'' if len(probs) == 1 else 's'}, "
           f"generated {doc['created']} by faultline {doc['generator']['version']}.",
           ""]
    if doc.get("selection"):
        out += ["Selection: only the points matching "
                + ", ".join(f"`{g}`" for g in doc["selection"])
                + " (`--only`) were run; the others are not in this report.", ""]
    for r in runs:
        out.append(_run_line(r))
        out += [f"  - note: {_md_escape(n)}" for n in r.notes()]
        if r.info_brief():
            out.append(f"  - target: {_md_escape(r.info_brief())}")
    out.append("")
    out += (_md_problems(runs, probs) + _md_heatmap(hm, runs)
            + _md_profiles(m, hm) + _md_bugs(bug_table(runs), hm, runs)
            + perf_markdown(perf_view(runs))
            + ["## Details", ""] + _md_findings(m, hm) + _md_features(m, hm)
            + _md_probe(m, hm) + _md_cases(m) + _md_console(runs))
    return "\n".join(out) + "\n"


def _header(labels: list[str], first: str, extra: list[str]) -> list[str]:
    cols = [first] + labels + extra
    return ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]


def _md_problem(runs: list[Run], p: Problem) -> list[str]:
    label = KIND.get(p.kind) or ICON[p.status].upper()
    on = ", ".join(runs[c].label for c in p.columns)
    area = f" ({p.area})" if p.area else ""
    out = [f"- **{label}** {_code(p.title)}{area} on {on}"]
    if p.bug and p.bug.link:
        out.append(f"  - known bug {_code(p.bug.id)}: kernel lacks fix "
                   f"[{p.bug.short_fix}]({p.bug.link}) {_md_escape(p.bug.title)}")
    if p.message:
        at = f" (at {_code(p.location)})" if p.location else ""
        out.append(f"  - {_md_escape(p.message)}{at}")
    if p.during:
        out.append(f"  - running: {', '.join(_code(d) for d in p.during)}")
    if len(p.points) > 1:
        more = f" +{len(p.points) - 6}" if len(p.points) > 6 else ""
        out.append(f"  - points: {', '.join(_code(x) for x in p.points[:6])}{more}")
    out += [f"  - reproduce: {_code(cmd)}" for cmd in p.repro]
    if p.kernel_lines:
        out += ["  - kernel log:", "", "    ```"]
        out += [f"    {ln}" for ln in p.kernel_lines[:KERNEL_LINES]]
        out += ["    ```", ""]
    return out


def _md_problems(runs: list[Run], probs: list[Problem]) -> list[str]:
    out = [f"## Problems ({len(probs)})", ""]
    if not probs:
        out += ["None: every point passed, was skipped for a reason, or failed "
                "as an expectation says.", ""]
    for p in probs:
        out += _md_problem(runs, p)
    if probs and out[-1] != "":
        out.append("")
    return out


def _md_console(runs: list[Run]) -> list[str]:
    out: list[str] = []
    for r in runs:
        if r.console and r.stream_state != "complete":
            out += [f"Last console lines of {r.label}:", "", "```"] + \
                r.console[-15:] + ["```", ""]
    return out


def _legend(hm: HeatMap, runs: list[Run]) -> str:
    return "Kernels: " + "; ".join(f"{k} = {r.label}"
                                   for k, r in zip(hm.kernels, runs)) + "."


def _md_heatmap(hm: HeatMap, runs: list[Run]) -> list[str]:
    mems = [g for g in hm.groups if g != NO_TYPE]
    out = ["## Heat map", "",
           f"One mark per memory type ({' '.join(mems) or 'none'}), the worst "
           f"status of its points (`{PARTIAL_MARK}`: some skipped, the others "
           "passed); after `+`, points without a memory type "
           f"(`{NONE_MARK}`: none). Areas without memory types have one mark.",
           ""] + _header(hm.kernels, "area", [])
    typed = len(mems)
    for area, row in hm.rows.items():
        cells = []
        for col in range(len(runs)):
            marks = [_mark(grp[col]) for grp in row]
            if any(grp[col].status for grp in row[:typed]):
                text = "".join(marks[:typed])
                if len(marks) > typed and row[typed][col].status:
                    text += " + " + marks[typed]
            else:
                text = marks[-1] if len(marks) > typed else NONE_MARK
            cells.append(text)
        out.append(f"| {area} | " + " | ".join(cells) + " |")
    return out + ["", _legend(hm, runs), ""]


def _md_profiles(m: Matrix, hm: HeatMap) -> list[str]:
    rows = m.probe_tables.get("Deployment profiles")
    if not rows:
        return []
    out = ["### Deployment profiles", ""] + _header(hm.kernels, "profile", [])
    for name, cells in rows.items():
        out.append(f"| {_md_escape(name)} | "
                   + " | ".join("" if c is None else c[0] for c in cells) + " |")
    return out + [""]


def _md_bugs(t: BugTable, hm: HeatMap, runs: list[Run]) -> list[str]:
    if not t.bugs:
        return []
    out = [f"## Known kernel bugs ({len(t.bugs)})", ""] + _header(hm.kernels, "bug", ["fix"])
    notes = []
    for b in t.bugs:
        cells = t.cells[b.id]
        fix = f"[{b.short_fix}]({b.link})" if b.link else "?"
        out.append(f"| {_code(b.id)} {_md_escape(b.title)} | "
                   + " | ".join(c.state for c in cells) + f" | {fix} |")
        for c, r in zip(cells, runs):
            if c.state in ("affected, expected", "not applicable") and c.why:
                link = f" ({c.link})" if c.link else ""
                notes.append(f"- {_code(b.id)} on {r.label}: {c.state}: "
                             f"{_md_escape(c.why)}{link}")
    return out + [""] + notes + ([""] if notes else [])


def _md_findings(m: Matrix, hm: HeatMap) -> list[str]:
    if not m.finding_groups:
        return []
    out = ["### Findings", "",
           "Kernel behaviour the cases report instead of failing on; findings "
           "that differ only in a memory type, ioctl or event are one row "
           "(×N), counted per kernel:", ""] + _header(hm.kernels, "finding", [])
    for g in m.finding_groups:
        many = f" (×{len(g.texts)})" if len(g.texts) > 1 else ""
        out.append(f"| {_md_escape(g.text)}{many} | "
                   + " | ".join(str(n) if n else "" for n in g.seen) + " |")
    return out + [""]


def _md_features(m: Matrix, hm: HeatMap) -> list[str]:
    many = len(m.runs) > 1        # "first seen" needs several kernels
    out = ["### UFFDIO_API features", ""] + _header(
        hm.kernels, "feature", ["first seen"] if many else [])
    for f in m.features:
        row = m.has_feature[f]
        if not any(row) and f.startswith("unknown"):
            continue
        cells = ["?" if v is None else ("yes" if v else "—") for v in row]
        if many:
            cells.append(m.first_seen[f] or "—")
        out.append(f"| {f} | " + " | ".join(cells) + " |")
    return out + [""]


def _md_probe(m: Matrix, hm: HeatMap) -> list[str]:
    out: list[str] = []
    for title, rows in m.probe_tables.items():
        out += [f"### {title}", ""] + _header(hm.kernels, "", [])
        for row, cells in rows.items():
            txt = ["" if c is None else c[0] + (f" ({_md_escape(c[1])})"
                                               if c[1] and c[0] == "no" else "")
                   for c in cells]
            out.append(f"| {_md_escape(row)} | " + " | ".join(txt) + " |")
        out.append("")
    return out


def _md_cases(m: Matrix) -> list[str]:
    out = ["### Cases", ""]
    for area, ids in m.areas.items():
        out += [f"#### {area}", ""] + _header([r.label for r in m.runs], "case", [])
        for pid in ids:
            cells = []
            for p in m.cells[pid]:
                if p is None:
                    cells.append("")
                    continue
                why = f" — {_md_escape(p.reason)}" if p.reason else ""
                cells.append(f"{ICON[p.status]}{why}")
            out.append(f"| `{pid}` | " + " | ".join(cells) + " |")
        out.append("")
    return out
