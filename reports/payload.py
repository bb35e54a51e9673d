# SPDX-License-Identifier: GPL-2.0
"""One binary's output as the reports keep it, within a bound.

A binary may print without end (a loop, a flood of diagnostics); the
reports must not grow with it, nor must run.py's memory. So the reader
keeps a binary's lines up to KEEP_BYTES, each line up to LINE_KEEP
characters; after that only the lines that shape its points (TAP results,
the plan, `#  RUN` markers, kselftest verdicts, Bail out!), at most
MAX_POINTS of them; everything else is counted and left out, and the
binary's diagnostics say how much (the saved stream keeps every byte).
A case binary of this suite prints about 20 KiB.
"""
from __future__ import annotations

from .tapparse import MAX_POINTS, shapes_points
from .writer import human_size

KEEP_BYTES = 256 << 10
LINE_KEEP = 16384
# Console and tail lines (outside any binary) are only ever shown briefly.
CONSOLE_LINE_KEEP = 1024


def clip(line: str, keep: int) -> str:
    """@line, cut to @keep characters with a note of how many went."""
    if len(line) <= keep:
        return line
    return f"{line[:keep]} [... {len(line) - keep} characters cut]"


# The probe's section is one JSON document, often one line of tens of KiB:
# never cut inside, only bounded as a whole.
PROBE_KEEP_BYTES = 8 << 20


class Payload(list):
    """The kept lines of one section (a list of str), capped by add(): a
    binary's by KEEP_BYTES and LINE_KEEP, the probe's (@whole_lines) only by
    PROBE_KEEP_BYTES."""

    def __init__(self, whole_lines: bool = False) -> None:
        super().__init__()
        self.keep = PROBE_KEEP_BYTES if whole_lines else KEEP_BYTES
        self.line_keep = PROBE_KEEP_BYTES if whole_lines else LINE_KEEP
        self.kept_bytes = 0
        self.late_lines = 0         # kept after KEEP_BYTES (shaping points)
        self.dropped_lines = 0
        self.dropped_bytes = 0

    def add(self, line: str) -> bool:
        """Keep @line if the bound allows; False when it was left out."""
        size = len(line) + 1
        if self.kept_bytes + size > self.keep:
            if not shapes_points(line) or self.late_lines >= MAX_POINTS:
                self.dropped_lines += 1
                self.dropped_bytes += size
                return False
            self.late_lines += 1
        line = clip(line, self.line_keep)
        self.kept_bytes += len(line) + 1
        self.append(line)
        return True

    def note(self) -> str | None:
        """The diagnostic that says what was left out, if anything."""
        if not self.dropped_lines:
            return None
        return (f"# report: output beyond {human_size(self.keep)} left out: "
                f"{self.dropped_lines} lines, {human_size(self.dropped_bytes)} "
                "(the saved stream has them)")
