# SPDX-License-Identifier: GPL-2.0
"""Progress while a stream is read: a live line per binary on a TTY, one
plain line per binary otherwise. A StreamListener: it sees what the stream
reader sees and parses nothing itself."""
from __future__ import annotations

from typing import TextIO

from .model import Binary
from .stream import StreamListener


class Progress(StreamListener):
    def __init__(self, out: TextIO, tty: bool, prefix: str = "") -> None:
        self.out, self.tty, self.prefix = out, tty, prefix
        self.name = "?"
        self.plan: int | None = None
        self.counts = {"pass": 0, "fail": 0, "skip": 0}

    def _line(self) -> str:
        c = self.counts
        done = f"{sum(c.values()):3d}" + (f"/{self.plan}" if self.plan else "")
        return (f"{self.prefix}{self.name:<12} {done} points  pass {c['pass']}"
                f"  fail {c['fail']}  skip {c['skip']}")

    def binary_started(self, name: str) -> None:
        self.name, self.plan = name, None
        self.counts = {"pass": 0, "fail": 0, "skip": 0}
        self._show()

    def plan_reported(self, count: int) -> None:
        self.plan = count

    def result_reported(self, kind: str) -> None:
        self.counts[kind] += 1
        self._show()

    def binary_ended(self, binary: Binary) -> None:
        if not binary.complete:
            extra = "  (cut)"
        else:
            extra = ("  TIMED OUT" if binary.timed_out else
                     "  KERNEL ALERT" if binary.kmsg_alert else "")
            extra += f"  ({binary.duration_ms or 0} ms)"
        self._show(final=True, extra=extra)

    def _show(self, final: bool = False, extra: str = "") -> None:
        if self.tty:
            self.out.write("\r\033[K" + self._line() + extra + ("\n" if final else ""))
            self.out.flush()
        elif final:
            self.out.write(self._line() + extra + "\n")
            self.out.flush()
