# SPDX-License-Identifier: GPL-2.0
"""Framed faultline stream (STREAM.md, version 1) -> Run.

Never raises on bad input: an empty, garbage or truncated stream becomes a
Run whose stream_state and cause say what happened, keeping every point that
was reported before the cut.
"""
from __future__ import annotations

import json
import re
from typing import Any

from .model import Binary, Point, Run
from .tapparse import missing_numbers, parse_tap

FRAME_RE = re.compile(r"^@@faultline ([a-z-]+)(?: (.*))?$")
CONSOLE_KEEP = 30
SUPPORTED_VERSION = "1"
# C0 controls (but tab) and DEL from a raw console: shown as U+FFFD so that
# no renderer (Markdown, HTML, XML) has to care.
_CONTROLS = dict.fromkeys([c for c in range(32) if c != 9] + [127], "\ufffd")


def _json(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        val = json.loads(text)
    except ValueError:
        return {}
    return val if isinstance(val, dict) else {}


PRINTK_RE = re.compile(r"^\[\s*\d+\.\d+\] ")


def _probe_json(lines: list[str]) -> dict[str, Any] | None:
    """The probe's JSON, tolerating console noise around it, kernel
    messages between its lines (VM console) and the runner's splitting of
    long lines (it never drops bytes, it inserts newlines: joining without
    them restores the document)."""
    quiet = [ln for ln in lines if not PRINTK_RE.match(ln)]
    for sep, part in (("\n", lines), ("", lines), ("", quiet)):
        text = sep.join(part)
        start, end = text.find("{"), text.rfind("}")
        if start < 0 or end < start:
            return None
        try:
            val = json.loads(text[start:end + 1])
        except ValueError:
            continue
        return val if isinstance(val, dict) else None
    return None


class _Builder:
    """State machine over the stream's lines."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.header = False
        self.ended = False
        self.section: str | None = None
        self.payload: list[str] = []
        self.current: Binary | None = None
        self.last_frame = "none"

    def feed(self, line: str) -> None:
        m = FRAME_RE.match(line)
        if not m:
            if self.section:
                self.payload.append(line)
            elif line.strip():
                self.run.console.append(line)
                del self.run.console[:-CONSOLE_KEEP]
            return
        kw, arg = m.group(1), m.group(2)
        self.last_frame = kw
        if kw == "stream":
            self.header = True
            if (arg or "").strip() != SUPPORTED_VERSION:
                self.run.cause = f"unsupported stream version {arg!r}"
        elif kw == "run":
            self._run_header(_json(arg))
        elif kw == "probe-begin":
            self._open("probe")
        elif kw == "probe-end":
            if self.section == "probe":
                end = _json(arg)
                self.run.probe = _probe_json(self.payload)
                self.run.probe_exit = end.get("exit")
                self.run.probe_stderr = end.get("stderr") or end.get("error")
            self.section, self.payload = None, []
        elif kw == "binary-begin":
            self._open("binary")
            d = _json(arg)
            self.current = Binary(name=str(d.get("name") or "?"),
                                  path=d.get("path"))
        elif kw == "kmsg":
            if self.current is not None:
                d = _json(arg)
                self.current.kmsg.append({"line": str(d.get("line", "")),
                                          "alert": bool(d.get("alert"))})
        elif kw == "binary-end":
            if self.current is not None:
                self._close_binary(_json(arg))
        elif kw == "run-end":
            self._close_open("the runner ended the run with this binary open")
            d = _json(arg)
            self.ended = True
            self.run.duration_ms = d.get("duration_ms")
            # Facts only known at the end join the run frame's.
            for k in ("hugepages_rsvd_before", "hugepages_rsvd_after"):
                if k in d:
                    self.run.header[k] = d[k]
            status = d.get("status", "complete")
            if status in ("error", "empty"):
                self.run.stream_state = "error"
                self.run.cause = str(d.get("error") or
                                     "the runner found no case binaries")
            elif status != "complete":
                self.ended = False
                self.run.cause = f"runner reported run status {status!r}"

    def _run_header(self, d: dict[str, Any]) -> None:
        r = self.run
        r.header = d
        r.kernel = {k: d.get(k) for k in ("release", "version", "machine",
                                          "hostname")}
        r.started = d.get("started")
        r.faultline_version = d.get("faultline_version")
        r.cmdline = d.get("cmdline")
        r.nr_hugepages = d.get("nr_hugepages")
        if d.get("target") and r.target == "host":
            r.target = str(d["target"])

    def _open(self, section: str) -> None:
        self._close_open("a new section began before this binary ended")
        self.section, self.payload = section, []

    def _close_open(self, cause: str) -> None:
        if self.section == "binary" and self.current is not None:
            self._close_binary(None, cause)
        self.section, self.payload = None, []

    def _close_binary(self, end: dict[str, Any] | None,
                      cut_cause: str | None = None) -> None:
        b = self.current
        assert b is not None
        if end is not None:
            b.exit = end.get("exit")
            b.signal = end.get("signal")
            b.timed_out = bool(end.get("timed_out"))
            b.duration_ms = end.get("duration_ms")
            b.kmsg_alert = bool(end.get("kmsg_alert")) or any(
                k["alert"] for k in b.kmsg)
            b.error = end.get("error")
            b.interrupted = end.get("interrupted")
            for flag in ("core_dumped", "unkillable", "leaked"):
                if end.get(flag):
                    val = "" if end[flag] is True else f" ({end[flag]})"
                    self.payload.append(f"# runner: {flag.replace('_', ' ')}{val}")
        else:
            b.complete = False
            b.kmsg_alert = any(k["alert"] for k in b.kmsg)
        finish_binary(b, self.payload, cut_cause)
        self.run.binaries.append(b)
        self.current, self.section, self.payload = None, None, []


def _cut_reason(b: Binary, cut_cause: str | None) -> tuple[str, str, str]:
    """(status, reason) for the point running when the binary stopped, and
    the reason given to the points after it."""
    if not b.complete:
        why = f"the stream was cut: {cut_cause}"
        return "error", f"{why} (this point was running)", why
    if b.timed_out:
        why = "binary killed by the runner's per-binary timeout"
        return "timeout", f"{why} (this point was running)", why
    if b.interrupted:
        why = f"the run was interrupted (signal {b.interrupted})"
        return "error", f"{why} (this point was running)", why
    if b.signal:
        why = f"binary killed by signal {b.signal}"
        return "error", f"{why} (this point was running)", why
    why = f"binary exited (code {b.exit}) before reporting a result"
    return "error", why, why


def finish_binary(b: Binary, payload: list[str],
                  cut_cause: str | None = None) -> None:
    """Turn one binary's payload and end frame into its points."""
    tap = parse_tap(payload, b.name)
    b.plan = tap.plan
    b.diagnostics = tap.diagnostics
    b.points = tap.points
    status, running_why, why = _cut_reason(b, cut_cause)
    missing = missing_numbers(tap)
    if tap.running is not None:
        num = missing.pop(0) if missing else None
        b.points.append(Point(id=tap.running, status=status, reason=running_why,
                              number=num, diagnostics=tap.pending))
    elif b.complete and not missing and b.points and (
            b.timed_out or b.signal or b.interrupted):
        # every point reported, then it hung or crashed (teardown, exit)
        b.points.append(Point(id=f"{b.name}.exit", status=status,
                              reason=f"{why} after its last point",
                              diagnostics=tap.pending))
    if tap.bail:
        why = f"Bail out! {tap.bail}"
    for n in missing:
        b.points.append(Point(id=f"{b.name}.#{n}", status="notrun",
                              number=n, reason=f"not run: {why}"))
    if not b.points:
        if tap.plan == 0 and tap.plan_skip:
            b.points.append(Point(id=b.name, status="skip",
                                  reason=tap.plan_skip))
        else:
            tail = [ln for ln in payload if ln.strip()][-10:]
            abnormal = not b.complete or b.timed_out or b.signal or b.exit
            b.points.append(Point(id=b.name, status="error",
                                  reason=b.error or "no TAP test points"
                                  + (f" ({why})" if abnormal else ""),
                                  diagnostics=tail))
    if b.kmsg_alert:
        apply_kmsg_alert(b)


def apply_kmsg_alert(b: Binary) -> None:
    """A kernel warning during a binary fails that binary's points."""
    alerts = [k["line"] for k in b.kmsg if k.get("alert")] or ["(kmsg_alert set)"]
    reason = f"kernel log alert during this binary: {alerts[0]}"
    hit = False
    for p in b.points:
        if p.status in ("pass", "xpass", "xfail"):
            p.status, p.reason = "fail", reason
            p.diagnostics = p.diagnostics + [f"kmsg: {a}" for a in alerts]
            hit = True
    if not hit:
        b.points.append(Point(id=f"{b.name}.kernel_log", status="fail",
                              reason=reason,
                              diagnostics=[f"kmsg: {a}" for a in alerts]))


def parse_stream(text: str, *, target: str = "host",
                 expected_binaries: list[str] | None = None,
                 error: str | None = None,
                 info: dict[str, Any] | None = None) -> Run:
    """Parse a whole stream. `expected_binaries` (the case binaries the
    runner was given) lets a cut run list the binaries that never started;
    `error` is the orchestrator's reason when the target failed."""
    run = Run(target=target, info=dict(info or {}))
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    b = _Builder(run)
    lines = [ln.rstrip("\r").translate(_CONTROLS) for ln in lines]
    for line in lines:
        b.feed(line)
    if not text.strip():
        run.stream_state = "empty"
        run.cause = error or "empty stream: the target produced no output"
    elif not b.header:
        run.stream_state = "garbage"
        run.cause = error or (f"no '@@faultline stream' header in "
                              f"{len(lines)} lines of output")
        run.console = [ln for ln in lines if ln.strip()][-CONSOLE_KEEP:]
    elif not b.ended:
        cause = error or run.cause or _truncation_cause(b, lines)
        b._close_open(cause)
        run.stream_state = "truncated"
        run.cause = cause
        run.console = [ln for ln in lines if ln.strip()][-CONSOLE_KEEP:]
    elif error:
        run.cause = f"{error}; {run.cause}" if run.cause else error
    if run.stream_state in ("empty", "garbage") and error:
        run.stream_state = "error"
    # The orchestrator's list wins; else the runner's own, from the run frame.
    names = run.header.get("binary_names")
    _add_unstarted(run, expected_binaries or (
        names if isinstance(names, list) else None))
    return run


PANIC_RE = re.compile(r"Kernel panic|BUG:|Oops|general protection fault|"
                      r"WARNING:|KASAN|watchdog: .*hard LOCKUP|soft lockup")


def _truncation_cause(b: _Builder, lines: list[str]) -> str:
    """Why the stream stopped, from the console tail when it says so."""
    where = (f" while {b.current.name} was running" if b.current is not None
             else f" after the {b.last_frame} frame")
    tail = lines[-60:]
    hit = next((ln for ln in tail if "Kernel panic" in ln), None) or next(
        (ln for ln in tail if PANIC_RE.search(ln)), None)
    console = f"; console: {hit.strip()}" if hit else ""
    return f"stream ended without run-end{where}{console}"


def _add_unstarted(run: Run, expected: list[str] | None) -> None:
    seen = {b.name for b in run.binaries}
    for name in expected or []:
        if name in seen:
            continue
        run.binaries.append(Binary(
            name=name, complete=False,
            points=[Point(id=name, status="notrun",
                          reason=f"not run: {run.cause or 'runner skipped it'}")]))
