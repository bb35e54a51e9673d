# SPDX-License-Identifier: GPL-2.0
"""The kill matrix: lie x memory type -> the points that failed."""
from __future__ import annotations

import json
from pathlib import Path

from catalogue import ANY, MEM_TYPES
from verdict import Judged

COLUMNS = MEM_TYPES + (ANY,)
HEADS = ("anon", "shmem", "shm_priv", "hugetlb", "huge_priv", "any")
SHOW = 3


def _cell(j: Judged, mem: str) -> str:
    listed = mem in j.row.types
    n = len(j.kills.get(mem, []))
    if listed and mem in j.undecided:
        return "?"
    if listed and mem in j.missed:
        return "MISS"
    more = "+" if n and mem in j.cut else ""
    if listed:
        return f"{n}{more}"
    return f"({n}{more})" if n else "."


def _names(points: list[str]) -> str:
    more = f" +{len(points) - SHOW} more" if len(points) > SHOW else ""
    return ", ".join(sorted(points)[:SHOW]) + more


def _mem(point: str) -> str:
    parts = point.split(".")
    return parts[1] if len(parts) >= 3 and parts[1] in MEM_TYPES else ANY


def _details(j: Judged) -> list[str]:
    out = []
    for mem in COLUMNS:
        if j.kills.get(mem):
            out.append(f"    {mem}: {_names(j.kills[mem])}")
    for mem in j.missed:
        n = sum(j.fired.values()) if mem == ANY else j.fired.get(mem, 0)
        how = (f"the lie fired in {n} points, none failed" if n
               else "the lie never fired here")
        out.append(f"    MISSED {mem}: {how}")
        mine = [p for p in j.survived + j.skipped
                if mem == ANY or _mem(p) == mem]
        if mine:
            out.append(f"      fired in, but passed or skipped: {_names(mine)}")
    for mem, why in j.undecided.items():
        out.append(f"    UNDECIDED {mem}: {why} (load: rerun)")
    for b in j.breaks:
        out.append(f"    BROKE {b}")
    if j.unstable:
        out.append(f"    (failed before or without the lie firing: load, or "
                   f"cut by the unit timeout; not counted: {_names(j.unstable)})")
    return out


def render(results: list[Judged], baseline_failing: list[str],
           elapsed: float) -> str:
    width = max([len(j.row.lie) for j in results] + [3])
    head = f"{'lie':<{width}}  {'expect':<8} " + " ".join(
        f"{h:>9}" for h in HEADS) + "  verdict"
    lines = ["kill matrix: failing points per memory type "
             "(MISS: a listed type where none failed, ?: undecided, "
             "(n): a type not listed, n+: a unit timeout left some of its "
             "points unrun)", head, "-" * len(head)]
    for j in results:
        lines.append(f"{j.row.lie:<{width}}  {j.row.expect:<8} " + " ".join(
            f"{_cell(j, m):>9}" for m in COLUMNS) + f"  {j.status}")
    lines.append("")
    for j in results:
        if j.ok and not j.unstable:
            continue
        lines.append(f"{j.row.lie} ({j.status}):")
        lines.extend(_details(j) or ["    no point failed"])
    if baseline_failing:
        lines.append(f"baseline (liar loaded, no lie) failures, never counted: "
                     f"{_names(baseline_failing)}")
    lines.append(f"time: {elapsed:.0f} s")
    return "\n".join(lines)


def write_json(path: Path, results: list[Judged], elapsed: float) -> None:
    doc = {
        "elapsed_s": round(elapsed, 1),
        "lies": [{
            "lie": j.row.lie, "expect": j.row.expect,
            "types": list(j.row.types), "status": j.status,
            "kills": j.kills, "missed": j.missed, "undecided": j.undecided,
            "breaks": j.breaks, "unstable": j.unstable,
            "survived": j.survived, "skipped": j.skipped,
            "cut": sorted(j.cut),
            "fired": j.fired,
        } for j in results],
    }
    path.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
