# SPDX-License-Identifier: GPL-2.0
"""The one way results reach the disk.

Every file faultline writes for its user (saved streams, report.json,
report.md, report.html, junit.xml) goes through write_result() (a whole
file) or a ResultFile (a stream saved as it arrives). A write the system
refuses (a full disk: ENOSPC, a quota: EDQUOT, an I/O error, a read-only
file system) becomes an OutputError that names the file, how many bytes
made it and why, so that the caller can say so at once, stop what is still
producing output and go on with what can still be written.

A whole file is written beside its name and renamed into place: a reader
never finds a half-written report, and one that did not fit leaves nothing
behind (its space goes to the next file)."""
from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType

# One write() at most this long: a refused write loses little progress.
CHUNK = 1 << 20


def human_size(n: int) -> str:
    """1536 -> '1.5 KiB'."""
    size = float(n)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{n} bytes" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} bytes"


class OutputError(Exception):
    """A result file could not be (completely) written."""

    def __init__(self, path: Path, written: int, err: OSError) -> None:
        self.path, self.written = path, written
        self.errno = err.errno
        self.strerror = err.strerror or str(err)
        super().__init__(f"cannot write {path}: {self.strerror} "
                         f"({human_size(written)} written)")


def _write_all(fd: int, data: bytes) -> int:
    """Write all of @data to @fd; its length. Raises OSError, with
    .written set to how many bytes made it."""
    view, done = memoryview(data), 0
    try:
        while done < len(data):
            done += os.write(fd, view[done:done + CHUNK])
    except OSError as e:
        e.written = done    # type: ignore[attr-defined]
        raise
    return done


def write_result(path: Path, data: str | bytes) -> int:
    """Write a whole result file; its size. OutputError if it cannot be."""
    blob = data.encode("utf-8") if isinstance(data, str) else data
    tmp = path.with_name(f".{path.name}.partial")
    written = 0
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC,
                     0o644)
        try:
            written = _write_all(fd, blob)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError as e:
        written = getattr(e, "written", written)
        try:
            tmp.unlink()
        except OSError:
            pass
        raise OutputError(path, written, e) from e
    return written


class ResultFile:
    """A result file written as data arrives (a target's stream): each
    write() goes to the file at once, so what was saved survives whatever
    happens to run.py next. OutputError once the system refuses a write;
    the file then keeps what fitted."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.written = 0
        try:
            self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC
                              | os.O_CLOEXEC, 0o644)
        except OSError as e:
            raise OutputError(path, 0, e) from e

    def write(self, data: bytes) -> None:
        try:
            self.written += _write_all(self.fd, data)
        except OSError as e:
            self.written += getattr(e, "written", 0)
            raise OutputError(self.path, self.written, e) from e

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> "ResultFile":
        return self

    def __exit__(self, kind: type[BaseException] | None,
                 exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
