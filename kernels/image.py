# SPDX-License-Identifier: GPL-2.0
"""Kernel image handling: .deb members, vmlinux out of a bzImage, config facts."""
from __future__ import annotations

import bz2
import io
import lzma
import re
import shutil
import struct
import subprocess
import tarfile
import zlib
from pathlib import Path
from typing import IO, Callable

ELF_MAGIC = b"\x7fELF"
# Compressed payload magics, as the kernel's own decompressors expect them.
MAGICS: list[tuple[str, bytes]] = [
    ("gzip", b"\x1f\x8b\x08"),
    ("xz", b"\xfd7zXZ\x00"),
    ("zstd", b"\x28\xb5\x2f\xfd"),
    ("bzip2", b"BZh"),
    ("lz4", b"\x02\x21\x4c\x18"),
    ("lzma", b"\x5d\x00\x00"),
]
# Config options worth stating in a report about userfaultfd.
CONFIG_KEYS = ("USERFAULTFD", "HAVE_ARCH_USERFAULTFD_WP", "HAVE_ARCH_USERFAULTFD_MINOR",
               "PTE_MARKER_UFFD_WP", "HUGETLBFS", "SHMEM", "TRANSPARENT_HUGEPAGE",
               "MEMORY_FAILURE", "PVH", "DEVTMPFS", "BLK_DEV_INITRD",
               "SERIAL_8250_CONSOLE", "KASAN", "PROVE_LOCKING")


class ImageError(RuntimeError):
    """A kernel image or package we cannot use (the message says why)."""


class MissingTool(ImageError):
    """A decompressor program is needed and not installed."""


# ---- .deb (ar archive holding data.tar.*) ---------------------------------

def _ar_members(f: IO[bytes]):
    if f.read(8) != b"!<arch>\n":
        raise ImageError("not a .deb (ar) archive")
    while True:
        hdr = f.read(60)
        if len(hdr) < 60:
            return
        name = hdr[:16].decode().strip().rstrip("/")
        size = int(hdr[48:58].decode().strip())
        yield name, size
        f.seek(size + (size & 1), 1)


def _data_tar(deb: Path) -> tuple[int, int, str]:
    with deb.open("rb") as f:
        for name, size in _ar_members(f):
            if name.startswith("data.tar"):
                return f.tell(), size, name
    raise ImageError(f"{deb.name}: no data.tar member")


def extract_deb_members(deb: Path, out: Path, want: dict[str, re.Pattern]) -> dict[str, Path]:
    """Extract the regular files of @deb whose path matches a pattern of @want.

    Returns key -> extracted path (file name kept, put in @out).
    """
    off, size, name = _data_tar(deb)
    with deb.open("rb") as f:
        f.seek(off)
        blob = f.read(size)
    if name.endswith(".zst"):
        blob = _zstd(blob)
        mode = "r:"
    else:
        mode = {"data.tar.xz": "r:xz", "data.tar.gz": "r:gz", "data.tar.bz2": "r:bz2",
                "data.tar": "r:"}.get(name)
        if mode is None:
            raise ImageError(f"{deb.name}: unsupported {name}")
    got: dict[str, Path] = {}
    with tarfile.open(fileobj=io.BytesIO(blob), mode=mode) as tar:
        for m in tar:
            if not m.isfile():
                continue
            for key, pat in want.items():
                if key not in got and pat.match(m.name):
                    dst = out / Path(m.name).name
                    src = tar.extractfile(m)
                    assert src is not None
                    with dst.open("wb") as o:
                        shutil.copyfileobj(src, o)
                    got[key] = dst
    return got


def _zstd(blob: bytes) -> bytes:
    """zstd is not in Python's stdlib here: use Debian's zstd CLI."""
    if not shutil.which("zstd"):
        raise MissingTool("zstd-compressed data needs the zstd program "
                         "(scripts/deps.sh vm installs it)")
    p = subprocess.run(["zstd", "-dcq"], input=blob, capture_output=True)
    if p.returncode != 0 and not p.stdout:
        raise ImageError(f"zstd failed: {p.stderr.decode(errors='replace').strip()}")
    return p.stdout


# ---- vmlinux out of bzImage / vmlinuz ---------------------------------------

def _bzimage_payload(data: bytes) -> bytes | None:
    """The compressed payload as the boot header describes it (protocol 2.08+)."""
    if len(data) < 0x250 or data[0x202:0x206] != b"HdrS":
        return None
    version = struct.unpack_from("<H", data, 0x206)[0]
    if version < 0x208:
        return None
    setup_sects = data[0x1f1] or 4
    off, length = struct.unpack_from("<II", data, 0x248)
    start = (setup_sects + 1) * 512 + off
    return data[start:start + length] if length else None


def _decompress(kind: str, blob: bytes) -> bytes:
    if kind == "gzip":
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(blob)
    if kind == "xz":
        return lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(blob)
    if kind == "lzma":
        return lzma.LZMADecompressor(format=lzma.FORMAT_ALONE).decompress(blob)
    if kind == "bzip2":
        return bz2.BZ2Decompressor().decompress(blob)
    if kind == "zstd":
        # The kernel appends the 4-byte uncompressed size after the frame.
        return _zstd(blob[:-4]) if blob[-4:] else _zstd(blob)
    if kind == "lz4":
        if not shutil.which("lz4"):
            raise MissingTool("lz4-compressed kernel needs the lz4 program "
                              "(scripts/deps.sh vm installs it)")
        p = subprocess.run(["lz4", "-dcq"], input=blob, capture_output=True)
        return p.stdout
    raise ImageError(f"unsupported compression {kind}")


def _is_elf(data: bytes) -> bool:
    return data.startswith(ELF_MAGIC)


def _try(kind: str, blob: bytes, accept: Callable[[bytes], bool] = _is_elf) -> bytes | None:
    try:
        out = _decompress(kind, blob)
    except MissingTool:
        raise
    except (OSError, EOFError, lzma.LZMAError, zlib.error, ImageError):
        return None
    return out if accept(out) else None


def _search(data: bytes, accept: Callable[[bytes], bool]) -> tuple[bytes, str] | None:
    """Look for every compression magic anywhere in @data; the first payload
    that decompresses to something @accept takes wins."""
    for kind, magic in MAGICS:
        pos = data.find(magic)
        while pos != -1:
            out = _try(kind, data[pos:], accept)
            if out is not None:
                return out, kind
            pos = data.find(magic, pos + 1)
    return None


def vmlinux_bytes(data: bytes) -> tuple[bytes, str]:
    """Uncompressed ELF kernel from @data (a vmlinux, bzImage or vmlinuz)."""
    if data.startswith(ELF_MAGIC):
        return data, "none"
    payload = _bzimage_payload(data)
    if payload is not None:
        for kind, magic in MAGICS:
            if payload.startswith(magic):
                out = _try(kind, payload)
                if out is not None:
                    return out, kind
    # Old or odd images: look for every magic anywhere, first that decompresses.
    found = _search(data, _is_elf)
    if found is None:
        raise ImageError("no compressed ELF kernel found in the image "
                         "(tried gzip, xz, zstd, bzip2, lz4, lzma)")
    return found


# ---- arm64 / riscv64 boot Image ---------------------------------------------

def raw_image_arch(data: bytes) -> str | None:
    """The architecture of a raw boot Image by its header magic: arm64's
    "ARM\x64" at 56 (Documentation/arch/arm64/booting.rst), riscv's "RSC\x05"
    at 56 or the older "RISCV" at 48 (Documentation/arch/riscv/boot-image-header.rst)."""
    if data[56:60] == b"ARM\x64":
        return "arm64"
    if data[56:60] == b"RSC\x05" or data[48:56] == b"RISCV\0\0\0":
        return "riscv64"
    return None


def boot_image_bytes(data: bytes, arch: str) -> tuple[bytes, str]:
    """The raw boot Image of @arch from @data: a raw Image, an Image.gz (or
    another compression), or an EFI zboot image (a PE file carrying the
    compressed Image). QEMU's riscv loader takes no compressed image, and a
    raw arm64 Image boots without the firmware a zboot image needs."""
    if raw_image_arch(data) == arch:
        return data, "none"
    found = _search(data, lambda out: raw_image_arch(out) == arch)
    if found is None:
        raise ImageError(f"no {arch} boot Image found in the kernel image "
                         f"(tried raw, gzip, xz, zstd, bzip2, lz4, lzma)")
    return found


def extract_boot_image(image: Path, out: Path, arch: str) -> tuple[Path, str]:
    """The raw boot Image of @arch in @image, and its compression: @image
    itself when it is one already, else decompressed into @out."""
    data, kind = boot_image_bytes(image.read_bytes(), arch)
    if kind == "none":
        return image, kind
    tmp = out.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(out)
    return out, kind


# ELF e_machine -> Debian architecture.
_ELF_MACHINES = {62: "amd64", 183: "arm64", 243: "riscv64"}


def image_arch(data: bytes) -> str | None:
    """The architecture of a user's kernel image: ELF machine, bzImage
    header (x86), raw Image magic, or a compressed Image inside; None if
    none of these fits ("ELF machine <n>" for an ELF of another one)."""
    if data.startswith(ELF_MAGIC) and len(data) > 20:
        machine = struct.unpack_from("<H", data, 18)[0]
        return _ELF_MACHINES.get(machine, f"ELF machine {machine}")
    if _bzimage_payload(data) is not None:
        return "amd64"
    raw = raw_image_arch(data)
    if raw:
        return raw
    found = _search(data, lambda out: raw_image_arch(out) is not None)
    return raw_image_arch(found[0]) if found else None


def extract_vmlinux(image: Path, out: Path) -> str:
    """Write the uncompressed kernel of @image to @out; return the compression."""
    data, kind = vmlinux_bytes(image.read_bytes())
    tmp = out.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(out)
    return kind


def elf_damage(data: bytes) -> str | None:
    """Why a 64-bit ELF kernel cannot be whole (truncated, damaged), or
    None: its program header table and every segment's bytes must lie
    inside the file."""
    if len(data) < 64 or data[4] != 2:
        return f"not a 64-bit ELF file ({len(data)} bytes)"
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    end = phoff + phentsize * phnum
    if phentsize < 56 or end > len(data):
        return f"program headers end at byte {end}, the file has {len(data)}"
    for i in range(phnum):
        p_type, _, p_offset, _, _, p_filesz = struct.unpack_from(
            "<IIQQQQ", data, phoff + i * phentsize)
        if p_type and p_offset + p_filesz > len(data):
            return (f"segment {i} ends at byte {p_offset + p_filesz}, "
                    f"the file has {len(data)} (truncated?)")
    return None


def check_kernel_image(path: Path) -> None:
    """ImageError if the kernel QEMU is to load is visibly damaged (an ELF
    cut short); raw boot Images carry no size to check."""
    with path.open("rb") as f:
        data = f.read()
    if data.startswith(ELF_MAGIC):
        why = elf_damage(data)
        if why:
            raise ImageError(why)
    elif len(data) < 64:
        raise ImageError(f"{len(data)} bytes, too short for a kernel")


def has_pvh_note(vmlinux: Path) -> bool:
    """True if the ELF kernel has the Xen PVH entry note QEMU boots directly."""
    data = vmlinux.read_bytes()
    if not data.startswith(ELF_MAGIC) or elf_damage(data):
        return False
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    for i in range(phnum):
        p_type, _, p_offset, _, _, p_filesz = struct.unpack_from(
            "<IIQQQQ", data, phoff + i * phentsize)
        if p_type != 4:         # PT_NOTE
            continue
        pos, end = p_offset, min(p_offset + p_filesz, len(data))
        while pos + 12 <= end:
            namesz, descsz, ntype = struct.unpack_from("<III", data, pos)
            name = data[pos + 12:pos + 12 + namesz].rstrip(b"\0")
            if name == b"Xen" and ntype == 18:   # XEN_ELFNOTE_PHYS32_ENTRY
                return True
            pos += 12 + ((namesz + 3) & ~3) + ((descsz + 3) & ~3)
    return False


def kernel_release(vmlinux: Path) -> str | None:
    """The `uname -r` of an ELF kernel, from its linux_banner."""
    data = vmlinux.read_bytes()
    m = re.search(rb"Linux version (\S+) \(", data)
    return m.group(1).decode(errors="replace") if m else None


def config_facts(config: Path | None) -> dict[str, str]:
    """The userfaultfd-relevant options of a kernel .config (unset ones: 'n')."""
    if config is None or not config.is_file():
        return {}
    vals: dict[str, str] = {}
    for line in config.read_text(errors="replace").splitlines():
        m = re.match(r"^CONFIG_(\w+)=(.*)$", line)
        if m:
            vals[m.group(1)] = m.group(2).strip('"')
    return {k: vals.get(k, "n") for k in CONFIG_KEYS}
