# SPDX-License-Identifier: GPL-2.0
"""The "Fault-path performance" section of report.md (report.html has the
same from templates/perf.html.j2): per kernel, per memory type, the round
trip latencies and the ioctl throughputs beside their floors (perf.py)."""
from __future__ import annotations

from .perf import PerfRun, PerfTable

TITLE = "Fault-path performance"

LEGEND_LATENCY = ("a fault resolved by a fault thread that polls and reads "
                  "(as QEMU's postcopy does): p50 / p90 / p99, medians over the repeats "
                  "(× the touch floor's p50, spread = (max − min) / median of "
                  "p50). The touch floor: a first write to a missing page "
                  "without userfaultfd.")
LEGEND_THROUGHPUT = ("the ioctls back to back, one page per call: pages/s, "
                     "GB/s made available (× memcpy floor / × touch floor: "
                     "above 1, that many times slower; spread of pages/s). "
                     "POISON and WRITEPROTECT move no bytes: compare pages/s.")
RELATIVE = ("*relative only*: {why}; compare these figures between kernels of "
            "this report, never with numbers measured on hardware")
# What the states mean, when the benchmark did not measure normally.
STATE_WORD = {"measured": "measured", "failed": "**some measurements failed**",
              "timed_out": "**timed out**", "crashed": "**crashed**",
              "error": "**could not run**", "cut": "**cut**",
              "not_run": "not run"}


def _esc(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(t: PerfTable) -> list[str]:
    out = ["| memory type | " + " | ".join(t.columns) + " |",
           "|" + "---|" * (len(t.columns) + 1)]
    for row in t.rows:
        out.append(f"| {row.name} | "
                   + " | ".join(_esc(c.text) for c in row.cells) + " |")
    return out + [""]


def _failures(pr: PerfRun) -> list[str]:
    """Why each failed measurement failed (the cells only say FAILED)."""
    out = []
    for title, t in (("latency", pr.latency), ("throughput", pr.throughput)):
        for row in t.rows if t else []:
            for col, c in zip(t.columns, row.cells):
                if c.css == "fail":
                    out.append(f"- failed: {row.mem} {col} ({title}): {_esc(c.title)}")
    return out


def markdown(view: list[PerfRun]) -> list[str]:
    """The section's lines (none without a benchmark in the report)."""
    if not view:
        return []
    out = [f"## {TITLE}", "",
           "uffd-bench on each target after the suite (`--bench`); the figures "
           "never change a verdict.", "", f"- Round trip: {LEGEND_LATENCY}",
           f"- Throughput: {LEGEND_THROUGHPUT}",
           "- n/a (cause): not measured, as the kernel reports (e.g. "
           "`not_offered`: REGISTER does not offer the ioctl there; "
           "`coarse_clock`: the clock cannot time it).", ""]
    for pr in view:
        out += [f"### {pr.label}", ""]
        if pr.relative_why:
            out += [RELATIVE.format(why=pr.relative_why), ""]
        out.append(f"Benchmark {STATE_WORD.get(pr.state, pr.state)}: "
                   f"{_esc(pr.state_text)}." + (f" {_esc(pr.facts)}." if pr.facts else ""))
        out += [f"- note: {_esc(n)}" for n in pr.notes] + [""]
        if pr.latency and pr.throughput:
            out += ["Round trip:", ""] + _table(pr.latency)
            out += ["Throughput:", ""] + _table(pr.throughput)
            fails = _failures(pr)
            out += fails + ([""] if fails else [])
    return out
