# SPDX-License-Identifier: GPL-2.0
"""Known kernel bugs (cases/bugs.c): which fixes each kernel carries.

Every point of the battery prints one tag line before its result,

    # faultline-bug {"id":..,"fix":"<sha>","title":..,"introduced":..,"cve":..,"symptom":..}

(format: cases/COVERAGE.md), which the stream keeps among the point's
diagnostics. A point's status says the rest: pass = fixed, fail/timeout =
affected, xfail = affected and expected (an expectation names the range),
skip = not applicable (the feature is absent: the skip says why),
error/notrun or no point = not run.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .model import Point, Run

TAG = "faultline-bug "
FIX_URL = "https://git.kernel.org/linus/"
AREA = "bugs"

# point status -> state in the table
STATE = {"pass": "fixed", "xpass": "fixed", "fail": "affected",
         "timeout": "affected", "xfail": "affected, expected",
         "skip": "not applicable", "error": "not run", "notrun": "not run"}
AFFECTED = frozenset({"affected", "affected, expected"})


@dataclass
class Bug:
    """One known bug, from its tag line (or only its id when the point
    never printed one)."""
    id: str
    fix: str | None = None
    title: str | None = None
    introduced: str | None = None
    cve: str | None = None
    symptom: str | None = None

    @property
    def link(self) -> str | None:
        return f"{FIX_URL}{self.fix}" if self.fix else None

    @property
    def short_fix(self) -> str:
        return (self.fix or "?")[:12]

    def describe(self) -> str:
        """`<sha12> ("<title>")`, how the kernel's own commits are cited."""
        return f'{self.short_fix} ("{self.title}")' if self.title else self.short_fix


@dataclass
class BugCell:
    """One bug on one kernel."""
    state: str
    point: Point | None = None
    why: str = ""           # skip reason, failure, expectation reason
    link: str | None = None  # the expectation's link

    @property
    def css(self) -> str:
        return {"fixed": "pass", "affected": "fail", "affected, expected": "xfail",
                "not applicable": "skip"}.get(self.state, "notrun")


@dataclass
class BugTable:
    bugs: list[Bug] = field(default_factory=list)
    cells: dict[str, list[BugCell]] = field(default_factory=dict)


def bug_tag(p: Point) -> dict[str, Any] | None:
    """The point's tag line as a dict, or None."""
    for d in p.diagnostics:
        text = d.lstrip("#").strip()
        if text.startswith(TAG):
            try:
                tag = json.loads(text[len(TAG):])
            except ValueError:
                return None
            return tag if isinstance(tag, dict) else None
    return None


def bug_of(p: Point) -> Bug | None:
    """The bug a point checks: from its tag line, else from a
    `bugs.<bug>.check` id."""
    tag = bug_tag(p)
    if tag and tag.get("id"):
        keys = ("fix", "title", "introduced", "cve", "symptom")
        return Bug(id=str(tag["id"]),
                   **{k: str(tag[k]) if tag.get(k) is not None else None for k in keys})
    if p.area == AREA and p.variant:
        return Bug(id=p.variant)
    return None


def cell(p: Point | None) -> BugCell:
    if p is None:
        return BugCell("not run", why="the battery did not run on this kernel")
    state = STATE.get(p.status, "not run")
    exp = p.expectation or {}
    why = p.reason or ""
    if p.status == "xpass":
        why = f"passes, but an expectation says affected: {exp.get('reason', '')}"
    return BugCell(state, p, why, exp.get("link") if exp else None)


def bug_table(runs: list[Run]) -> BugTable:
    """Bug x kernel, bugs in order of first appearance."""
    t = BugTable()
    found: list[dict[str, tuple[Bug, Point]]] = []
    for r in runs:
        mine: dict[str, tuple[Bug, Point]] = {}
        for p in r.points:
            bug = bug_of(p)
            if bug is not None:
                mine[bug.id] = (bug, p)
        found.append(mine)
    best: dict[str, Bug] = {}
    for mine in found:
        for bid, (bug, _) in mine.items():
            if bid not in best or (best[bid].fix is None and bug.fix):
                best[bid] = bug
    t.bugs = list(best.values())
    for bug in t.bugs:
        t.cells[bug.id] = [cell(mine[bug.id][1] if bug.id in mine else None)
                           for mine in found]
    return t
