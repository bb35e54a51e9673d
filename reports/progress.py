# SPDX-License-Identifier: GPL-2.0
"""Progress while a stream is read: `[n/N binaries, P points so far]`, on
the host and for each VM kernel.

A StreamListener: it sees what the stream reader sees and parses nothing
itself. Live (one line rewritten as points come in) on a terminal for the
host, one line per binary otherwise (a log, or several VMs at once).
Colour only on a terminal, and never with NO_COLOR set (no-color.org).
"""
from __future__ import annotations

import os
import threading
from typing import Any, Mapping, TextIO

from .model import Binary
from .stream import StreamListener, StreamReader

# SGR colours of the result words.
COLOURS = {"pass": "32", "fail": "31", "skip": "33", "alert": "1;31"}
# Several VMs print from their own threads: one line at a time.
_write_lock = threading.Lock()


def use_colour(out: TextIO, env: Mapping[str, str] | None = None) -> bool:
    """Colour on a terminal unless NO_COLOR is set to anything non-empty."""
    env = os.environ if env is None else env
    try:
        tty = out.isatty()
    except (AttributeError, ValueError):
        tty = False
    return tty and not env.get("NO_COLOR")


class Progress(StreamListener):
    def __init__(self, out: TextIO, live: bool, prefix: str = "",
                 colour: bool | None = None) -> None:
        self.out: TextIO | None = out
        self.live, self.prefix = live, prefix
        self.colour = use_colour(out) if colour is None else colour
        self.name = "?"
        self.total: int | None = None      # binaries the run frame names
        self.started = 0                    # binary-begin frames so far
        self.points = 0                     # result lines, every binary
        self.plan: int | None = None
        self.counts = {"pass": 0, "fail": 0, "skip": 0}

    def _paint(self, text: str, key: str) -> str:
        return f"\033[{COLOURS[key]}m{text}\033[0m" if self.colour else text

    def _where(self) -> str:
        of = f"/{self.total}" if self.total is not None else "/?"
        return f"[{self.started}{of} binaries, {self.points} points so far]"

    def _line(self) -> str:
        c = self.counts
        done = f"{sum(c.values())}" + (f"/{self.plan}" if self.plan else "")
        words = "  ".join(self._paint(f"{k} {v}", k) if v else f"{k} {v}"
                          for k, v in c.items())
        return f"{self.prefix}{self._where()} {self.name}: {done} points  {words}"

    def run_started(self, header: dict[str, Any]) -> None:
        n = header.get("binaries")
        self.total = n if isinstance(n, int) else None

    def binary_started(self, name: str) -> None:
        self.name, self.plan = name, None
        self.started += 1
        self.counts = {"pass": 0, "fail": 0, "skip": 0}
        self._show()

    def plan_reported(self, count: int) -> None:
        self.plan = count

    def result_reported(self, kind: str) -> None:
        self.counts[kind] += 1
        self.points += 1
        self._show()

    def binary_ended(self, binary: Binary) -> None:
        if not binary.complete:
            extra = "  " + self._paint("(cut)", "alert")
        else:
            extra = ("  " + self._paint("TIMED OUT", "alert") if binary.timed_out
                     else "  " + self._paint("KERNEL ALERT", "alert")
                     if binary.kmsg_alert else "")
            extra += f"  ({binary.duration_ms or 0} ms)"
        self._show(final=True, extra=extra)

    def _show(self, final: bool = False, extra: str = "") -> None:
        if self.live:
            text = "\r\033[K" + self._line() + extra + ("\n" if final else "")
        elif final:
            text = self._line() + extra + "\n"
        else:
            return
        if self.out is None:
            return
        with _write_lock:
            try:
                self.out.write(text)
                self.out.flush()
            except (BrokenPipeError, ValueError):
                # The reader of our output went away (a closed pipe, a
                # `| head`): progress is only a view, the run goes on and
                # its reports are still written.
                self.out = None


class ConsoleProgress:
    """A VM's console as it arrives (bytes, cut anywhere) -> whole lines
    -> a StreamReader whose Progress prints one line per binary. Only for
    the progress: the Run comes from the saved console afterwards."""

    def __init__(self, out: TextIO, prefix: str) -> None:
        self.reader = StreamReader(Progress(out, live=False, prefix=prefix))
        self.partial = b""

    def __call__(self, chunk: bytes) -> None:
        data = (self.partial + chunk).replace(b"\r", b"")
        *lines, self.partial = data.split(b"\n")
        for line in lines:
            self.reader.feed(line.decode("utf-8", "replace"))
