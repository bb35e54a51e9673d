# SPDX-License-Identifier: GPL-2.0
"""Progress while a stream is produced: a live line per binary on a TTY,
one plain line per binary otherwise."""
from __future__ import annotations

import json
import re
from typing import TextIO

_PLAN = re.compile(r"^1\.\.(\d+)")
_RESULT = re.compile(r"^(not ok|ok)\b[^#]*(#\s*(\w+))?")


class Progress:
    def __init__(self, out: TextIO, tty: bool, prefix: str = "") -> None:
        self.out, self.tty, self.prefix = out, tty, prefix
        self.name: str | None = None
        self.plan: int | None = None
        self.counts = {"pass": 0, "fail": 0, "skip": 0}

    def _line(self) -> str:
        c = self.counts
        done = f"{sum(c.values()):3d}" + (f"/{self.plan}" if self.plan else "")
        return (f"{self.prefix}{self.name:<12} {done} points  pass {c['pass']}"
                f"  fail {c['fail']}  skip {c['skip']}")

    def feed(self, line: str) -> None:
        if line.startswith("@@faultline binary-begin"):
            try:
                self.name = str(json.loads(line.split(" ", 2)[2]).get("name"))
            except (ValueError, IndexError):
                self.name = "?"
            self.counts = {"pass": 0, "fail": 0, "skip": 0}
            self.plan = None
            self._show()
        elif line.startswith("@@faultline binary-end") and self.name:
            extra = ""
            try:
                end = json.loads(line.split(" ", 2)[2])
                if end.get("timed_out"):
                    extra = "  TIMED OUT"
                elif end.get("kmsg_alert"):
                    extra = "  KERNEL ALERT"
                extra += f"  ({end.get('duration_ms', 0)} ms)"
            except (ValueError, IndexError):
                pass
            self._show(final=True, extra=extra)
            self.name = None
        elif self.name and _PLAN.match(line):
            self.plan = int(_PLAN.match(line).group(1)) or None  # type: ignore[union-attr]
        elif self.name:
            m = _RESULT.match(line)
            if m:
                word = (m.group(3) or "").upper()
                if word == "SKIP":
                    self.counts["skip"] += 1
                elif m.group(1) == "ok":
                    self.counts["pass"] += 1
                else:
                    self.counts["fail"] += 1
                self._show()

    def _show(self, final: bool = False, extra: str = "") -> None:
        if self.tty:
            self.out.write("\r\033[K" + self._line() + extra + ("\n" if final else ""))
            self.out.flush()
        elif final:
            self.out.write(self._line() + extra + "\n")
            self.out.flush()

    def close(self) -> None:
        """The stream ended: finish a binary that never ended."""
        if self.name:
            self._show(final=True, extra="  (cut)")
            self.name = None
