# SPDX-License-Identifier: GPL-2.0
"""A newc (SVR4 "070701") cpio writer and reader: the initramfs format the
kernel unpacks. Written here so no cpio program is needed."""
from __future__ import annotations

import gzip
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

MAGIC = b"070701"
TRAILER = "TRAILER!!!"


@dataclass
class Entry:
    name: str           # path inside the archive, no leading "/"
    mode: int           # st_mode: type and permission bits
    data: bytes = b""   # file contents or symlink target
    rdev: tuple[int, int] = (0, 0)


def _pad(n: int) -> bytes:
    return b"\0" * (-n % 4)


def _header(ino: int, e: Entry, namesize: int) -> bytes:
    fields = (ino, e.mode, 0, 0, 2 if stat.S_ISDIR(e.mode) else 1, 0, len(e.data),
              0, 0, e.rdev[0], e.rdev[1], namesize, 0)
    return MAGIC + b"".join(b"%08X" % f for f in fields)


def newc_bytes(entries: list[Entry]) -> bytes:
    """Serialize @entries (plus missing parent directories) as newc cpio."""
    seen: set[str] = set()
    ordered: list[Entry] = []
    for e in entries:
        name = str(PurePosixPath(e.name.lstrip("/")))
        for parent in reversed(PurePosixPath(name).parents):
            p = str(parent)
            if p != "." and p not in seen:
                seen.add(p)
                ordered.append(Entry(p, stat.S_IFDIR | 0o755))
        if name in seen:
            continue
        seen.add(name)
        ordered.append(Entry(name, e.mode, e.data, e.rdev))
    out = bytearray()
    for ino, e in enumerate(ordered + [Entry(TRAILER, 0)], start=1):
        name = e.name.encode() + b"\0"
        hdr = _header(0 if e.name == TRAILER else ino, e, len(name))
        out += hdr + name + _pad(len(hdr) + len(name))
        out += e.data + _pad(len(e.data))
    out += _pad(len(out))
    return bytes(out)


def read_newc(blob: bytes) -> list[Entry]:
    """Parse a newc archive (gzip or plain; several concatenated ones too, as
    the kernel accepts) back into entries (trailers excluded)."""
    if blob[:2] == b"\x1f\x8b":
        blob = gzip.decompress(blob)
    entries: list[Entry] = []
    pos = 0
    while True:
        if blob[pos:pos + 6] != MAGIC:
            raise ValueError(f"bad newc magic at offset {pos}")
        f = [int(blob[pos + 6 + 8 * i:pos + 14 + 8 * i], 16) for i in range(13)]
        mode, size, rmaj, rmin, namesize = f[1], f[6], f[9], f[10], f[11]
        pos += 110
        name = blob[pos:pos + namesize - 1].decode()
        pos += namesize + (-(110 + namesize) % 4)
        data = blob[pos:pos + size]
        pos += size + (-size % 4)
        if name == TRAILER:
            while pos < len(blob) and blob[pos] == 0:
                pos += 1
            if pos >= len(blob):
                return entries
            continue
        entries.append(Entry(name, mode, data, (rmaj, rmin)))


def build_initramfs(out: Path, init: Path, files: dict[str, Path],
                    compress: bool = False) -> Path:
    """Write an initramfs with @init as /init and @files (archive path -> host
    file), plus /dev/console so PID 1 has a console before devtmpfs."""
    entries = [
        Entry("dev", stat.S_IFDIR | 0o755),
        Entry("dev/console", stat.S_IFCHR | 0o600, rdev=(5, 1)),
        Entry("proc", stat.S_IFDIR | 0o755), Entry("sys", stat.S_IFDIR | 0o755),
        Entry("tmp", stat.S_IFDIR | 0o1777),
        Entry("init", stat.S_IFREG | 0o755, init.read_bytes()),
    ]
    for name, src in sorted(files.items()):
        entries.append(Entry(name, stat.S_IFREG | (src.stat().st_mode & 0o777),
                             src.read_bytes()))
    blob = newc_bytes(entries)
    if compress:
        blob = gzip.compress(blob, compresslevel=1)
    tmp = out.with_suffix(".tmp")
    tmp.write_bytes(blob)
    tmp.replace(out)
    return out


def with_extra_files(base: Path, out: Path, files: dict[str, bytes]) -> Path:
    """@base followed by a second newc archive holding @files (the kernel
    unpacks concatenated archives in order): per-kernel files such as
    /boot/config-<release> without rebuilding the common part."""
    extra = newc_bytes([Entry(n, stat.S_IFREG | 0o644, d) for n, d in files.items()])
    tmp = out.with_suffix(".tmp")
    with tmp.open("wb") as o, base.open("rb") as i:
        while chunk := i.read(1 << 20):
            o.write(chunk)
        o.write(extra)
    tmp.replace(out)
    return out
