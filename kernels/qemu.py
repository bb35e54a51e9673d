# SPDX-License-Identifier: GPL-2.0
"""Boot one kernel under QEMU and collect its serial console.

The fastest reliable setup measured on these machines, per architecture
(kernels/arch.py): amd64 on microvm without ACPI, qemu64 CPU, the
uncompressed kernel booted through its PVH entry and the isa-debug-exit
device so /init can end the VM with an exit code (QEMU exits with
(code << 1) | 1); arm64 and riscv64 on `virt` with their raw boot Image,
ended by a PSCI / SBI power-off (QEMU exits 0: the status is in the stream).
Serial console on stdio everywhere.
"""
from __future__ import annotations

import ctypes
import fcntl
import json
import os
import re
import selectors
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from . import arch as archmod

FRAME = "@@faultline "
# panic=-1 oops=panic: any oops ends the VM at once (QEMU runs with
# -no-reboot). loglevel=2: only emergencies and alerts reach the console
# (a panic or an oops switches it to verbose anyway); everything else the
# runner reads from /dev/kmsg and frames. With `quiet` (loglevel 4), x86's
# "MCE: Killing <case>..." error lines from the poison cases landed in the
# middle of TAP lines on the shared console and renamed test points.
# Each architecture adds its own part (kernels/arch.py).
COMMON_CMDLINE = "panic=-1 oops=panic loglevel=2 rdinit=/init cryptomgr.notests"


def cmdline(arch: str = "amd64") -> str:
    a = archmod.get(arch)
    return " ".join(filter(None, (f"console={a.console}", COMMON_CMDLINE, a.cmdline)))


CMDLINE = cmdline("amd64")


def kernel_cmdline(runner_options: list[tuple[str, str]], arch: str = "amd64",
                   extra: list[str] | tuple[str, ...] = ()) -> str:
    """@arch's command line, @extra kernel words (guest_clock_words()), then
    the runner's options, each as faultline.<option>=<value>: the runner
    (PID 1) maps them onto its long options of the same name, which on the
    host are given as --<option>=<value>."""
    words = [cmdline(arch), *extra]
    for opt, value in runner_options:
        if not opt or any(c.isspace() or c == "=" for c in opt) or \
                any(c.isspace() for c in value):
            raise ValueError(f"runner option {opt}={value!r} cannot go on a "
                             "kernel command line (no spaces allowed)")
        words.append(f"faultline.{opt}={value}")
    return " ".join(words)


def host_tsc_khz(cpuinfo: str = "/proc/cpuinfo",
                 cpufreq: str = "/sys/devices/system/cpu/cpu0/cpufreq") -> int | None:
    """The host's TSC rate in kHz, when /proc/cpuinfo can say: a constant,
    non-stop TSC and no frequency scaling (only then is `cpu MHz` the
    calibrated rate rather than the current clock). None otherwise."""
    try:
        text = Path(cpuinfo).read_text()
    except OSError:
        return None
    flags = re.search(r"^flags\s*:(.*)$", text, re.M)
    mhz = re.search(r"^cpu MHz\s*:\s*([0-9.]+)", text, re.M)
    if not flags or not mhz or os.path.exists(cpufreq) or \
            not {"constant_tsc", "nonstop_tsc"} <= set(flags.group(1).split()):
        return None
    khz = round(float(mhz.group(1)) * 1000)
    return khz if khz > 0 else None


def guest_clock_words(arch: str, accel: str) -> list[str]:
    """Kernel words that give an amd64 TCG guest a usable clock. Under TCG
    the guest's TSC ticks at the host's TSC rate (QEMU reads the host's
    counter), but the guest measures that rate against the emulated PIT,
    and on a loaded host that fails ("Fast TSC calibration failed", then
    "Marking TSC unstable due to could not calculate TSC khz": microvm has
    no HPET and, with ACPI off, no PM timer to fall back on): the guest
    then keeps time in jiffies (4 ms steps), whatever the -cpu model (2 of
    8 boots got the TSC with qemu64, 3 of 8 with max,+invtsc; 8 of 8 with
    the rate given). tsc_early_khz= (5.3+) gives the rate: every boot gets
    the TSC. Nothing for KVM (kvm-clock) or a guest of another arch."""
    if accel != "tcg" or arch != "amd64" or archmod.host_arch() != "amd64":
        return []
    khz = host_tsc_khz()
    return [f"tsc_early_khz={khz}"] if khz else []


KVM_GET_API_VERSION = 0xAE00
# The kernel died (oops=panic turns every oops into a panic, so this also
# catches oopses and double faults; a WARNING or a non-fatal BUG: line is the
# runner's business, reported per binary through its kmsg frames).
DEATH = re.compile(r"Kernel panic - not syncing.*")


class QemuError(RuntimeError):
    """QEMU itself is missing or unusable."""


def qemu_binary(arch: str = "amd64") -> str:
    a = archmod.get(arch)
    exe = shutil.which(a.qemu)
    if exe is None:
        group = "vm" if arch == "amd64" else arch
        raise QemuError(f"{a.qemu} not found (package {a.qemu_package}; "
                        f"scripts/deps.sh {group} installs it)")
    return exe


def qemu_version(exe: str) -> str:
    out = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout
    m = re.search(r"version (\S+)(?: \(([^)]*)\))?", out)
    return (m.group(2) or m.group(1)) if m else out.strip().splitlines()[0]


def kvm_usable(dev: str = "/dev/kvm") -> bool:
    """True if /dev/kvm opens read-write and answers the API version ioctl."""
    try:
        fd = os.open(dev, os.O_RDWR | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        return fcntl.ioctl(fd, KVM_GET_API_VERSION) == 12
    except OSError:
        return False
    finally:
        os.close(fd)


# KVM can exist and answer its ioctls yet not run a guest (nested
# virtualisation without the CPU features the kernel needs: "KVM internal
# error", or no output at all). The first boot under KVM decides; the verdict
# is kept per host kernel and QEMU version so later runs go straight to TCG.
KVM_BOOT_TIMEOUT_S = 15
_verdict_lock = threading.Lock()


def _verdict_file(cache_dir: Path, exe: str) -> tuple[Path, str]:
    key = f"{os.uname().release} {qemu_version(exe)}"
    return cache_dir / "kvm-verdict.json", key


def kvm_known_bad(cache_dir: Path, exe: str) -> str | None:
    f, key = _verdict_file(cache_dir, exe)
    try:
        data = json.loads(f.read_text())
    except (OSError, ValueError):
        return None
    return data.get("why") if data.get("key") == key and data.get("bad") else None


def kvm_mark_bad(cache_dir: Path, exe: str, why: str) -> None:
    f, key = _verdict_file(cache_dir, exe)
    with _verdict_lock:
        f.write_text(json.dumps({"key": key, "bad": True, "why": why}) + "\n")


def pick_accel(cache_dir: Path, exe: str, arch: str | None = None) -> tuple[str, str]:
    """(accel, why): kvm when usable, tcg otherwise; FAULTLINE_ACCEL overrides."""
    if arch is not None and arch != archmod.host_arch():
        return "tcg", f"{arch} guest on an {archmod.host_arch()} host: emulated"
    forced = os.environ.get("FAULTLINE_ACCEL")
    if forced in ("kvm", "tcg"):
        return forced, "FAULTLINE_ACCEL"
    if not kvm_usable():
        return "tcg", "/dev/kvm missing or not usable"
    bad = kvm_known_bad(cache_dir, exe)
    if bad:
        return "tcg", f"KVM failed to boot a guest here before: {bad}"
    return "kvm", "/dev/kvm usable"


# Below 512 MiB of RAM the kernel turns transparent huge pages off at boot,
# which would leave the THP cases (move.anon.pmd*) with nothing to test.
GUEST_MEM_MB = 768


def qemu_argv(exe: str, kernel: Path, initrd: Path, accel: str, *,
              mem_mb: int = GUEST_MEM_MB, append: str | None = None,
              pvh: bool = True, arch: str = "amd64") -> list[str]:
    a = archmod.get(arch)
    machine = list(a.machine_args)
    if a.image == "vmlinux" and not pvh:
        # A kernel without a PVH entry (a custom build lacking CONFIG_PVH)
        # cannot boot on microvm directly: q35 and its firmware, slower.
        machine = ["-machine", "q35", "-cpu", "qemu64"]
    extra = ["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"] \
        if a.poweroff == "debug-exit" else []
    firmware = archmod.firmware_path(a)
    if firmware is not None:
        extra += ["-bios", str(firmware)]
    return [exe, *machine, "-accel", accel,
            "-m", str(mem_mb), "-smp", "1", "-nodefaults", "-nographic", "-no-reboot",
            "-serial", "stdio", *extra,
            "-kernel", str(kernel), "-initrd", str(initrd),
            "-append", cmdline(arch) if append is None else append]


@dataclass
class Boot:
    """One QEMU run: what the console said and how it ended."""
    console: str = ""
    exit_code: int | None = None
    timed_out: bool = False         # the wall-clock limit was hit
    boot_timed_out: bool = False    # /init was not reached in time
    reached_init: bool = False      # a frame line was seen
    complete: bool = False          # run-end was seen
    kvm_error: bool = False         # KVM could not run the guest
    interrupted: bool = False       # stopped by kill_all() (run.py stopping)
    seconds: float = 0.0
    boot_seconds: float | None = None   # start to the first frame line
    stderr: str = ""
    argv: list[str] = field(default_factory=list)

    def death(self) -> str | None:
        m = DEATH.search(self.console)
        return m.group(0) if m else None


# Every QEMU (and apt, see run_tracked) we started and have not reaped yet:
# kill_all() ends them when the caller is interrupted; PR_SET_PDEATHSIG
# ends them if we are killed.
_live: set[subprocess.Popen] = set()
_live_lock = threading.Lock()
_stopping = threading.Event()
_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1


def _child_setup() -> None:
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


class Interrupted(RuntimeError):
    """kill_all() was called: no new work starts."""


def stopping() -> bool:
    return _stopping.is_set()


def run_tracked(cmd: list[str], timeout: float, **kw) -> subprocess.CompletedProcess:
    """subprocess.run(capture_output=True, text=True) for the helpers of a
    boot (apt): killed by kill_all() like QEMU. Interrupted when stopped."""
    if _stopping.is_set():
        raise Interrupted("interrupted before it started")
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True,
                            preexec_fn=_child_setup, **kw)
    with _live_lock:
        _live.add(proc)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(proc)
        raise
    finally:
        with _live_lock:
            _live.discard(proc)
    if _stopping.is_set() and proc.returncode < 0:
        raise Interrupted(f"{cmd[0]} stopped")
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def kill_all() -> None:
    """Stop every running QEMU (e.g. on Ctrl-C) and start no new one."""
    _stopping.set()
    with _live_lock:
        procs = list(_live)
    for p in procs:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def reset() -> None:
    """Allow boots again after kill_all()."""
    _stopping.clear()


def _kill(proc: subprocess.Popen) -> None:
    """Kill QEMU's whole process group and reap it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def boot(argv: list[str], timeout_s: float, boot_timeout_s: float,
         on_output: Callable[[bytes], None] | None = None) -> Boot:
    """Run QEMU; stop at exit, at @timeout_s, or at @boot_timeout_s if no frame
    line (i.e. /init did not start) has appeared by then. @on_output gets
    the console's bytes as they arrive (progress), cut anywhere."""
    res = Boot(argv=argv)
    t0 = time.monotonic()
    if _stopping.is_set():
        res.stderr = "interrupted before start"
        res.interrupted = True
        return res
    # Own session: a terminal's Ctrl-C reaches us, and we stop QEMU ourselves.
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True,
                            preexec_fn=_child_setup)
    with _live_lock:
        _live.add(proc)
    assert proc.stdout and proc.stderr
    out, err = bytearray(), bytearray()
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ, out)
    sel.register(proc.stderr, selectors.EVENT_READ, err)
    open_streams = 2
    try:
        while open_streams:
            now = time.monotonic() - t0
            limit = timeout_s if res.reached_init else min(timeout_s, boot_timeout_s)
            if now >= limit:
                res.timed_out = True
                res.boot_timed_out = not res.reached_init
                break
            if res.kvm_error:
                break
            for key, _ in sel.select(timeout=min(1.0, limit - now)):
                chunk = os.read(key.fileobj.fileno(), 65536)
                if not chunk:
                    sel.unregister(key.fileobj)
                    open_streams -= 1
                    continue
                key.data.extend(chunk)
                if key.data is out and on_output is not None:
                    on_output(chunk)
                if key.data is err and b"KVM internal error" in err:
                    res.kvm_error = True
                    res.timed_out = True
                    break
                # A frame line starts a line (the runner writes "\n" first).
                if not res.reached_init and (b"\n" + FRAME.encode() in out or
                                             out.startswith(FRAME.encode())):
                    res.reached_init = True
                    res.boot_seconds = round(time.monotonic() - t0, 2)
    finally:
        sel.close()
        if res.timed_out:
            _kill(proc)
        else:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                _kill(proc)
        proc.stdout.close()
        proc.stderr.close()
        with _live_lock:
            _live.discard(proc)
    res.seconds = round(time.monotonic() - t0, 2)
    res.exit_code = proc.returncode
    res.interrupted = _stopping.is_set() and proc.returncode is not None \
        and proc.returncode < 0
    res.console = out.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n")
    res.stderr = err.decode("utf-8", "replace")
    res.complete = f"{FRAME}run-end" in res.console
    return res
