# SPDX-License-Identifier: GPL-2.0
"""One kernel from spec to stream: fetch, boot (with the retry rule), judge."""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from . import arch as archmod
from . import qemu
from .aptsrc import AptConfigError
from .debian import FetchError, fetch_debian
from .image import (ImageError, check_kernel_image, config_facts, extract_boot_image,
                    extract_vmlinux, has_pvh_note, image_arch, kernel_release)
from .initramfs import with_extra_files
from .spec import KernelSpec

if TYPE_CHECKING:
    from . import KernelResult

# Runner options for one kernel, from its spec text and what fetching it
# told (info: release, arch, package, ...): e.g. run.py --skipfile's skips.
OptionsFor = Callable[[str, dict[str, Any]], list[tuple[str, str]]]

# A boot that never reached /init is retried at most this many times; a run
# that reached /init is never retried (its failures are the kernel's).
BOOT_RETRIES = 2
# Boots take ~2 s (TCG); more than this without /init means a hang.
BOOT_TIMEOUT_S = 60
TAIL_LINES = 25


def local_kernel(spec: KernelSpec, cache_dir: Path) -> dict:
    """A user's image: the uncompressed kernel, cached by content hash."""
    assert spec.image is not None
    data = spec.image.read_bytes()
    digest = hashlib.sha256(data).hexdigest()[:16]
    out = cache_dir / "local" / digest
    out.mkdir(parents=True, exist_ok=True)
    arch = image_arch(data) or "amd64"
    if arch not in archmod.ARCHES:
        raise ImageError(f"{spec.image}: an {arch} kernel; faultline boots "
                         f"{', '.join(archmod.ARCHES)} kernels")
    a = archmod.get(arch)
    vmlinux = out / ("vmlinux" if a.image == "vmlinux" else "Image")
    comp = "cached"
    if not vmlinux.is_file():
        if a.image == "vmlinux":
            comp = extract_vmlinux(spec.image, vmlinux)
        else:
            kernel, comp = extract_boot_image(spec.image, vmlinux, arch)
            if kernel != vmlinux:       # a raw Image already
                vmlinux.write_bytes(data)
    return {"package": None, "version": None, "image_source": str(spec.image),
            "arch": arch,
            "sha256_16": digest, "vmlinux": str(vmlinux), "compression": comp,
            "config": str(spec.config) if spec.config else None,
            "config_facts": config_facts(spec.config), "cached": comp == "cached",
            "download_s": 0.0}


def tail(console: str, n: int = TAIL_LINES) -> str:
    lines = [ln for ln in console.splitlines() if ln.strip()]
    return "\n".join(lines[-n:])


def judge(b: qemu.Boot, timeout_s: int) -> str | None:
    """Why the kernel could not complete the run, or None if it did."""
    death = b.death()
    if b.interrupted:
        where = "before /init" if not b.reached_init else "during the run"
        last = tail(b.console)
        return (f"interrupted {where}: run.py stopped and QEMU was killed"
                + (f"\nlast console lines:\n{last}" if last else ""))
    if b.complete:
        return f"kernel panic after the run: {death}" if death else None
    if not b.reached_init:
        if death:
            why = f"kernel panic before /init: {death}"
        elif b.boot_timed_out:
            why = f"never reached /init: no output from /init within {BOOT_TIMEOUT_S} s (hang)"
        else:
            why = f"never reached /init: QEMU exited with {b.exit_code}"
    elif death:
        why = f"kernel panic during the run: {death}"
    elif b.timed_out:
        why = f"timeout: the run did not finish within {timeout_s} s (hang)"
    else:
        why = f"run cut short: the VM exited with {b.exit_code} before run-end"
    extra = f"\nqemu stderr: {b.stderr.strip()[-500:]}" if b.stderr.strip() else ""
    return f"{why}{extra}\nlast console lines:\n{tail(b.console)}"


def boot_kernel(spec: KernelSpec, result: "KernelResult", *,
                initrd: Path | Callable[[str], Path],
                cache_dir: Path, timeout_s: int, log: Callable[[str], None],
                runner_options: list[tuple[str, str]] | None = None,
                on_console: Callable[[bytes], None] | None = None,
                options_for: OptionsFor | None = None) -> None:
    """Fill @result for @spec, the runner's options on the kernel command
    line of its architecture. Never raises for a kernel's own failure.
    @on_console gets the console's bytes as they arrive (progress).

    @initrd is the initramfs, or a function giving the one for an
    architecture (built from that architecture's static build)."""
    info = result.info
    try:
        if spec.kind == "debian":
            meta = fetch_debian(spec, cache_dir / "kernels", log)
        else:
            meta = local_kernel(spec, cache_dir / "kernels")
    except (FetchError, ImageError, AptConfigError, OSError) as e:
        result.error = f"could not get the kernel: {e}"
        return
    try:
        check_kernel_image(Path(meta["vmlinux"]))
    except ImageError as e:
        where = Path(meta["vmlinux"]).parent
        source = meta.get("image_source") or meta["vmlinux"]
        result.error = (f"unusable kernel image {source}: {e}" + (
            f" (remove {where} to fetch it again)" if spec.kind == "debian" else ""))
        return
    info.update(meta)
    info["image"] = meta["vmlinux"]
    arch = meta.get("arch") or spec.arch or "amd64"
    info["arch"] = arch
    if callable(initrd):
        try:
            initrd = initrd(arch)
        except (OSError, ValueError) as e:
            result.error = f"no initramfs for {arch}: {e}"
            return
    release = meta.get("release") or kernel_release(Path(meta["vmlinux"]))
    info["release"] = release
    if meta.get("config") and release:
        # The probe reads /boot/config-<release>: give it the kernel's own.
        try:
            config = Path(meta["config"]).read_bytes()
        except OSError as e:
            # A cache entry that lost its config still boots; the probe's
            # config section is then empty (the report says so).
            info["config_error"] = f"{meta['config']}: {e.strerror or e}"
            log(f"{spec.text}: kernel config missing, booting without it")
        else:
            initrd = with_extra_files(
                initrd, initrd.with_name(f"initramfs-{spec.slug}.cpio"),
                {f"boot/config-{release}": config})
    opts = list(runner_options or [])
    if options_for is not None:
        try:
            opts += options_for(spec.text, info)
            qemu.kernel_cmdline(opts, arch)     # one that cannot travel: error
        except ValueError as e:
            result.error = f"runner options: {e}"
            return
    a = archmod.get(arch)
    firmware = archmod.firmware_path(a)
    try:
        exe = qemu.qemu_binary(arch)
        if firmware is not None and not firmware.is_file():
            raise qemu.QemuError(f"no {a.name} firmware {firmware} (scripts/deps.sh "
                                 f"{a.name} installs it)")
    except qemu.QemuError as e:
        result.error = str(e)
        return
    accel, accel_why = qemu.pick_accel(cache_dir, exe, arch)
    pvh = a.image == "vmlinux" and has_pvh_note(Path(meta["vmlinux"]))
    kernel = Path(meta["vmlinux"]) if pvh or a.image != "vmlinux" else \
        Path(meta.get("vmlinuz") or meta.get("image_source") or "")
    machine = a.machine_args[1] if pvh or a.image != "vmlinux" else "q35"
    info.update({"qemu": exe, "qemu_version": qemu.qemu_version(exe),
                 "machine": machine.split(",")[0], "poweroff": a.poweroff})
    attempts: list[dict] = []
    while True:
        clock = qemu.guest_clock_words(arch, accel)
        argv = qemu.qemu_argv(exe, kernel, initrd, accel, pvh=pvh, arch=arch,
                              append=qemu.kernel_cmdline(opts, arch, clock))
        log(f"{spec.text}: boot {len(attempts) + 1} ({accel})")
        boot_limit = qemu.KVM_BOOT_TIMEOUT_S if accel == "kvm" else BOOT_TIMEOUT_S
        b = qemu.boot(argv, timeout_s, min(timeout_s, boot_limit), on_console)
        if accel == "kvm" and not b.reached_init and (
                b.kvm_error or (b.boot_timed_out and not b.console.strip())):
            # KVM itself is broken here (not a word from the kernel), not
            # the kernel: do not count it as an attempt.
            why = ("KVM internal error" if b.kvm_error else
                   f"no /init within {boot_limit} s under KVM")
            qemu.kvm_mark_bad(cache_dir, exe, why)
            log(f"{spec.text}: {why}; using TCG from now on")
            accel, accel_why = "tcg", f"KVM failed to boot a guest: {why}"
            continue
        err = judge(b, timeout_s)
        attempts.append({"seconds": b.seconds, "boot_seconds": b.boot_seconds,
                         "exit_code": b.exit_code, "reached_init": b.reached_init,
                         "complete": b.complete, "error": err.splitlines()[0] if err else None})
        if b.reached_init or b.interrupted or len(attempts) > BOOT_RETRIES:
            break
        log(f"{spec.text}: {err.splitlines()[0] if err else '?'}; retrying")
    info.update({"accel": accel, "accel_why": accel_why, "qemu_argv": argv})
    if clock:
        info["guest_clock"] = " ".join(clock)
    result.stream = b.console
    result.error = err
    info.update({"attempts": len(attempts), "attempt_log": attempts,
                 "boot_seconds": b.boot_seconds, "seconds": b.seconds,
                 "qemu_exit": b.exit_code})
    log(f"{spec.text}: {'done' if err is None else err.splitlines()[0]} "
        f"({b.seconds} s, boot {b.boot_seconds} s, {len(attempts)} attempt(s))")


