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
NAMED_RE = re.compile(r"^#\s+(?:[^\s:]+:\d+:)?([A-Za-z_]\w*):")
ASSERT_RE = re.compile(r"(Expected|Assertion|assert|finding:|Test terminated)")
LACKS_FIX_RE = re.compile(r"kernel lacks fix [0-9a-f]{12}")
# Lines that make or mark points (results, plan, markers, verdicts, bail):
# the ones a capped payload keeps (payload.py).
SHAPES_RE = re.compile(r"^(?:(?:not )?ok \d|\d+\.\.\d|#\s+RUN\s|"
                       r"#\s+(?:OK|FAIL|XFAIL|XPASS)\s|Bail out!)")
# No binary has this many points (the whole suite has about 800): a larger
# plan is a broken binary, reported as such, never listed point by point.
MAX_POINTS = 10000

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
    # payload line index of each point's `#  RUN` marker and result line
    # (kernel log records are placed between them: kernel_log.py)
    starts: dict[str, int] = field(default_factory=dict)
    ends: dict[str, int] = field(default_factory=dict)


def _status(res: Result) -> tuple[str, str | None]:
    """Map one result line to a status; a plain failure's reason (and a
    timeout) come from its diagnostics, see _finish_failure()."""
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
    return "fail", text or None


def _names(line: str) -> str | None:
    """The test a kselftest diagnostic names: `# <test>: Test terminated
    ...` or `# <file>:<line>:<test>:Expected ...`."""
    m = NAMED_RE.match(line)
    return m.group(1) if m else None


def _case(point_id: str) -> str:
    return point_id.rsplit(".", 1)[-1]


def _finish_failure(p: Point) -> None:
    """Reason and timeout of a plain `not ok`, once its diagnostics are
    complete (stderr lines may arrive after the result line)."""
    own = [d for d in p.diagnostics if _names(d) in (None, _case(p.id))]
    if any(TIMEOUT_RE.search(d) for d in own):
        p.status = "timeout"
        p.reason = p.reason or "test terminated by the harness timeout"
    if p.reason is None:
        # a known-bug check says which fix is missing before the harness's
        # own Expected line: that is the reason (cases/bugs.c)
        hit = next((d for d in own if LACKS_FIX_RE.search(d)), None) or next(
            (d for d in own if ASSERT_RE.search(d)), None)
        p.reason = hit.lstrip("# ").strip() if hit else None


def _give_back(out: TapResult, last: Point | None, current: str | None) -> None:
    """Move pending lines that name the previous point (and not the
    current one) to it: kselftest writes them on stderr, and the runner
    reads stderr and stdout as they come, so they can arrive late."""
    if last is None:
        return
    late = [d for d in out.pending if _names(d) == _case(last.id)
            and (current is None or _names(d) != _case(current))]
    if late:
        last.diagnostics = last.diagnostics + late
        out.pending = [d for d in out.pending if d not in late]


def parse_tap(lines: list[str], binary: str) -> TapResult:
    """Parse the TAP payload of one binary (lines without newlines)."""
    out = TapResult()
    last: Point | None = None
    plain_failures: list[Point] = []
    for index, raw in enumerate(lines):
        line = raw.rstrip("\r\n")
        m = RUN_RE.match(line)
        if m:
            out.starts[m.group(1)] = index
            _give_back(out, last, m.group(1))
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
        if cat == "test" and parsed.number is None:
            # kselftest numbers every result: "ok computer" is just text
            out.pending.append(line)
        elif cat == "test":
            status, reason = _status(parsed)
            name = parsed.description or f"{binary}.#{parsed.number}"
            _give_back(out, last, name)
            last = Point(id=name, status=status, reason=reason,
                         number=parsed.number, diagnostics=out.pending)
            out.points.append(last)
            out.ends[name] = index
            if status == "fail":
                plain_failures.append(last)
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
    _give_back(out, last, out.running)
    if out.running is None:
        out.diagnostics += out.pending
        out.pending = []
    for p in plain_failures:
        _finish_failure(p)
    return out


def classify_line(line: str) -> tuple[str | None, int | None]:
    """One TAP line as it arrives, for live progress: ("plan", count),
    ("pass" | "fail" | "skip", None) for a result line, else (None, None).
    The verdicts come from parse_tap() over the whole payload."""
    try:
        parsed = _parser.parse_line(line.rstrip("\r\n"))
    except ValueError:
        return None, None
    if parsed.category == "plan":
        return "plan", parsed.expected_tests
    if parsed.category != "test" or parsed.number is None:
        return None, None
    if parsed.skip:
        return "skip", None
    return ("pass" if parsed.ok else "fail"), None


def shapes_points(line: str) -> bool:
    """True for a line that makes or marks a point (see SHAPES_RE)."""
    return SHAPES_RE.match(line) is not None


def implausible_plan(tap: TapResult) -> bool:
    return tap.plan is not None and tap.plan > MAX_POINTS


def missing_numbers(tap: TapResult) -> list[int]:
    """Plan numbers for which no result line was seen (none for an
    implausible plan: see binary_points.py)."""
    if not tap.plan or implausible_plan(tap):
        return []
    seen = {p.number for p in tap.points if p.number is not None}
    return [n for n in range(1, tap.plan + 1) if n not in seen]
