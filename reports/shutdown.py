# SPDX-License-Identifier: GPL-2.0
"""The one way run.py ends early, and the children it must not leave behind.

run.py starts every long-running child (make, the runner) through
Shutdown.start() and registers every other way of stopping work (QEMU
boots, temporary directories) with Shutdown.on_stop(). Then one thing
happens however the run is cut short, by SIGINT, SIGTERM or SIGHUP, or by
a result file the disk refuses (reports/writer.py):

1. stop() says why, once, on stderr;
2. every registered child's process group gets SIGTERM (the runner stops
   its binaries, gives back the huge pages and ends its stream with
   `interrupted`; make removes what it was half-way through), every hook
   runs (QEMU is killed);
3. children still there after KILL_AFTER_S (or at a second signal) get
   SIGKILL;
4. nothing raises: the waits run.py was in return as the children end, the
   code in between sees `stopping` and starts no new work, and run.py
   writes the report of what was collected, marked interrupted, then exits
   with exit_code(): 128 + the signal (130 SIGINT, 143 SIGTERM, 129 SIGHUP),
   2 for a result file that could not be written.

Nothing here knows what the children are.
"""
from __future__ import annotations

import collections
import contextlib
import os
import signal
import subprocess
import sys
import threading
from typing import IO, Any, Callable, Iterator

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
# How long a stopped child may take before SIGKILL: the runner needs its
# grace per binary (0.5 s), up to 5 s for a binary stuck in the kernel, and
# the huge page give-back; make needs a moment to delete half-built files.
KILL_AFTER_S = 20.0
# How much of a child's stderr is kept for the report (all of it is shown).
STDERR_KEEP = 4096


class Child:
    """A started child: its Popen, its stderr passed through live (the tail
    kept), and an optional wall-clock limit that stops it the way a signal
    does (SIGTERM, SIGKILL later)."""

    def __init__(self, shutdown: "Shutdown", proc: subprocess.Popen) -> None:
        self.shutdown, self.proc = shutdown, proc
        self.limit_s: float | None = None
        self.limit_hit = False
        self._timers: list[threading.Timer] = []
        self._tail: collections.deque[str] = collections.deque()
        self._tail_len = 0
        self._stderr: threading.Thread | None = None

    def pass_stderr(self, out: IO[str] | None = None) -> None:
        """Copy the child's stderr to ours line by line as it comes (a
        runner waiting for another run says so at once), keeping the tail."""
        assert self.proc.stderr is not None
        out = out or sys.stderr
        self._stderr = threading.Thread(target=self._copy, args=(out,), daemon=True)
        self._stderr.start()

    def _copy(self, out: IO[str]) -> None:
        assert self.proc.stderr is not None
        for raw in iter(self.proc.stderr.readline, b""):
            line = raw.decode("utf-8", "replace")
            try:
                out.write(line)
                out.flush()
            except (OSError, ValueError):
                pass            # our stderr is gone: keep the tail anyway
            self._tail.append(line)
            self._tail_len += len(line)
            while self._tail_len > STDERR_KEEP and len(self._tail) > 1:
                self._tail_len -= len(self._tail.popleft())

    def stderr_tail(self) -> str:
        if self._stderr is not None:
            self._stderr.join(timeout=5)
        return "".join(self._tail)

    def start_limit(self, seconds: float) -> None:
        """From now on at most @seconds (once; later calls do nothing)."""
        if self.limit_s is not None:
            return
        self.limit_s = seconds
        self._timer(seconds, self._on_limit)

    def _on_limit(self) -> None:
        if self.proc.poll() is None:
            self.limit_hit = True
            self.signal(signal.SIGTERM)
            self._timer(KILL_AFTER_S, lambda: self.signal(signal.SIGKILL))

    def _timer(self, seconds: float, fn: Callable[[], None]) -> None:
        t = threading.Timer(seconds, fn)
        t.daemon = True
        t.start()
        self._timers.append(t)

    def signal(self, sig: int) -> None:
        """@sig to the child's whole process group (it has its own)."""
        try:
            os.killpg(self.proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def wait(self) -> int:
        rc = self.proc.wait()
        for t in self._timers:
            t.cancel()
        self.shutdown.forget(self)
        return rc


class Shutdown:
    """SIGINT/SIGTERM/SIGHUP handling, the registered children and hooks,
    and the exit code of a run that was cut short."""

    def __init__(self, err: IO[str] | None = None) -> None:
        self.err = err or sys.stderr
        self.reason: str | None = None      # "SIGTERM", or the write error
        self.code: int | None = None        # the exit code it asks for
        self.signals = 0
        self._children: list[Child] = []
        self._hooks: list[Callable[[], None]] = []

    @property
    def stopping(self) -> bool:
        return self.code is not None

    @contextlib.contextmanager
    def handling_signals(self) -> Iterator["Shutdown"]:
        """SIGINT/SIGTERM/SIGHUP stop the run inside the block (main thread
        only); the handlers before it are back after it."""
        before = {sig: signal.signal(sig, self._on_signal) for sig in SIGNALS}
        try:
            yield self
        finally:
            for sig, handler in before.items():
                signal.signal(sig, handler)

    def _on_signal(self, signum: int, _frame: Any) -> None:
        self.signals += 1
        if self.signals > 1:
            self._say(f"run.py: {signal.Signals(signum).name} again: killing "
                      "what is left, then writing the report")
            self.kill_all()
            return
        self.stop(signal.Signals(signum).name, 128 + signum)

    def _say(self, msg: str) -> None:
        try:
            self.err.write(msg + "\n")
            self.err.flush()
        except (OSError, ValueError):
            pass

    def stop(self, reason: str, code: int) -> None:
        """Stop every child and hook; the first reason and code stand."""
        # No lock: the signal handler runs in the main thread, which may be
        # inside stop() already (a write error); only the main thread stops.
        first = self.code is None
        if first:
            self.reason, self.code = reason, code
            what = f"got {reason}" if reason.startswith("SIG") else reason
            self._say(f"run.py: {what}: stopping the build, the runner and any "
                      "VM; the report will hold what was collected")
            killer = threading.Timer(KILL_AFTER_S, self.kill_all)
            killer.daemon = True
            killer.start()
        for child in list(self._children):
            child.signal(signal.SIGTERM)
        for hook in list(self._hooks):
            try:
                hook()
            except Exception as e:      # a hook must not stop the others
                self._say(f"run.py: while stopping: {e}")

    def kill_all(self) -> None:
        for child in list(self._children):
            child.signal(signal.SIGKILL)
        for hook in list(self._hooks):
            try:
                hook()
            except Exception:
                pass

    def on_stop(self, hook: Callable[[], None]) -> None:
        """Call @hook when the run is stopped (at once if it already is)."""
        self._hooks.append(hook)
        if self.stopping:
            hook()

    def start(self, cmd: list[str], **popen: Any) -> Child:
        """Start @cmd in a session of its own (a terminal's ^C reaches only
        run.py, which stops it the one way) and register it."""
        proc = subprocess.Popen(cmd, start_new_session=True, **popen)
        child = Child(self, proc)
        self._children.append(child)
        if self.stopping:
            child.signal(signal.SIGTERM)
        return child

    def run(self, cmd: list[str], **popen: Any) -> subprocess.CompletedProcess:
        """subprocess.run(), registered; stdout captured when asked."""
        child = self.start(cmd, **popen)
        out, err = child.proc.communicate()
        rc = child.wait()
        return subprocess.CompletedProcess(cmd, rc, out, err)

    def forget(self, child: Child) -> None:
        if child in self._children:
            self._children.remove(child)

    def exit_code(self, verdict: int) -> int:
        """The process's exit code: the stop's when there was one."""
        return verdict if self.code is None else self.code
