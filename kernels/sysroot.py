# SPDX-License-Identifier: GPL-2.0
"""Static libcap, libseccomp and zlib for a cross build the host's release cannot
supply through multiarch.

Debian 12 (bookworm) has a riscv64 cross compiler and C library
(gcc-riscv64-linux-gnu, libc6-dev-riscv64-cross) but no riscv64 packages:
riscv64 became a release architecture with trixie. So the -dev packages of
libcap and libseccomp are downloaded from the suite kernels/arch.py names
(`libs="sysroot:trixie"`), with the same private apt the kernels use, and
unpacked with dpkg-deb into a directory of ours; nothing is installed. The
build then takes their headers (-isystem) and static archives (-L) and
keeps bookworm's cross C library for everything else.

trixie's libraries were built against glibc 2.41, whose headers turn strtol
and strtoul into the C23 entry points __isoc23_strtol/__isoc23_strtoul
(2.38+), which bookworm's libc.a (2.36) lacks. Only libcap's text
conversions (cap_text.o) and libpsx use them, and faultline links neither;
should that change, the static link fails naming the symbol (no silent
mismatch).

    /usr/bin/python3 -m kernels.sysroot <arch> <dir>
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable
from urllib.parse import unquote

from . import aptsrc
from . import arch as archmod
from .debian import FetchError, _flock, suite_apt

PACKAGES = ("libcap-dev", "libseccomp-dev", "zlib1g-dev")
STAMP = "faultline-sysroot.json"


def ensure(arch: str, dest: Path, cache_dir: Path,
           log: Callable[[str], None], apt_etc: Path = Path("/etc/apt")) -> Path:
    """Make @dest hold the libraries of @arch (no network when it does)."""
    a = archmod.get(arch)
    kind, _, suite = a.libs.partition(":")
    if kind != "sysroot":
        raise archmod.ArchError(f"{arch} takes its libraries from {a.libs}, not a sysroot")
    if _complete(dest):
        return dest
    with _flock(dest.with_name(dest.name + ".lock")):   # two makes at once
        if not _complete(dest):
            _populate(a, suite, dest, cache_dir, log, apt_etc)
    return dest


def _complete(dest: Path) -> bool:
    """Whether @dest was populated with every package of PACKAGES (a
    sysroot from before a package was added is fetched again)."""
    try:
        got = json.loads((dest / STAMP).read_text())["packages"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return isinstance(got, dict) and all(p in got for p in PACKAGES)


def _populate(a: archmod.Arch, suite: str, dest: Path, cache_dir: Path,
              log: Callable[[str], None], apt_etc: Path) -> None:
    arch = a.name
    archive = aptsrc.find_archive(aptsrc.machine_entries(apt_etc))
    dest.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{dest.name}-", dir=dest.parent))
    try:
        debs = stage / "debs"
        debs.mkdir()
        with suite_apt(cache_dir, suite, arch, archive, log, f"sysroot {arch}") as apt:
            log(f"sysroot {arch}: downloading {', '.join(PACKAGES)} from {suite}")
            apt.run("apt-get", "download", *PACKAGES, cwd=debs)
        got = {}
        for deb in sorted(debs.glob("*.deb")):
            subprocess.run(["dpkg-deb", "-x", str(deb), str(stage / "root")], check=True)
            name, version = deb.name.split("_")[:2]
            got[name] = unquote(version)    # apt writes 1:2.75 as 1%3a2.75
        shutil.rmtree(debs)
        (stage / "root" / STAMP).write_text(json.dumps(
            {"arch": arch, "suite": suite, "packages": got}, indent=1) + "\n")
        shutil.rmtree(dest, ignore_errors=True)
        os.replace(stage / "root", dest)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python3 -m kernels.sysroot <arch> <dir>", file=sys.stderr)
        return 2
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "faultline"
    try:
        ensure(argv[0], Path(argv[1]).resolve(), cache / "kernels",
               lambda m: print(m, file=sys.stderr, flush=True))
    except (archmod.ArchError, aptsrc.AptConfigError, FetchError,
            subprocess.CalledProcessError) as e:
        print(f"sysroot: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
