# SPDX-License-Identifier: GPL-2.0
"""The problems a report opens with, each with what a kernel developer
needs to start: kernel, area, the assertion and its file:line, the kernel
log lines near it, and the command that reproduces it.

Problems, in this order: runs that could not be completed, kernel log
alerts (`<binary>.kernel_log`), failing/timed-out/errored points, huge
page accounting findings, and points not run (one problem per binary).
The same point failing the same way on several kernels is one problem
that names every kernel.
"""
from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from .known_bugs import Bug, bug_of
from .model import Binary, Point, Run

# `cases/wp.c:132:fork_pinned_with_event:Expected ...` (kselftest's
# TH_LOG/ASSERT prefix): where and what.
LOCATION_RE = re.compile(r"^#?\s*(?P<file>[\w./+-]+\.[ch]):(?P<line>\d+):"
                         r"(?:[A-Za-z_]\w*:)?(?P<msg>.*)$")
# Findings that are the kernel's accounting going wrong, not behaviour
# the cases merely report: the huge page reservation checks (the runner's
# run-level one, reports/model.py, and each binary's, harness/mem.c).
ACCOUNTING_RE = re.compile(r"^HugePages_\w+ was ")
KERNEL_LINES = 24
# a kernel message on a VM console (printk's timestamp first)
CONSOLE_KERNEL_RE = re.compile(r"^\[\s*\d+\.\d+\] ")
# Problem kinds, in the order the report lists them.
KINDS = ("run", "kernel_log", "point", "finding", "notrun")


@dataclass
class Problem:
    kind: str
    status: str              # a point status, or "finding"
    title: str               # the point id, finding text or run state
    message: str = ""
    location: str = ""       # file:line of the assertion
    area: str = ""
    columns: list[int] = field(default_factory=list)   # run indexes
    repro: list[str] = field(default_factory=list)     # one per column
    kernel_lines: list[str] = field(default_factory=list)
    points: list[str] = field(default_factory=list)    # what it covers
    during: list[str] = field(default_factory=list)
    bug: Bug | None = None
    diagnostics: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.kind, self.status, self.title, self.message)


def split_location(text: str | None) -> tuple[str, str]:
    """('cases/wp.c:132', 'Expected ...') from a kselftest assertion line;
    ('', text) when it has no such prefix."""
    m = LOCATION_RE.match((text or "").strip())
    if not m:
        return "", (text or "").strip()
    return f"{m.group('file')}:{m.group('line')}", m.group("msg").strip()


def _location(p: Point) -> tuple[str, str]:
    where, msg = split_location(p.reason)
    if not where:
        for d in p.diagnostics:
            where = split_location(d)[0]
            if where:
                break
    return where, msg


def is_vm(run: Run) -> bool:
    return run.target != "host" or bool(run.header.get("pid1"))


def repro(run: Run, binary: str, only: str | None) -> str:
    """The command that runs `only` (a point id or glob; None: the whole
    binary, or the whole run when `binary` is empty) again."""
    if is_vm(run):
        cmd = ["./run.py", "--kernel", run.target]
        if only or binary:
            cmd += ["--only", only or f"{binary}.*"]
        return shlex.join(cmd)
    if not binary:
        return "./run.py"
    return shlex.join([f"build/cases/{binary}"] + (["-r", only] if only else []))


def _kernel_lines(run: Run, b: Binary, p: Point) -> list[str]:
    if p.id.endswith(".kernel_log"):
        return [d[len("kmsg: "):] for d in p.diagnostics if d.startswith("kmsg: ")]
    own = [k["line"] for k in b.kmsg
           if p.id in (k.get("point"), k.get("or_point"))]
    if not own and p.status == "error" and run.stream_state != "complete":
        own = console_kernel_lines(run)
    return own[:KERNEL_LINES]


def console_kernel_lines(run: Run) -> list[str]:
    """The kernel's own messages among the last console lines (a panic)."""
    return [ln for ln in run.console if CONSOLE_KERNEL_RE.match(ln)][-KERNEL_LINES:]


def _point_problem(run: Run, b: Binary, p: Point) -> Problem:
    where, msg = _location(p)
    if p.id.endswith(".kernel_log"):
        kind, only = "kernel_log", (p.during[0] if p.during else None)
        cmd = repro(run, b.name, only)
        if not is_vm(run):
            cmd += " ; dmesg | tail -n 40"
    else:
        kind = "point"
        only = p.id if p.id not in (b.name, f"{b.name}.exit") else None
        cmd = repro(run, b.name, only)
    return Problem(kind=kind, status=p.status, title=p.id, message=msg,
                   location=where, area=p.area, repro=[cmd],
                   kernel_lines=_kernel_lines(run, b, p), points=[p.id],
                   during=list(p.during), bug=bug_of(p),
                   diagnostics=p.diagnostics[-12:])


def _run_problems(run: Run) -> list[Problem]:
    out = []
    if run.stream_state != "complete":
        out.append(Problem(kind="run", status="error",
                           title=f"run {run.stream_state}",
                           message=run.cause or "", repro=[repro(run, "", None)],
                           kernel_lines=console_kernel_lines(run)))
    jobs = run.header.get("jobs")
    for f in run.findings():
        if not ACCOUNTING_RE.match(f["text"]):
            continue
        where = [w for w in f["points"] if w != "run"]
        if where:
            binary = where[0].split(".", 1)[0]
            cmd = repro(run, binary, where[0] if "." in where[0] else None)
        else:
            cmd = repro(run, "", None)
            if isinstance(jobs, int) and jobs > 1:
                cmd += " --jobs-per-kernel 1"
        out.append(Problem(kind="finding", status="finding", title=f["text"],
                           area=where[0].split(".", 1)[0] if where else "",
                           repro=[cmd], points=where))
    return out


def _notrun(run: Run, b: Binary, pts: list[Point]) -> Problem:
    return Problem(kind="notrun", status="notrun",
                   title=f"{b.name}: {len(pts)} point(s) not run",
                   message=pts[0].reason or "", area=b.name,
                   repro=[repro(run, b.name, None)], points=[p.id for p in pts])


def run_problems(run: Run) -> list[Problem]:
    """One kernel's problems, unsorted."""
    out = _run_problems(run)
    for b in run.binaries:
        out += [_point_problem(run, b, p) for p in b.points
                if p.status in ("fail", "timeout", "error")]
        skipped = [p for p in b.points if p.status == "notrun"]
        if skipped:
            out.append(_notrun(run, b, skipped))
    return out


def problems(runs: list[Run]) -> list[Problem]:
    """Every kernel's problems, the same one on several kernels merged."""
    merged: dict[tuple[str, str, str, str], Problem] = {}
    for col, run in enumerate(runs):
        for prob in run_problems(run):
            have = merged.get(prob.key)
            if have is None:
                prob.columns = [col]
                merged[prob.key] = prob
            else:
                have.columns.append(col)
                have.repro += prob.repro
    return sorted(merged.values(), key=lambda p: KINDS.index(p.kind))
