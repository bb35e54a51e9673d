# SPDX-License-Identifier: GPL-2.0
"""Framed faultline stream (STREAM.md, version 1) -> Run.

StreamReader takes the stream a line at a time (as the runner writes it, or
from a saved file) and tells a StreamListener what happens on the way (that
is how run.py shows progress); finish() gives the Run. Never raises on bad
input: an empty, garbage or truncated stream becomes a Run whose
stream_state and cause say what happened, keeping every point that was
reported before the cut.
"""
from __future__ import annotations

import json
import re
from collections import deque
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from .model import Binary, Point, Run
from .perf import bench_not_run, bench_result
from .binary_points import finish_binary
from .payload import CONSOLE_LINE_KEEP, Payload, clip
from .skipfile import add_skipped
from .tapparse import classify_line
from .writer import OutputError, ResultFile

FRAME_RE = re.compile(r"^@@faultline ([a-z-]+)(?: (.*))?$")
CONSOLE_KEEP = 30
TAIL_LINES = 60     # searched for a panic line when a stream was cut
SUPPORTED_VERSION = "1"
# C0 controls (but tab) and DEL from a raw console: shown as U+FFFD so that
# no renderer (Markdown, HTML, XML) has to care.
_CONTROLS = dict.fromkeys([c for c in range(32) if c != 9] + [127], "\ufffd")


def _json(text: str | None) -> dict[str, Any]:
    return _frame_json(text) or {}


def _frame_json(text: str | None) -> dict[str, Any] | None:
    """A frame's JSON object; None when it is missing or damaged."""
    try:
        val = json.loads(text or "")
    except ValueError:
        return None
    return val if isinstance(val, dict) else None


# Frames whose JSON object is their content: one that does not parse (a
# line cut or garbled on a console) is not trusted as that frame.
JSON_FRAMES = frozenset({"run", "probe-end", "binary-begin", "kmsg", "at",
                         "binary-end", "run-end"})
NAME_RE = re.compile(r'"name":\s*"([^"\\]+)"')
CUT_PREFIX = "# stream cut mid-line: "


PRINTK_RE = re.compile(r"^\[\s*\d+\.\d+\] ")


def _probe_document(lines: list[str]) -> dict[str, Any] | None:
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


class StreamListener:
    """What a StreamReader reports while it reads; override what you need."""

    def run_started(self, header: dict[str, Any]) -> None:
        """The run frame (its `binaries`: how many will run)."""

    def binary_started(self, name: str) -> None:
        """A binary-begin frame."""

    def plan_reported(self, count: int) -> None:
        """The running binary's TAP plan (1..count)."""

    def result_reported(self, kind: str) -> None:
        """One TAP result line of the running binary: pass, fail or skip."""

    def binary_ended(self, binary: Binary) -> None:
        """The binary's points are final (also when the stream was cut)."""


# The orchestrator's own frame, appended to a saved stream after the last
# byte of the target's: what run.py knows about the target that the target
# cannot say itself (STREAM.md, "The orchestrator's frame").
TARGET_FRAME = "target"


def target_frame(target: str, error: str | None = None,
                 info: dict[str, Any] | None = None,
                 binaries: list[str] | None = None,
                 skipped: list[dict[str, str]] | None = None) -> str:
    """The `@@faultline target {...}` line (without its newline)."""
    facts: dict[str, Any] = {"target": target, "error": error,
                             "info": info or {}, "binaries": binaries}
    if skipped is not None:
        facts["skipped"] = skipped
    return f"@@faultline {TARGET_FRAME} " + json.dumps(
        facts, sort_keys=True, default=str, separators=(",", ":"))


def _cut_frame(frame: str) -> str:
    """@frame saying that the target's last line was cut before its newline
    (run.py ends that line to write the frame; the reader must not take
    the fragment for a whole line)."""
    facts = _json(frame[len(f"@@faultline {TARGET_FRAME} "):])
    facts["cut_line"] = True
    return f"@@faultline {TARGET_FRAME} " + json.dumps(
        facts, sort_keys=True, default=str, separators=(",", ":"))


def append_target_frame(text: str, frame: str) -> str:
    """A saved stream: the target's text, then the frame on its own line."""
    if text and not text.endswith("\n"):
        return f"{text}\n{_cut_frame(frame)}\n"
    return f"{text}{frame}\n"


class StreamTee:
    """A target's stream as it arrives: saved byte for byte (@saved; None
    when it could not be opened) and fed to @reader complete line by
    complete line. A refused write goes to @on_error once; the reading goes
    on. finish() ends both with the orchestrator's target frame; a last
    line the target never ended reaches the reader as a cut fragment
    (StreamReader.feed_cut), never as a result or a frame."""

    def __init__(self, reader: "StreamReader", saved: ResultFile | None,
                 on_error: Callable[[OutputError], None]) -> None:
        self.reader, self.saved, self.on_error = reader, saved, on_error
        self.pending = b""

    def _save(self, data: bytes) -> None:
        if self.saved is None:
            return
        try:
            self.saved.write(data)
        except OutputError as e:
            self.saved = None       # it keeps what fitted
            self.on_error(e)

    def feed(self, chunk: bytes) -> None:
        self._save(chunk)
        lines = (self.pending + chunk).split(b"\n")
        self.pending = lines.pop()
        for raw in lines:
            self.reader.feed(raw.decode("utf-8", "replace"))

    def finish(self, frame: str) -> None:
        if self.pending:
            self.reader.feed_cut(self.pending.decode("utf-8", "replace"))
            frame = "\n" + _cut_frame(frame)
        self._save(frame.encode() + b"\n")
        self.reader.feed(frame.lstrip("\n"))


class StreamReader:
    """State machine over the stream's lines."""

    def __init__(self, listener: StreamListener | None = None) -> None:
        self.run = Run()
        self.listener = listener or StreamListener()
        self.facts: dict[str, Any] = {}
        self.header = False
        self.ended = False
        self.section: str | None = None
        self.payload = Payload()
        self.current: Binary | None = None
        self.marks: list[tuple[int, int]] = []
        self.last_frame = "none"
        self.lines = 0
        self.content = False
        self.tail: deque[str] = deque(maxlen=TAIL_LINES)
        # the benchmark's section: bench-begin's facts, its kmsg frames
        self.bench: tuple[dict[str, Any], list[dict[str, Any]]] | None = None
        self.console_tail: deque[str] = deque(maxlen=CONSOLE_KEEP)

    def feed(self, raw: str) -> None:
        """One line, without its newline."""
        line = raw.rstrip("\r").translate(_CONTROLS)
        m = FRAME_RE.match(line)
        if m and m.group(1) == TARGET_FRAME:
            self.facts = _json(m.group(2))
            return
        self.lines += 1
        self.content = self.content or bool(raw.strip())
        brief = clip(line, CONSOLE_LINE_KEEP)
        self.tail.append(brief)
        if line.strip():
            self.console_tail.append(brief)
        if m and m.group(1) in JSON_FRAMES and m.group(1) != "binary-begin" \
                and _frame_json(m.group(2)) is None:
            # Not a frame we can trust (cut, garbled): kept as text. (A
            # binary began even if its frame is damaged: _binary_name.)
            line, m = f"# damaged frame: {line}", None
        if not m:
            if self.section:
                if self.payload.add(line) and self.section == "binary":
                    self._classify(line)
            elif line.strip():
                self.run.console.append(brief)
                del self.run.console[:-CONSOLE_KEEP]
            return
        self.last_frame = m.group(1)
        self._frame(m.group(1), m.group(2))

    def feed_cut(self, fragment: str) -> None:
        """The target's last line, cut before its newline: never a result
        or a frame, only a note where it was cut."""
        if fragment.strip():
            self.feed(CUT_PREFIX + fragment)

    def _frame(self, kw: str, arg: str | None) -> None:
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
                self.run.probe = _probe_document(self.payload)
                self.run.probe_exit = end.get("exit")
                self.run.probe_stderr = end.get("stderr") or end.get("error")
            self.section, self.payload = None, Payload()
        elif kw == "binary-begin":
            self._open("binary")
            d = _json(arg)
            self.current = Binary(name=self._binary_name(d, arg),
                                  path=d.get("path"))
            self.marks = []
            self._mark(d)
            self.listener.binary_started(self.current.name)
        elif kw == "bench-begin":
            self._open("bench")
            self.bench = (_json(arg), [])
        elif kw == "bench-end":
            self._end_bench(_json(arg))
        elif kw == "kmsg":
            if self.current is not None:
                self._kmsg(_json(arg))
            elif self.section == "bench" and self.bench:
                self.bench[1].append(_json(arg))
        elif kw == "at":
            self._mark(_json(arg))
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

    def _binary_name(self, d: dict[str, Any], arg: str | None) -> str:
        """The binary a binary-begin frame names; from a damaged frame
        whatever it still says, else the next one the runner's list names."""
        if d.get("name"):
            return str(d["name"])
        m = NAME_RE.search(arg or "")
        if m:
            return m.group(1)
        names = self.run.header.get("binary_names")
        seen = {b.name for b in self.run.binaries}
        left = [str(n) for n in names if str(n) not in seen] \
            if isinstance(names, list) else []
        return left[0] if left else f"binary-{len(self.run.binaries) + 1}"

    def _kmsg(self, d: dict[str, Any]) -> None:
        """A kernel log record, with its place among the binary's lines
        (which point was running: kernel_log.py)."""
        assert self.current is not None
        rec: dict[str, Any] = {"line": str(d.get("line", "")),
                               "alert": bool(d.get("alert"))}
        for key in ("level", "time_us"):
            if isinstance(d.get(key), int):
                rec[key] = d[key]
        rec["at"] = len(self.payload)
        self.current.kmsg.append(rec)

    def _end_bench(self, end: dict[str, Any] | None) -> None:
        """The benchmark's section ends (@end None: the stream was cut in
        it): its JSON and facts become the run's `bench` (perf.py)."""
        if self.section == "bench" and self.bench is not None:
            self.run.bench = bench_result(self.bench[0],
                                          _probe_document(self.payload),
                                          end, self.bench[1])
        self.section, self.payload = None, Payload()

    def _mark(self, d: dict[str, Any]) -> None:
        """The runner's read time of the lines that follow (`at` frame,
        and binary-begin's own), when the stream carries it."""
        if self.section == "binary" and isinstance(d.get("time_us"), int):
            self.marks.append((len(self.payload), d["time_us"]))

    def _classify(self, line: str) -> None:
        kind, plan = classify_line(line)
        if kind == "plan" and plan:
            self.listener.plan_reported(plan)
        elif kind in ("pass", "fail", "skip"):
            self.listener.result_reported(kind)

    def _run_header(self, d: dict[str, Any]) -> None:
        r = self.run
        r.header = d
        r.kernel = {k: d.get(k) for k in ("release", "version", "machine",
                                          "hostname")}
        r.started = d.get("started")
        r.faultline_version = d.get("faultline_version")
        r.cmdline = d.get("cmdline")
        r.nr_hugepages = d.get("nr_hugepages")
        self.listener.run_started(d)

    def _open(self, section: str) -> None:
        self._close_open("a new section began before this binary ended")
        # The probe's and the benchmark's sections are one JSON line each.
        self.section, self.payload = section, Payload(
            whole_lines=section in ("probe", "bench"))

    def _close_open(self, cause: str) -> None:
        if self.section == "binary" and self.current is not None:
            self._close_binary(None, cause)
        elif self.section == "bench":
            self._end_bench(None)
        self.section, self.payload = None, Payload()

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
        note = self.payload.note()
        if note:
            b.dropped = self.payload.dropped_bytes
            self.payload.append(note)
        jobs = self.run.header.get("jobs")
        finish_binary(b, self.payload, cut_cause, self.marks,
                      jobs if isinstance(jobs, int) else None)
        self.run.binaries.append(b)
        self.current, self.section, self.payload = None, None, Payload()
        self.listener.binary_ended(b)

    def finish(self) -> Run:
        """The Run, once every line has been fed."""
        run, facts = self.run, self.facts
        error = facts.get("error")
        run.info = dict(facts.get("info") or {})
        # The orchestrator names the target; on the host the runner may.
        run.target = str(facts.get("target") or "host")
        if run.target == "host" and run.header.get("target"):
            run.target = str(run.header["target"])
        if not self.content:
            run.stream_state = "empty"
            run.cause = error or "empty stream: the target produced no output"
        elif not self.header:
            run.stream_state = "garbage"
            run.cause = error or (f"no '@@faultline stream' header in "
                                  f"{self.lines} lines of output")
            run.console = list(self.console_tail)
        elif not self.ended:
            cause = error or run.cause or self._truncation_cause()
            self._close_open(cause)
            run.stream_state = "truncated"
            run.cause = cause
            run.console = list(self.console_tail)
        elif error:
            run.cause = f"{error}; {run.cause}" if run.cause else error
        if run.stream_state in ("empty", "garbage") and error:
            run.stream_state = "error"
        # The runner's own list of what it was given; the orchestrator's
        # only when the target never said (it never started).
        names = run.header.get("binary_names")
        _add_unstarted(run, names if isinstance(names, list)
                       else facts.get("binaries"))
        add_skipped(run, facts.get("skipped"))
        if run.bench is None and run.header.get("bench"):
            run.bench = bench_not_run(run.header["bench"], run.cause)
        return run

    def _truncation_cause(self) -> str:
        """Why the stream stopped, from the console tail when it says so."""
        where = (f" while {self.current.name} was running"
                 if self.current is not None
                 else f" after the {self.last_frame} frame")
        hit = next((ln for ln in self.tail if "Kernel panic" in ln), None) or next(
            (ln for ln in self.tail if PANIC_RE.search(ln)), None)
        console = f"; console: {hit.strip()}" if hit else ""
        return f"stream ended without run-end{where}{console}"


def _feed_all(reader: StreamReader, lines: Iterable[str]) -> None:
    """Feed @lines (each with its newline; the last may have none) one at a
    time, so memory does not grow with the stream. Only whole lines count:
    a last line without its newline was cut, and so was the one before
    run.py's frame when the frame says so (it ended that line to write
    itself)."""
    held: list[str] = []        # the last two whole lines, not fed yet
    cut = ""
    for raw in lines:
        if not raw.endswith("\n"):
            cut = raw
            break
        held.append(raw[:-1])
        if len(held) > 2:
            reader.feed(held.pop(0))
    prefix = f"@@faultline {TARGET_FRAME} "
    if not cut and len(held) == 2 and held[1].startswith(prefix) and \
            _json(held[1][len(prefix):]).get("cut_line"):
        reader.feed_cut(held[0])
        reader.feed(held[1])
        return
    for line in held:
        reader.feed(line)
    reader.feed_cut(cut)


def _text_lines(text: str) -> Iterator[str]:
    """@text's lines with their newlines, one at a time (split on \\n only)."""
    pos = 0
    while pos < len(text):
        nl = text.find("\n", pos)
        end = len(text) if nl < 0 else nl + 1
        yield text[pos:end]
        pos = end


def parse_stream(text: str, listener: StreamListener | None = None) -> Run:
    """Parse a whole stream (a saved one ends with the orchestrator's
    target frame)."""
    reader = StreamReader(listener)
    _feed_all(reader, _text_lines(text))
    return reader.finish()


def read_stream_file(path: Path, listener: StreamListener | None = None) -> Run:
    """A saved stream file, read a line at a time. One written before the
    target frame existed has its facts in a sidecar <name>.meta.json, read
    as that frame."""
    legacy = path.with_suffix(".meta.json")
    frame = _legacy_frame(legacy) if legacy.is_file() else None
    reader = StreamReader(listener)
    with path.open("rb") as f:
        _feed_all(reader, (raw.decode("utf-8", "replace") for raw in f))
    if frame is not None and not reader.facts:
        reader.feed(frame)
    return reader.finish()


def _legacy_frame(legacy: Path) -> str:
    """The target frame a <name>.meta.json stands for."""
    try:
        meta = json.loads(legacy.read_text(encoding="utf-8"))
    except ValueError as e:
        raise ValueError(f"{legacy}: {e}") from e
    names = meta.get("expected_binaries") if isinstance(meta, dict) else None
    if not isinstance(meta, dict) or not isinstance(meta.get("info") or {}, dict) \
            or not isinstance(names or [], list):
        raise ValueError(f"{legacy}: not a faultline meta.json (an object with "
                         "target, error, info, expected_binaries)")
    return target_frame(str(meta.get("target") or "host"), meta.get("error"),
                        meta.get("info"), [str(n) for n in names or []])


PANIC_RE = re.compile(r"Kernel panic|BUG:|Oops|general protection fault|"
                      r"WARNING:|KASAN|watchdog: .*hard LOCKUP|soft lockup")


def _add_unstarted(run: Run, expected: list[str] | None) -> None:
    seen = {b.name for b in run.binaries}
    for name in expected or []:
        if name in seen:
            continue
        run.binaries.append(Binary(
            name=name, complete=False,
            points=[Point(id=name, status="notrun",
                          reason=f"not run: {run.cause or 'runner skipped it'}")]))
