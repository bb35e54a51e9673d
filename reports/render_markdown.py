# SPDX-License-Identifier: GPL-2.0
"""report.md: summary, feature and probe tables, findings, case matrix,
problems."""
from __future__ import annotations

from typing import Any

from .document import Matrix, build_matrix
from .model import FAILING, Run

ICON = {"pass": "✅ pass", "fail": "❌ FAIL", "skip": "⏭ skip", "xfail": "⚠ xfail",
        "xpass": "❗ XPASS", "timeout": "⏱ TIMEOUT", "error": "💥 ERROR",
        "notrun": "∅ not run"}


def _md_escape(text: str | None) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ")


def _run_line(r: Run) -> str:
    c = r.counts()
    parts = [f"{c[s]} {s}" for s in c if c[s]]
    state = "" if r.stream_state == "complete" else f" — **{r.stream_state}**: {r.cause}"
    return (f"- **{r.label}** ({r.kernel.get('machine') or '?'}): "
            f"{', '.join(parts) or 'no points'}{state}")


def render_markdown(doc: dict[str, Any], runs: list[Run]) -> str:
    m = build_matrix(runs)
    out = ["# faultline compatibility report", "",
           f"Status: **{doc['status']}** (exit {doc['exit_code']}), "
           f"generated {doc['created']} by faultline {doc['generator']['version']}.",
           ""]
    for r in runs:
        out.append(_run_line(r))
        out += [f"  - note: {_md_escape(n)}" for n in r.notes()]
        if r.info_brief():
            out.append(f"  - target: {_md_escape(r.info_brief())}")
    out.append("")
    out += (_md_features(m) + _md_probe(m) + _md_findings(m) + _md_cases(m)
            + _md_problems(runs))
    return "\n".join(out) + "\n"


def _header(m: Matrix, first: str, extra: list[str]) -> list[str]:
    cols = [first] + [r.label for r in m.runs] + extra
    return ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]


def _md_features(m: Matrix) -> list[str]:
    many = len(m.runs) > 1        # "first seen" needs several kernels
    out = ["## UFFDIO_API features", ""] + _header(
        m, "feature", ["first seen"] if many else [])
    for f in m.features:
        row = m.has_feature[f]
        if not any(row) and f.startswith("unknown"):
            continue
        cells = ["?" if v is None else ("yes" if v else "—") for v in row]
        if many:
            cells.append(m.first_seen[f] or "—")
        out.append(f"| {f} | " + " | ".join(cells) + " |")
    return out + [""]


def _md_probe(m: Matrix) -> list[str]:
    out: list[str] = []
    for title, rows in m.probe_tables.items():
        out += [f"## {title}", ""] + _header(m, "", [])
        for row, cells in rows.items():
            txt = ["" if c is None else c[0] + (f" ({_md_escape(c[1])})"
                                               if c[1] and c[0] == "no" else "")
                   for c in cells]
            out.append(f"| {_md_escape(row)} | " + " | ".join(txt) + " |")
        out.append("")
    return out


def _md_findings(m: Matrix) -> list[str]:
    if not m.findings:
        return []
    out = ["## Findings", "",
           "Kernel behaviour the cases report instead of failing on:", ""]
    for text, cols in m.findings.items():
        where = "; ".join(f"{r.label}: {', '.join(f'`{p}`' for p in pts[:4])}"
                          + (f" +{len(pts) - 4}" if len(pts) > 4 else "")
                          for r, pts in zip(m.runs, cols) if pts)
        out.append(f"- {_md_escape(text)} ({where})")
    return out + [""]


def _md_cases(m: Matrix) -> list[str]:
    out = ["## Cases", ""]
    for area, ids in m.areas.items():
        out += [f"### {area}", ""] + _header(m, "case", [])
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


def _md_problems(runs: list[Run]) -> list[str]:
    out: list[str] = []
    for r in runs:
        bad = [p for p in r.points if p.status in FAILING or p.status == "xpass"]
        if not bad and not r.cause:
            continue
        out += [f"## Problems on {r.label}", ""]
        if r.cause:
            out.append(f"- run {r.stream_state}: {_md_escape(r.cause)}")
        for p in bad:
            out.append(f"- `{p.id}`: {p.status}: {_md_escape(p.reason)}")
            out += [f"    - `{_md_escape(d)}`" for d in p.diagnostics[-8:]]
        alerts = [k["line"] for b in r.binaries for k in b.kmsg if k.get("alert")]
        out += [f"- kernel log: `{_md_escape(a)}`" for a in alerts[:20]]
        if r.console and r.stream_state != "complete":
            out += ["", "Last console lines:", "", "```"] + r.console[-15:] + ["```"]
        out.append("")
    return out
