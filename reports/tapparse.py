# SPDX-License-Identifier: GPL-2.0
"""TAP of one case binary -> test points.

Lines are classified with Debian's python3-tap (tap.parser.Parser); what it
does not model is handled here: kselftest's XFAIL/XPASS directives, the
harness's `#  RUN name ...` markers (which tell which point was running when
a stream was cut), timeouts reported only as a `# name: Test terminated by
timeout` diagnostic, nested (`# ok ...`) subtest lines, and attribution of
`#` diagnostics to the point they precede.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from tap.line import Result
from tap.parser import Parser

from .model import Point

RUN_RE = re.compile(r"^#\s+RUN\s+(\S+)\s+\.\.\.\s*$")
VERDICT_RE = re.compile(r"^#\s+(OK|FAIL|XFAIL|XPASS)\s+(\S+)\s*$")
TIMEOUT_RE = re.compile(r"Test terminated by timeout")
ASSERT_RE = re.compile(r"(Expected|Assertion|assert|finding:|Test terminated)")

_parser = Parser()


@dataclass
class TapResult:
    """What one binary's TAP said."""
    plan: int | None = None
    plan_skip: str | None = None
    bail: str | None = None
    running: str | None = None
    points: list[Point] = field(default_factory=list)
    diagnostics: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)


def _status(res: Result, diags: list[str]) -> tuple[str, str | None]:
    """Map one result line (and the diagnostics before it) to a status."""
    text = (res.directive.text or "").strip() if res.directive else ""
    word = text.split(None, 1)[0].upper() if text else ""
    rest = text.split(None, 1)[1] if len(text.split(None, 1)) > 1 else ""
    if res.skip:
        return "skip", res.directive.reason or "(no reason given)"
    if word in ("XFAIL", "XPASS"):
        return word.lower(), rest or "(no reason given)"
    if res.todo:
        return ("xpass" if res.ok else "xfail"), res.directive.reason or "TODO"
    if res.ok:
        return "pass", None
    if any(TIMEOUT_RE.search(d) for d in diags):
        return "timeout", text or "test terminated by the harness timeout"
    if text:
        return "fail", text
    for d in diags:
        if ASSERT_RE.search(d):
            return "fail", d.lstrip("# ").strip()
    return "fail", None


def parse_tap(lines: list[str], binary: str) -> TapResult:
    """Parse the TAP payload of one binary (lines without newlines)."""
    out = TapResult()
    for raw in lines:
        line = raw.rstrip("\r\n")
        m = RUN_RE.match(line)
        if m:
            out.diagnostics += out.pending
            out.pending = []
            out.running = m.group(1)
            continue
        if VERDICT_RE.match(line):
            continue
        try:
            parsed = _parser.parse_line(line)
        except ValueError:      # "TAP version 12": not fatal for us
            out.diagnostics.append(line)
            continue
        cat = parsed.category
        if cat == "test":
            status, reason = _status(parsed, out.pending)
            name = parsed.description or f"{binary}.#{parsed.number}"
            out.points.append(Point(id=name, status=status, reason=reason,
                                    number=parsed.number,
                                    diagnostics=out.pending))
            out.pending = []
            out.running = None
        elif cat == "plan":
            out.plan = parsed.expected_tests
            if parsed.skip:
                out.plan_skip = parsed.directive.reason or "skipped"
        elif cat == "bail":
            out.bail = parsed.reason or "Bail out!"
        elif cat == "version":
            continue
        elif line.strip():
            # Diagnostics, nested "# ok" subtest lines, unknown text.
            out.pending.append(line)
    if out.running is None:
        out.diagnostics += out.pending
        out.pending = []
    return out


def missing_numbers(tap: TapResult) -> list[int]:
    """Plan numbers for which no result line was seen."""
    if not tap.plan:
        return []
    seen = {p.number for p in tap.points if p.number is not None}
    return [n for n in range(1, tap.plan + 1) if n not in seen]
