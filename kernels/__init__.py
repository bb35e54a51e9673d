# SPDX-License-Identifier: GPL-2.0
"""faultline kernels: boot other kernels under QEMU and collect the stream.

    from kernels import run_kernels
    results = run_kernels(["debian:bookworm"], static_build_dir=...,
                          cache_dir=..., jobs=2, timeout_s=300, log=print,
                          runner_options=[("timeout", "60")])

Each result carries the framed stream (STREAM.md) as written on the serial
console, console noise included; this package knows nothing about TAP.
"""
from __future__ import annotations

import shutil
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from . import qemu
from .boot import boot_kernel
from .initramfs import build_initramfs
from .spec import KernelSpec, SpecError, parse_spec

__all__ = ["KernelResult", "run_kernels", "parse_spec", "SpecError", "KernelSpec",
           "initramfs_files"]


@dataclass
class KernelResult:
    spec: str
    stream: str = ""
    error: str | None = None
    info: dict = field(default_factory=dict)


def initramfs_files(static_build_dir: Path) -> tuple[Path, dict[str, Path]]:
    """The runner (/init) and the files that go beside it, from a static build."""
    runner = static_build_dir / "faultline-runner"
    probe_bin = static_build_dir / "uffd-probe"
    if not runner.is_file():
        raise FileNotFoundError(f"no static runner at {runner} "
                                f"(build it with: make STATIC=1 O={static_build_dir})")
    files: dict[str, Path] = {}
    if probe_bin.is_file():
        files["uffd-probe"] = probe_bin
    cases = static_build_dir / "cases"
    if cases.is_dir():
        for c in sorted(cases.iterdir()):
            if c.is_file() and c.stat().st_mode & 0o111:
                files[f"cases/{c.name}"] = c
    return runner, files


def run_kernels(specs: list[str], *, static_build_dir: Path,
                cache_dir: Path, jobs: int, timeout_s: int,
                log: Callable[[str], None],
                runner_options: list[tuple[str, str]] | None = None
                ) -> list[KernelResult]:
    """Boot each spec under QEMU (up to @jobs at once) and collect its stream.
    @runner_options, (long option, value) pairs, reach the runner through the
    kernel command line (faultline.<option>=<value>).

    Results come back in the order of @specs. A kernel that fails to fetch or
    boot gets .error set; the others are unaffected. Raises SpecError for a
    malformed spec before anything runs (usage error).
    """
    qemu.reset()
    cmdline = qemu.kernel_cmdline(runner_options or [])
    parsed = [parse_spec(s) for s in specs]
    results = [KernelResult(spec=s) for s in specs]
    if not parsed:
        return results
    try:
        init, files = initramfs_files(Path(static_build_dir))
    except FileNotFoundError as e:
        for r in results:
            r.error = str(e)
        return results
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="faultline-vm-"))
    try:
        initrd = build_initramfs(tmp / "initramfs.cpio", init, files)
        log(f"initramfs: {initrd.stat().st_size // 1024} KiB, {len(files) + 1} files")
        locks: dict[str, threading.Lock] = {s.slug: threading.Lock() for s in parsed}

        def one(i: int) -> None:
            spec = parsed[i]
            with locks[spec.slug]:
                boot_kernel(spec, results[i], initrd=initrd, cache_dir=cache_dir,
                            timeout_s=timeout_s, log=log, cmdline=cmdline)

        pool = ThreadPoolExecutor(max_workers=max(1, jobs))
        try:
            for fut in [pool.submit(one, i) for i in range(len(parsed))]:
                fut.result()
        except BaseException:
            qemu.kill_all()         # Ctrl-C or a bug: no QEMU outlives us
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return results
