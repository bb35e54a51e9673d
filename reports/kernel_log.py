# SPDX-License-Identifier: GPL-2.0
"""Kernel log records of one binary: which point was running when each was
logged, and one failing `<binary>.kernel_log` point for its alerts.

A kernel WARNING/BUG/Oops says something about the kernel, not about every
point of the binary: the points keep their own verdicts, and the alert
becomes one point of its own that names the point that was running.

Which point was running (the attribution rule): a record belongs to the
last point that had started when it was logged - a point starts at its
`#  RUN` marker (kselftest), or, without markers, right after the previous
point's result line. Records before the first point belong to none.

"When" is read from the stream in one of two ways:
- by time, when the stream stamps payload lines (`at` frames, see
  reports/README.md "Timing"): the record's `time_us` against the time at
  which the runner read each RUN marker;
- otherwise by position: the runner writes a record where it read it among
  the binary's lines. It reads the binary's output before the log in each
  round, so a record logged just before a point ended can land after the
  next point's RUN marker: when the point it lands in had printed nothing
  yet, the point before it is named as the other candidate.
"""
from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from typing import Any

from .model import Binary, Point
from .tapparse import TapResult

# A record that starts a splat (the runner's alert words, but a bare
# "Call Trace:" continues the splat above it).
HEAD_RE = re.compile(r"WARNING:|BUG:|Oops|general protection fault|KASAN|"
                     r"Kernel panic")
END_RE = re.compile(r"---\[ end trace")
SPLAT_LINES = 40        # lines of one splat kept in the point's diagnostics
# The kernel's own console lines among a VM binary's payload are not the
# point's output.
CONSOLE_RE = re.compile(r"^\[\s*\d+\.\d+\] ")


@dataclass
class Span:
    """One point's place in the payload (line indexes) and, when the
    stream is stamped, in time (µs on the kernel log's clock)."""
    id: str
    start: int
    end: int | None
    start_us: int | None = None
    end_us: int | None = None


def _spans(tap: TapResult) -> list[Span]:
    spans, prev_end = [], -1
    for p in tap.points:
        end = tap.ends.get(p.id)
        if end is None:
            continue
        spans.append(Span(p.id, tap.starts.get(p.id, prev_end), end))
        prev_end = end
    if tap.running is not None and tap.running in tap.starts:
        spans.append(Span(tap.running, tap.starts[tap.running], None))
    return spans


def _stamp(spans: list[Span], marks: list[tuple[int, int]]) -> None:
    """Times of the RUN and result lines from the runner's `at` marks
    ((payload index, time_us): lines from that index on were read then).
    binary-begin's time alone stamps nothing: every point would share it."""
    if len(marks) < 2:
        return
    pos = [m[0] for m in marks]

    def time_of(index: int) -> int | None:
        i = bisect_right(pos, index) - 1
        return marks[i][1] if i >= 0 else None

    for s in spans:
        s.start_us = time_of(max(s.start, 0))
        s.end_us = None if s.end is None else time_of(s.end)


def _owner(spans: list[Span], rec: dict[str, Any],
           printed: set[int]) -> tuple[Span | None, Span | None, bool]:
    """The point running when `rec` was logged; the point before it when
    the record may be a late one of that point; whether the record came
    after the point's result (nothing was running any more)."""
    t = rec.get("time_us")
    if isinstance(t, int) and spans and all(s.start_us is not None for s in spans):
        started = [s for s in spans if s.start_us is not None and s.start_us <= t]
        if not started:
            return None, None, False
        last = started[-1]
        return last, None, last.end_us is not None and t > last.end_us
    at = rec.get("at")
    if not isinstance(at, int):
        return None, None, False
    started = [i for i, s in enumerate(spans) if s.start < at]
    if not started:
        return None, None, False
    i = started[-1]
    span = spans[i]
    if span.end is not None and at > span.end:
        return span, None, True
    quiet = not any(span.start < line < at for line in printed)
    return span, (spans[i - 1] if quiet and i > 0 else None), False


def attribute(b: Binary, tap: TapResult, payload: list[str],
              marks: list[tuple[int, int]]) -> None:
    """Name in each kmsg record the point that was running (`point`, null
    before the first point) and give points their duration when the
    stream is stamped. Drops the records' stream position (`at`)."""
    spans = _spans(tap)
    _stamp(spans, marks)
    by_id = {p.id: p for p in b.points}
    for s in spans:
        p = by_id.get(s.id)
        if p is not None and s.start_us is not None and s.end_us is not None:
            p.duration_ms = max(0, s.end_us - s.start_us) // 1000
    printed = {i for i, ln in enumerate(payload)
               if ln.strip() and not CONSOLE_RE.match(ln)}
    for rec in b.kmsg:
        owner, before, after = _owner(spans, rec, printed)
        rec["point"] = owner.id if owner else None
        if before is not None:
            rec["or_point"] = before.id
        if after:
            rec["after"] = True
        rec.pop("at", None)


def splats(records: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Alert records with the lines that belong to them: a splat runs from
    its head line to `---[ end trace` or the next head, at most
    SPLAT_LINES lines."""
    out: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] | None = None
    for rec in records:
        line = str(rec.get("line", ""))
        head = bool(rec.get("alert")) and (HEAD_RE.search(line) is not None
                                           or current is None)
        if head:
            current = [rec]
            out.append(current)
        elif current is not None and len(current) < SPLAT_LINES:
            current.append(rec)
        if current is not None and END_RE.search(line):
            current = None
    return out


def _where(rec: dict[str, Any]) -> str:
    if not rec.get("point"):
        return "before the first point"
    if rec.get("after"):
        return f"after {rec['point']} reported its result, before the next point"
    maybe = (f", or late from {rec['or_point']} ({rec['point']} had printed "
             "nothing yet)") if rec.get("or_point") else ""
    return f"while {rec['point']} was running{maybe}"


def kernel_log_point(b: Binary, jobs: int | None) -> Point:
    """The one failing point for a binary's kernel alerts."""
    found = splats(b.kmsg)
    shared = (f"; {jobs} binaries ran at once, so it may come from another "
              "one running then (rerun with one binary at a time to attribute it)"
              if isinstance(jobs, int) and jobs > 1 else "")
    if not found:
        return Point(id=f"{b.name}.kernel_log", status="fail",
                     reason="the runner flagged a kernel log alert during this "
                     f"binary, with no record in the stream{shared}")
    head = found[0][0]
    more = f"; {len(found) - 1} more alert(s)" if len(found) > 1 else ""
    diags: list[str] = []
    for splat in found:
        diags.append(f"kernel log {_where(splat[0])}:")
        diags += [f"kmsg: {r['line']}" for r in splat]
    during = list(dict.fromkeys(s[0]["point"] for s in found if s[0].get("point")))
    return Point(id=f"{b.name}.kernel_log", status="fail",
                 reason=f"{head['line']}; {_where(head)}{more}{shared}",
                 diagnostics=diags, during=during)
