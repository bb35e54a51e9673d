# SPDX-License-Identifier: GPL-2.0
"""What the runner's tests share: the stream parsed strictly, the runner and
fake case fixtures, running it, and the machine's huge page counters."""
from __future__ import annotations

import fcntl
import json
import os
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pytest


FRAME = "@@faultline "
FAKE_MODES = ("pass", "hang", "hang-noterm", "crash", "trunc", "stderr",
              "kmsg", "leak", "flood", "forge")


@dataclass
class Binary:
    begin: dict[str, Any]
    end: dict[str, Any] | None = None
    payload: list[str] = field(default_factory=list)
    kmsg: list[dict[str, Any]] = field(default_factory=list)
    # `at` frames: (index of the payload line that follows, time_us)
    stamps: list[tuple[int, int]] = field(default_factory=list)


@dataclass
class Stream:
    run: dict[str, Any]
    probe_payload: list[str] | None = None
    probe_end: dict[str, Any] | None = None
    binaries: list[Binary] = field(default_factory=list)
    end: dict[str, Any] | None = None
    # --bench: bench-begin/bench-end's facts, the payload, its kmsg frames
    bench_begin: dict[str, Any] | None = None
    bench_end: dict[str, Any] | None = None
    bench_payload: list[str] = field(default_factory=list)
    bench_kmsg: list[dict[str, Any]] = field(default_factory=list)

    def binary(self, name: str) -> Binary:
        found = [b for b in self.binaries if b.begin["name"] == name]
        assert len(found) == 1, f"{name}: {len(found)} sections"
        return found[0]


def parse_stream(text: str, vm: bool = False) -> Stream:
    """Parse and check the framing strictly (a runner bug must fail here).
    @vm: a console, where kernel messages are noise outside the sections,
    also after run-end (QEMU may let the guest print while it exits)."""
    if vm:
        # PID 1 writes "\n" before each frame; nothing else is blank.
        lines = [ln for ln in text.split("\n") if ln != ""]
    else:
        assert text.endswith("\n"), "the stream must end with a newline"
        lines = text[:-1].split("\n")
    assert lines[0] == "@@faultline stream 1"
    kw, _, arg = lines[1].partition(" ")[2].partition(" ")
    assert lines[1].startswith(FRAME) and kw == "run"
    s = Stream(run=json.loads(arg))
    section: str | None = None
    cur: Binary | None = None
    for ln in lines[2:]:
        if s.end is not None and vm and not ln.startswith(FRAME):
            continue            # console noise after the stream
        assert s.end is None, f"line after run-end: {ln!r}"
        if not ln.startswith(FRAME):
            if vm and not section:
                continue        # kernel messages on the console
            assert section, f"payload outside a section: {ln!r}"
            {"binary": cur.payload if cur else None, "bench": s.bench_payload,
             "probe": s.probe_payload}[section].append(ln)
            continue
        kw, _, arg = ln[len(FRAME):].partition(" ")
        data = json.loads(arg) if arg else None
        if kw == "probe-begin":
            assert section is None and s.probe_payload is None and not s.binaries
            assert data is None
            section, s.probe_payload = "probe", []
        elif kw == "probe-end":
            assert section == "probe"
            section, s.probe_end = None, data
        elif kw == "binary-begin":
            assert section is None, "binary-begin inside a section"
            cur = Binary(begin=data)
            s.binaries.append(cur)
            section = "binary"
        elif kw == "kmsg":
            assert section in ("binary", "bench") and isinstance(data["alert"], bool)
            (cur.kmsg if section == "binary" else s.bench_kmsg).append(data)
        elif kw == "at":
            assert section == "binary", "an `at` frame outside a binary"
            assert set(data) == {"time_us"} and isinstance(data["time_us"], int)
            cur.stamps.append((len(cur.payload), data["time_us"]))
        elif kw == "binary-end":
            assert section == "binary" and data["name"] == cur.begin["name"]
            for key in ("exit", "signal", "timed_out", "duration_ms", "kmsg_alert"):
                assert key in data, f"binary-end lacks {key}"
            assert data["kmsg_alert"] == any(k["alert"] for k in cur.kmsg)
            cur.end, section = data, None
        elif kw == "bench-begin":
            assert section is None and s.bench_begin is None
            assert s.run.get("bench") == data["path"]
            section, s.bench_begin = "bench", data
        elif kw == "bench-end":
            assert section == "bench" and data["path"] == s.bench_begin["path"]
            for key in ("exit", "signal", "timed_out", "duration_ms", "kmsg_alert"):
                assert key in data, f"bench-end lacks {key}"
            assert data["kmsg_alert"] == any(k["alert"] for k in s.bench_kmsg)
            section, s.bench_end = None, data
        elif kw == "run-end":
            assert section is None
            s.end = data
        else:
            raise AssertionError(f"unknown frame {kw!r}")
    assert s.end is not None, "no run-end"
    return s


def run(runner: Path, *args: str, env: dict[str, str] | None = None,
        timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(runner), *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


NR_HUGEPAGES = Path("/proc/sys/vm/nr_hugepages")


def huge_free() -> int:
    """Free huge pages not promised to a mapping (as the harness counts)."""
    info = dict(ln.split(":", 1) for ln in
                Path("/proc/meminfo").read_text().splitlines())
    return int(info["HugePages_Free"]) - int(info["HugePages_Rsvd"])


def more_than_there_are() -> int:
    """Free pages to ask a run for so that it must raise nr_hugepages, even
    once another run holding the pool now has given its own back."""
    return max(huge_free(), int(NR_HUGEPAGES.read_text())) + 4


def hugetlb_writable() -> bool:
    return (os.geteuid() == 0 and NR_HUGEPAGES.exists()
            and os.access(NR_HUGEPAGES, os.W_OK))


POOL_LOCK = Path("/run/faultline-hugepages.lock")
# Other engineers' runs on a shared host hold the pool for a while.
POOL_WAIT_S = 300


@contextmanager
def pool_lock(wait_s: float = POOL_WAIT_S) -> Iterator[int]:
    """Hold the huge page pool as a run does: nr_hugepages then stays put."""
    fd = os.open(POOL_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + wait_s
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    pytest.skip("another run held the huge page pool too long")
                time.sleep(0.2)
        yield fd
    finally:
        os.close(fd)


def run_frame(head: list[str]) -> dict[str, Any]:
    """The run frame of a stream still being written (its first lines)."""
    return parse_stream("".join(head[:2]) + "@@faultline run-end {}\n").run


def run_pooled(runner: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """run() for a run that needs the pool: a shared host's other runs may
    hold it longer than a test can wait (a skip, not a failure)."""
    try:
        return run(runner, *args, timeout=POOL_WAIT_S)
    except subprocess.TimeoutExpired as e:
        if b"waiting for run PID" in (e.stderr or b""):
            pytest.skip("another run held the huge page pool too long")
        raise
