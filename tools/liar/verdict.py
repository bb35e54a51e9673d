# SPDX-License-Identifier: GPL-2.0
"""What the suite did about one lie: which points it killed, on which
memory type, and whether that is what the catalogue asks for.

A point *kills* a lie when it passed in the baseline run (the liar loaded,
no lie) and fails under the lie (fail, timeout, error) in a test where the
lie actually fired (the liar says so in that test's own TAP): a point
failing where the liar changed nothing is load or a flaky point, never a
kill. A skip is never a kill. When a listed type
has no kill but some of its points could not tell (not run, or skipped for
want of huge pages while they ran in the baseline), the type is undecided
rather than missed, and the driver runs those units once more.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from catalogue import ANY, MEM_TYPES, Row

FAILED = frozenset({"fail", "timeout", "error"})
# Skip reasons that say a resource ran out (huge pages other runs hold).
STARVED_RE = re.compile(r"huge ?pages?|hugetlb pool|pool empty|no free|"
                        r"could not be reserved|unreserved", re.I)


@dataclass(frozen=True)
class Outcome:
    """One point of one unit under one lie."""
    unit: str
    point: str
    status: str
    reason: str = ""
    unit_type: str | None = None   # the memory type a split unit ran
    fired: bool = False            # the lie changed something in this point

    @property
    def mem(self) -> str:
        parts = self.point.split(".")
        if len(parts) >= 3 and parts[1] in MEM_TYPES:
            return parts[1]
        return self.unit_type or ANY


@dataclass
class Judged:
    row: Row
    kills: dict[str, list[str]] = field(default_factory=dict)
    breaks: list[str] = field(default_factory=list)
    unstable: list[str] = field(default_factory=list)
    # The lie fired in these baseline-passing points and they passed, or
    # skipped: where a stronger check would have caught it.
    survived: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    # Types with points a unit timeout left unrun: their kill lists are
    # incomplete (mutants.py --complete runs them).
    cut: set[str] = field(default_factory=set)
    missed: list[str] = field(default_factory=list)
    undecided: dict[str, str] = field(default_factory=dict)
    fired: dict[str, int] = field(default_factory=dict)  # type -> points

    @property
    def ok(self) -> bool:
        if self.row.catch:
            return not self.missed and not self.undecided
        return not self.breaks

    @property
    def status(self) -> str:
        if not self.row.catch:
            return "tolerated" if self.ok else "broken"
        if self.missed:
            return "missed"
        return "undecided" if self.undecided else "caught"

    def killed(self, mem: str) -> list[str]:
        if mem == ANY and self.row.types == (ANY,):
            return sorted({p for ps in self.kills.values() for p in ps})
        return self.kills.get(mem, [])


def unsure(o: Outcome, baseline: dict[str, str]) -> bool:
    """A point that passed in the baseline but could not tell this time:
    not run, or skipped for a resource (huge pages) rather than a reason."""
    if baseline.get(o.point) != "pass":
        return False
    return o.status == "notrun" or (
        o.status == "skip" and bool(STARVED_RE.search(o.reason)))


def _why_unsure(outs: list[Outcome], baseline: dict[str, str],
                load: set[str] | None) -> str | None:
    """Why the points of one type showed no kill, when it may be load.
    @load (after a rerun): the points that could not tell in a baseline
    run side by side with the rerun; an unsure point outside it was made
    unsure by the lie itself, which is an escape, not load."""
    could_not = [o for o in outs if unsure(o, baseline) and
                 (load is None or o.point in load)]
    if not could_not:
        return None
    notrun = sum(1 for o in could_not if o.status == "notrun")
    parts = [f"{notrun} not run"] if notrun else []
    if len(could_not) > notrun:
        parts.append(f"{len(could_not) - notrun} skipped for want of huge pages")
    return ", ".join(parts)


def judge(row: Row, outcomes: list[Outcome], baseline: dict[str, str],
          load: set[str] | None = None) -> Judged:
    """Judge one lie from its points and the baseline's statuses (see
    _why_unsure for @load)."""
    j = Judged(row=row)
    by_type: dict[str, list[Outcome]] = {}
    for o in outcomes:
        by_type.setdefault(o.mem, []).append(o)
        if o.fired:
            j.fired[o.mem] = j.fired.get(o.mem, 0) + 1
        if baseline.get(o.point) != "pass":
            continue
        if o.status == "notrun":
            j.cut.add(o.mem)
        if row.must_skip_matches(o.point) and (
                o.status != "skip" or not o.reason.strip()):
            why = "passed" if o.status == "pass" else o.status
            if o.status == "skip":
                why = "skipped without a reason"
            j.breaks.append(f"{o.point} ({why}; must skip with a reason)")
            continue
        if o.status not in FAILED:
            if o.fired and row.catch:
                (j.survived if o.status == "pass" else j.skipped).append(o.point)
            continue
        if not o.fired:
            j.unstable.append(o.point)
        elif row.catch:
            j.kills.setdefault(o.mem, []).append(o.point)
        else:
            j.breaks.append(f"{o.point} ({o.status}: {o.reason[:120]})")
    if not row.catch:
        return j
    if row.types == (ANY,):
        if not any(j.kills.values()):
            why = [f"{t}: {w}" for t, outs in by_type.items()
                   if (w := _why_unsure(outs, baseline, load))]
            if why:
                j.undecided[ANY] = "; ".join(why)
            else:
                j.missed.append(ANY)
        return j
    for t in row.types:
        if j.kills.get(t):
            continue
        why = _why_unsure(by_type.get(t, []), baseline, load)
        if why:
            j.undecided[t] = why
        else:
            j.missed.append(t)
    return j


def summary_line(results: list[Judged]) -> str:
    catch = [r for r in results if r.row.catch]
    tol = [r for r in results if not r.row.catch]
    return (f"lies: {sum(r.ok for r in catch)}/{len(catch)} caught, "
            f"{sum(r.ok for r in tol)}/{len(tol)} tolerated")
