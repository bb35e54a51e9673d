# SPDX-License-Identifier: GPL-2.0
"""faultline kernels: boot other kernels under QEMU and collect the stream.

    from kernels import run_kernels
    results = run_kernels(["debian:bookworm"], static_build_dir=...,
                          cache_dir=..., jobs=2, timeout_s=300, log=print,
                          runner_options=[("timeout", "60")])

static_build_dir is the host architecture's static build; another
architecture's is beside it (build-static-arm64: arch.static_build_dir).

Each result carries the framed stream (STREAM.md) as written on the serial
console, console noise included; this package knows nothing about TAP.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import threading
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from . import arch as archmod
from . import available, qemu
from .arch import host_arch, static_build_dir
from .boot import OptionsFor, boot_kernel
from .image import image_arch
from .initramfs import build_initramfs
from .spec import KernelSpec, SpecError, parse_spec

__all__ = ["KernelResult", "run_kernels", "parse_spec", "SpecError", "KernelSpec",
           "initramfs_files", "check_available", "spec_arches", "static_build_dir",
           "host_arch", "stop"]

# The initramfs of a run lives in <tmp>/faultline-vm-<pid>-*: one whose
# process is gone (SIGKILLed) is removed by the next run.
TMP_PREFIX = "faultline-vm-"


def stop() -> None:
    """Stop for good in this process (run.py's shutdown): every QEMU and apt
    download is killed and no new one starts; each kernel's result says it
    was interrupted and keeps what its console had collected."""
    qemu.kill_all()


@dataclass
class KernelResult:
    spec: str
    stream: str = ""
    error: str | None = None
    info: dict = field(default_factory=dict)


def check_available(specs: list[str], cache_dir: Path,
                    log: Callable[[str], None]) -> None:
    """SpecError if the archive lacks a debian: spec's suite/flavour (the
    message lists what it has); cached kernels need no network."""
    available.check([parse_spec(s) for s in specs], Path(cache_dir) / "kernels", log)


def spec_arches(specs: list[str]) -> dict[str, str]:
    """spec -> Debian architecture: from the flavour, or read from a user's
    image (amd64 when it says nothing). An image of an architecture we do
    not boot is left out: its column says why."""
    out = {}
    for text in specs:
        spec = parse_spec(text)
        a = spec.arch
        if a is None and spec.image is not None:
            try:
                a = image_arch(spec.image.read_bytes()) or "amd64"
            except OSError:
                a = "amd64"
        if (a or "amd64") in archmod.ARCHES:
            out[text] = a or "amd64"
    return out


def _arch_of_dir(static_build_dir: Path) -> str:
    """ARCH=<arch> for a cross build's directory (build-static-arm64)."""
    for name in archmod.ARCHES:
        if static_build_dir.name.endswith(f"-{name}"):
            return f"ARCH={name} "
    return ""


def initramfs_files(static_build_dir: Path) -> tuple[Path, dict[str, Path]]:
    """The runner (/init) and the files that go beside it, from a static build."""
    runner = static_build_dir / "faultline-runner"
    if not runner.is_file():
        raise FileNotFoundError(f"no static runner at {runner} (build it with: make "
                                f"{_arch_of_dir(static_build_dir)}STATIC=1 "
                                f"O={static_build_dir})")
    files: dict[str, Path] = {}
    # The probe, and the benchmark run.py --bench asks for (faultline.bench=
    # uffd-bench: /uffd-bench); both built by every static build.
    for name in ("uffd-probe", "uffd-bench"):
        if (static_build_dir / name).is_file():
            files[name] = static_build_dir / name
    cases = static_build_dir / "cases"
    if cases.is_dir():
        for c in sorted(cases.iterdir()):
            if c.is_file() and c.stat().st_mode & 0o111:
                files[f"cases/{c.name}"] = c
    return runner, files


def run_kernels(specs: list[str], *, static_build_dir: Path,
                cache_dir: Path, jobs: int, timeout_s: int,
                log: Callable[[str], None],
                runner_options: list[tuple[str, str]] | None = None,
                console: Callable[[str], Callable[[bytes], None]] | None = None,
                options_for: OptionsFor | None = None
                ) -> list[KernelResult]:
    """Boot each spec under QEMU (up to @jobs at once) and collect its stream.
    @runner_options, (long option, value) pairs, reach the runner through the
    kernel command line (faultline.<option>=<value>); @options_for(spec,
    info), when given, adds the pairs for one kernel once it is fetched
    (`info` has its release and arch; a ValueError is that kernel's error).
    @console(spec), when
    given, makes the function that gets that kernel's console bytes as they
    arrive (e.g. progress).

    Results come back in the order of @specs. A kernel that fails to fetch or
    boot gets .error set; the others are unaffected. Raises SpecError for a
    malformed spec before anything runs (usage error).
    """
    qemu.kernel_cmdline(runner_options or [])    # a bad option: ValueError now
    parsed = [parse_spec(s) for s in specs]
    results = [KernelResult(spec=s) for s in specs]
    if not parsed:
        return results
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    _sweep_dead_tmp()
    tmp = Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{os.getpid()}-"))
    # One initramfs per architecture, from that architecture's static build
    # (arch.static_build_dir), made when its first kernel needs it.
    initrds: dict[str, Path] = {}
    initrd_lock = threading.Lock()

    def initrd_for(arch: str) -> Path:
        with initrd_lock:
            if arch not in initrds:
                init, files = initramfs_files(
                    archmod.static_build_dir(Path(static_build_dir), arch))
                initrds[arch] = build_initramfs(tmp / f"initramfs-{arch}.cpio", init, files)
                log(f"initramfs {arch}: {initrds[arch].stat().st_size // 1024} KiB, "
                    f"{len(files) + 1} files")
            return initrds[arch]
    try:
        locks: dict[str, threading.Lock] = {s.slug: threading.Lock() for s in parsed}

        def one(i: int) -> None:
            spec = parsed[i]
            with locks[spec.slug]:
                try:
                    boot_kernel(spec, results[i], initrd=initrd_for,
                                cache_dir=cache_dir, timeout_s=timeout_s, log=log,
                                runner_options=runner_options,
                                on_console=console(spec.text) if console else None,
                                options_for=options_for)
                except Exception as e:
                    # A bad image or a bug fails this kernel's column only.
                    where = traceback.extract_tb(e.__traceback__)[-1]
                    results[i].error = (
                        f"could not boot this kernel: {type(e).__name__}: {e} "
                        f"(kernels/{Path(where.filename).name}:{where.lineno})")
                    log(f"{spec.text}: {results[i].error}")

        pool = ThreadPoolExecutor(max_workers=max(1, jobs))
        try:
            for fut in [pool.submit(one, i) for i in range(len(parsed))]:
                fut.result()
        except BaseException:
            qemu.kill_all()         # Ctrl-C or a bug: no QEMU outlives us
            pool.shutdown(wait=True, cancel_futures=True)
            qemu.reset()            # our own stop: a later call may boot again
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return results


def _sweep_dead_tmp() -> None:
    """Remove the initramfs directories of runs whose process is gone."""
    for d in Path(tempfile.gettempdir()).glob(f"{TMP_PREFIX}*"):
        pid = d.name[len(TMP_PREFIX):].split("-", 1)[0]
        if not pid.isdigit() or not d.is_dir():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(d, ignore_errors=True)
        except PermissionError:
            pass            # alive, another user's

