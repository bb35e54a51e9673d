# SPDX-License-Identifier: GPL-2.0
"""Run a kselftest-harness case binary and check its TAP stream.

Used by the project's own tests. The full report parser lives in reports/;
this module only answers "is this stream well-formed and complete, and which
points failed", strictly, so `make check` catches a broken case binary.
"""
from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

RESULT = re.compile(r"^(ok|not ok) (\d+)(?: (?P<desc>[^#]*?))?\s*(?:# (?P<dir>.*))?$")
PLAN = re.compile(r"^1\.\.(\d+)$")
RUN = re.compile(r"^#\s+RUN\s+(\S+) \.\.\.$")


@dataclass
class Point:
    number: int
    name: str
    ok: bool
    directive: str
    diagnostics: list[str] = field(default_factory=list)

    @property
    def skipped(self) -> bool:
        return self.directive.upper().startswith("SKIP")


@dataclass
class Stream:
    points: list[Point]
    plan: int | None
    errors: list[str]


def parse(text: str) -> Stream:
    """Parse kselftest TAP strictly; structural problems go to .errors."""
    points: list[Point] = []
    errors: list[str] = []
    plan: int | None = None
    current: str | None = None
    diag: list[str] = []
    lines = text.splitlines()
    if not lines or lines[0] != "TAP version 13":
        errors.append("stream does not start with 'TAP version 13'")
    for line in lines[1:]:
        m = PLAN.match(line)
        if m:
            if plan is not None:
                errors.append("more than one plan line")
            plan = int(m.group(1))
            continue
        m = RUN.match(line)
        if m:
            current, diag = m.group(1), []
            continue
        m = RESULT.match(line)
        if m:
            # The 6.1 harness omits the name on SKIP lines: use the RUN line.
            name = (m.group("desc") or "").strip() or current or ""
            points.append(Point(int(m.group(2)), name, m.group(1) == "ok",
                                (m.group("dir") or "").strip(), diag))
            current, diag = None, []
            continue
        if line.startswith("#"):
            diag.append(line)
            continue
        if line.strip():
            errors.append(f"not a TAP line: {line!r}")
    if plan is None:
        errors.append("no plan line")
    elif plan != len(points):
        errors.append(f"plan says {plan} points, stream has {len(points)}")
    for i, p in enumerate(points, 1):
        if p.number != i:
            errors.append(f"point {p.name} numbered {p.number}, expected {i}")
            break
        if not p.name:
            errors.append(f"point {i} has no name")
    return Stream(points, plan, errors)


def listed_points(binary: Path) -> list[str]:
    """The points a binary declares, from the harness's own `-l` listing."""
    # The listing goes to stderr and the harness exits with KSFT_SKIP.
    proc = subprocess.run([str(binary), "-l"], capture_output=True, text=True,
                          timeout=30)
    out = (proc.stdout + proc.stderr).splitlines()
    header = next(line for line in out if line.startswith("# FIXTURE"))
    vcol, tcol = header.index("VARIANT"), header.index("TEST")
    fixtures: list[tuple[str, list[str], list[str]]] = []
    body = out[out.index(header) + 1:]
    for line in body:
        if line.startswith("---") or not line.strip():
            continue
        # Columns overflow when a name is long: place words by where they
        # start, the first word at or past VARIANT being the variant.
        fix = var = test = ""
        for m in re.finditer(r"\S+", line):
            if m.start() < vcol:
                fix = m.group()
            elif m.start() < tcol and not var:
                var = m.group()
            else:
                test = m.group()
        if fix:
            fixtures.append((fix, [], []))
        if var:
            fixtures[-1][1].append(var)
        if test:
            fixtures[-1][2].append(test)
    names = []
    for fix, variants, tests in fixtures:
        for var in variants or [""]:
            for test in tests:
                names.append(".".join(x for x in (fix, var, test) if x))
    return names


def failures(stream: Stream) -> str:
    bad = [p for p in stream.points if not p.ok]
    return "\n".join(f"not ok {p.name}\n  " + "\n  ".join(p.diagnostics[-15:])
                     for p in bad)
