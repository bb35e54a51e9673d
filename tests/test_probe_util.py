# SPDX-License-Identifier: GPL-2.0
"""Helpers for the uffd-probe tests (no tests here): run the probe, talk
to the kernel.

The direct kernel calls here (userfaultfd(2), UFFDIO_API, UFFDIO_REGISTER
through ctypes and fcntl.ioctl) are independent of the C code under test,
so the tests compare the probe against the kernel, not against itself.
"""
from __future__ import annotations

import ctypes
import errno
import fcntl
import json
import mmap
import os
import shutil
import struct
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

NR_USERFAULTFD = {"x86_64": 323, "aarch64": 282}.get(os.uname().machine, 323)
UFFD_API = 0xAA
UFFD_USER_MODE_ONLY = 1


def _iowr(nr: int, size: int) -> int:
    return (3 << 30) | (size << 16) | (0xAA << 8) | nr


UFFDIO_API = _iowr(0x3F, 24)
UFFDIO_REGISTER = _iowr(0x00, 32)
UFFDIO_UNREGISTER = (2 << 30) | (16 << 16) | (0xAA << 8) | 0x01

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


def uffd_create(flags: int = os.O_CLOEXEC | os.O_NONBLOCK) -> int:
    """userfaultfd(2); returns the fd or raises OSError."""
    fd = _libc.syscall(ctypes.c_long(NR_USERFAULTFD), ctypes.c_int(flags))
    if fd < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return fd


def uffd_api(fd: int, features: int = 0) -> tuple[int, int, int]:
    """UFFDIO_API handshake; (api, features, ioctls)."""
    buf = bytearray(struct.pack("=QQQ", UFFD_API, features, 0))
    fcntl.ioctl(fd, UFFDIO_API, buf)
    return struct.unpack("=QQQ", bytes(buf))


def register_anon(fd: int, mode: int) -> tuple[int, int]:
    """REGISTER one anonymous page with @mode: (errno or 0, ioctls)."""
    page = mmap.PAGESIZE
    area = mmap.mmap(-1, page, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    addr = ctypes.addressof(ctypes.c_char.from_buffer(area))
    try:
        buf = bytearray(struct.pack("=QQQQ", addr, page, mode, 0))
        try:
            fcntl.ioctl(fd, UFFDIO_REGISTER, buf)
        except OSError as e:
            return e.errno, 0
        ioctls = struct.unpack("=QQQQ", bytes(buf))[3]
        fcntl.ioctl(fd, UFFDIO_UNREGISTER, struct.pack("=QQ", addr, page))
        return 0, ioctls
    finally:
        del addr
        try:
            area.close()
        except BufferError:
            pass


def run(cmd: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30,
                          **kw)


_SCHEMA = Path(__file__).resolve().parent.parent / "probes" / "schema.json"


def validate(doc: dict[str, Any]) -> None:
    """Check @doc against probes/schema.json (when jsonschema exists)."""
    try:
        import jsonschema
    except ImportError:
        return
    jsonschema.validate(doc, json.loads(_SCHEMA.read_text()))


def probe_json(cmd: list[str]) -> dict[str, Any]:
    """Run the probe with --json; every document is schema-checked."""
    res = run(cmd + ["--json"])
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    validate(doc)
    return doc


def by_path(doc: dict[str, Any], path: str) -> dict[str, Any]:
    return next(a for a in doc["access"] if a["path"] == path)


def reg(doc: dict[str, Any], mem: str, mode: str) -> dict[str, Any]:
    return next(r for r in doc["register"]
                if r["mem"] == mem and r["mode"] == mode)


def as_nobody(cmd: list[str]) -> list[str]:
    return ["setpriv", "--reuid=nobody", "--regid=nogroup",
            "--clear-groups", *cmd]


def public_copy(src: Path, dst_dir: Path) -> Path:
    """Copy a binary where nobody can run it (/root is closed)."""
    dst = dst_dir / src.name
    shutil.copy2(src, dst)
    dst.chmod(0o755)
    return dst


@contextmanager
def public_dir(build_dir: Path, *binaries: str) -> Iterator[Path]:
    """A world-accessible temporary directory under /tmp holding copies
    of @binaries (paths under @build_dir); removed afterwards."""
    d = Path(tempfile.mkdtemp(prefix="uffd-probe-test-", dir="/tmp"))
    try:
        d.chmod(0o755)
        for b in binaries:
            public_copy(build_dir / b, d)
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def errno_value(name: str) -> int:
    return getattr(errno, name)
