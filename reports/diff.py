# SPDX-License-Identifier: GPL-2.0
"""Compare two reports: regressions (exit 1) and improvements.

A known kernel bug (known_bugs.py) that was fixed and is back is a "fix
lost"; a new point that fails (e.g. `<binary>.kernel_log`) is a regression.
With --bench on both sides, benchmark figures that moved more than their
measured spread are "performance changes" (perf_diff.py), never regressions.

Runs are paired by kernel release and target; a report with exactly one run
on each side is paired regardless (the usual "before/after" CI case).
A run restricted with --only (its `selection`) is compared on the points it
chose: the others are one note, never "case gone" or "new case".
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from .known_bugs import AFFECTED, STATE, bug_of
from .perf_diff import perf_changes
from .model import FAILING, Point, Run
from .probe_doc import features_summary
from .selection import selection_of

GOOD = frozenset({"pass", "xfail", "xpass", "skip"})


@dataclass
class Diff:
    regressions: list[str] = field(default_factory=list)
    fixes: list[str] = field(default_factory=list)
    new: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # the benchmark's figures that moved more than their spread
    # (perf_diff.py): never a regression
    performance: list[str] = field(default_factory=list)

    def text(self) -> str:
        out: list[str] = []
        for title, items in (("Regressions", self.regressions),
                             ("Fixes", self.fixes), ("New", self.new),
                             ("Notes", self.notes),
                             ("Performance changes", self.performance)):
            if items:
                out.append(f"{title} ({len(items)}):")
                out += [f"  {i}" for i in items]
        if not self.regressions:
            out.append("No regressions.")
        return "\n".join(out) + "\n"


def _pair(old: list[Run], new: list[Run]) -> list[tuple[Run, Run]]:
    if len(old) == 1 and len(new) == 1:
        return [(old[0], new[0])]
    key = {(r.target, r.release): r for r in old}
    by_target = {r.target: r for r in old}
    pairs = []
    for r in new:
        o = key.get((r.target, r.release)) or by_target.get(r.target)
        if o is not None:
            pairs.append((o, r))
    return pairs


def _set_diff(d: Diff, where: str, what: str, old: list[str], new: list[str],
              lost_is_regression: bool = True) -> None:
    for x in sorted(set(old) - set(new)):
        (d.regressions if lost_is_regression else d.notes).append(
            f"{where}: {what} lost: {x}")
    for x in sorted(set(new) - set(old)):
        d.new.append(f"{where}: new {what}: {x}")


def diff_runs(old: list[Run], new: list[Run]) -> Diff:
    d = Diff()
    pairs = _pair(old, new)
    if not pairs:
        d.notes.append("no kernel in the new report matches one in the old report")
    paired = {id(o) for o, _ in pairs}
    for o in old:
        if id(o) not in paired:
            d.regressions.append(f"{o.label}: kernel missing from the new report")
    for o, n in pairs:
        where = n.label if o.label == n.label else f"{o.label} -> {n.label}"
        fo, fn = features_summary(o.probe), features_summary(n.probe)
        if o.probe is not None and n.probe is not None:
            _set_diff(d, where, "feature", fo["feature_names"], fn["feature_names"])
            _set_diff(d, where, "ioctl", fo["ioctl_names"], fn["ioctl_names"])
            oi = [f"{m}:{x}" for m, xs in fo["range_ioctls"].items() for x in xs]
            ni = [f"{m}:{x}" for m, xs in fn["range_ioctls"].items() for x in xs]
            _set_diff(d, where, "ioctl", oi, ni)
            om = [f"{m}:{x}" for m, xs in fo["register_modes"].items() for x in xs]
            nm = [f"{m}:{x}" for m, xs in fn["register_modes"].items() for x in xs]
            _set_diff(d, where, "register mode", om, nm)
        elif o.probe is not None:
            d.regressions.append(f"{where}: probe result missing in the new run")
        if o.stream_state == "complete" and n.stream_state != "complete":
            d.regressions.append(f"{where}: run {n.stream_state}: {n.cause}")
        _diff_points(d, where, o, n)
        d.performance += perf_changes(where, o.bench, n.bench, o.info, n.info)
    return d


def _fix_lost(d: Diff, where: str, q: Point, p: Point) -> bool:
    """A known bug fixed in the old run and back in the new one (also
    when an expectation covers it: the newer kernel lost a fix)."""
    bug = bug_of(p) or bug_of(q)
    old, new = STATE.get(q.status), STATE.get(p.status)
    if bug is None or old == new:
        return False
    if old == "fixed" and new in AFFECTED:
        d.regressions.append(f"{where}: fix lost: {bug.id}: kernel lacks fix "
                             f"{bug.describe()} ({q.status} -> {p.status})")
        return True
    if old in AFFECTED and new == "fixed":
        d.fixes.append(f"{where}: fix gained: {bug.id}: {bug.describe()} "
                       f"({q.status} -> {p.status})")
        return True
    return False


def _unchosen(globs: list[str] | None, pid: str) -> bool:
    """The run was restricted with --only (@globs, its selection) and they
    do not choose @pid (the runner's fnmatch(3), no flags)."""
    return globs is not None and not any(fnmatchcase(pid, g) for g in globs)


def _diff_points(d: Diff, where: str, o: Run, n: Run) -> None:
    old = {p.id: p for p in o.points}
    sel_old, sel_new = selection_of([o]), selection_of([n])
    unchosen = 0
    for p in n.points:
        q = old.get(p.id)
        if q is None:
            # a new point that fails (a kernel_log point above all) is a
            # regression of this kernel; one not run comes with the run's
            # own regression (cut, incomplete)
            bad = p.status in FAILING and p.status != "notrun"
            if not bad and _unchosen(sel_old, p.id):
                unchosen += 1
                continue
            (d.regressions if bad else d.new).append(
                f"{where}: new case {p.id}: {p.status}"
                + (f": {p.reason}" if bad and p.reason else ""))
        elif _fix_lost(d, where, q, p):
            continue
        elif q.status in GOOD and p.status in FAILING:
            d.regressions.append(f"{where}: {p.id}: {q.status} -> {p.status}"
                                 f"{': ' + p.reason if p.reason else ''}")
        elif q.status in FAILING and p.status == "pass":
            d.fixes.append(f"{where}: {p.id}: {q.status} -> pass")
        elif q.status == "pass" and p.status == "skip":
            d.notes.append(f"{where}: {p.id}: pass -> skip: {p.reason}")
        elif q.status == "xfail" and p.status == "xpass":
            d.fixes.append(f"{where}: {p.id}: xfail -> xpass "
                           "(known problem fixed? update the expectation)")
    now = {p.id for p in n.points}
    for pid, q in old.items():
        if pid in now:
            continue
        if _unchosen(sel_new, pid):
            unchosen += 1
            continue
        # A point that passed and is no longer reported is coverage lost.
        (d.regressions if q.status in ("pass", "xpass") else d.notes).append(
            f"{where}: case gone: {pid} (was {q.status})")
    if unchosen:
        sides = [f"{side} --only {' '.join(sel)}"
                 for side, sel in (("old", sel_old), ("new", sel_new)) if sel]
        d.notes.append(f"{where}: {unchosen} points not compared: ran on one "
                       f"side only, not chosen on the other ({'; '.join(sides)})")
