# SPDX-License-Identifier: GPL-2.0
"""The heat map: rows are areas, columns memory types x kernels (and one
group for points without a memory type), each cell coloured by the worst
status of its points. Memory types and their order come from the probe
documents (probe_doc.py), never from a list here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from .document import count_text, report_memory_types
from .model import FAILING, Point, Run, worst

NO_TYPE = "-"       # the group of points whose variant is no memory type


@dataclass
class HeatCell:
    status: str = ""        # worst status, "" when the cell has no points
    text: str = ""          # counts, for the hover
    failing: int = 0
    partial: bool = False   # worst is skip, but some points passed
    href: str = ""          # the case table filtered to these points
    points: list[str] = field(default_factory=list)


@dataclass
class HeatMap:
    groups: list[str]                       # memory types, then NO_TYPE
    kernels: list[str]                      # short column labels
    rows: dict[str, list[list[HeatCell]]]   # area -> group -> kernel


def filter_hash(**params: str | int) -> str:
    """A link into the case table's filters (the HTML's script reads it)."""
    return "#" + urlencode({k: str(v) for k, v in params.items() if v != ""})


def short_labels(runs: list[Run]) -> list[str]:
    """Narrow column labels: the release's X.Y; the whole release where two
    kernels share an X.Y; the full label where that is not enough either
    (a kernel merged twice keeps its column tag)."""
    def x_y(r: Run) -> str:
        if not r.kernel.get("release"):
            return r.target
        short = ".".join(r.release.split("-")[0].split(".")[:2])
        return f"{short} {r.column}" if r.column else short

    def release(r: Run) -> str:
        if not r.kernel.get("release"):
            return r.label
        return f"{r.release} {r.column}" if r.column else r.release

    labels = [x_y(r) for r in runs]
    for widen in (release, lambda r: r.label):
        labels = [widen(r) if labels.count(lab) > 1 else lab
                  for r, lab in zip(runs, labels)]
    return labels


def group_of(p: Point, mems: list[str]) -> str:
    return p.variant if p.variant in mems else NO_TYPE


def build_heatmap(runs: list[Run]) -> HeatMap:
    mems = report_memory_types(runs)
    cells: dict[str, dict[str, list[list[Point]]]] = {}
    for col, r in enumerate(runs):
        for p in r.points:
            row = cells.setdefault(p.area, {})
            row.setdefault(group_of(p, mems), [[] for _ in runs])[col].append(p)
    used = {g for row in cells.values() for g in row}
    groups = [g for g in mems + [NO_TYPE] if g in used]
    labels = short_labels(runs)
    hm = HeatMap(groups=groups, kernels=labels, rows={})
    for area, row in cells.items():
        hm.rows[area] = []
        for g in groups:
            per_kernel = []
            for col, pts in enumerate(row.get(g) or [[] for _ in runs]):
                kind = "no memory type" if g == NO_TYPE else g
                status = worst(p.status for p in pts)
                per_kernel.append(HeatCell(
                    status=status,
                    partial=status == "skip" and any(p.status == "pass" for p in pts),
                    text=(f"{area} · {kind} · {runs[col].label}: "
                          f"{count_text(pts) or 'no points'}"),
                    failing=sum(p.status in FAILING for p in pts),
                    href=filter_hash(area=area, mem=g, k=col) if pts else "",
                    points=[p.id for p in pts]))
            hm.rows[area].append(per_kernel)
    return hm
