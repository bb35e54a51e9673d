# SPDX-License-Identifier: GPL-2.0
"""Per-architecture knowledge, in one table: everything that differs between
booting an amd64, an arm64 and a riscv64 Debian kernel (and building the
static binaries that run inside it) is a field of `Arch`; the rest of
kernels/ and run.py look it up here instead of testing architecture names.

The architecture of a Debian kernel comes from its flavour: `cloud-arm64`,
`arm64` and `rt-arm64` are arm64 kernels, `riscv64` a riscv64 one. Which
flavours a suite really has is the archive's business (kernels/available.py
asks it), not this table's.
"""
from __future__ import annotations

import os
import platform
import shutil
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Arch:
    name: str                   # Debian architecture (flavour suffix, apt)
    machine: str                # `uname -m` in the guest (what reports show)
    default_flavour: str        # debian:<suite> with no flavour
    triplet: str                # GNU triplet: cross prefix and multiarch dir
    qemu: str                   # QEMU system emulator
    qemu_package: str           # the Debian package that has it
    machine_args: tuple[str, ...]   # -machine and -cpu (after -M/-cpu choice)
    console: str                # kernel console device
    # Kernel command line beyond the common part: what this machine does not
    # need probed, and what makes TCG fast here (see qemu.py).
    cmdline: str
    # How PID 1 ends the VM: "debug-exit" (QEMU's exit code carries the
    # status) or "poweroff" (PSCI / SBI: QEMU exits 0, the status is only
    # in the stream's run-end frame).
    poweroff: str
    # The image QEMU loads: "vmlinux" (ELF, booted through its PVH entry),
    # "Image" (the raw arm64/riscv64 boot image, decompressed on the host).
    image: str
    firmware: str | None = None     # -bios file, when the machine needs one
    # Where the static libcap/libseccomp for a cross build come from:
    # "native", "multiarch" (dpkg --add-architecture, Debian packages),
    # or "sysroot:<suite>" (packages of that suite unpacked into a private
    # directory, never installed: the host's release does not carry the
    # architecture).
    libs: str = "multiarch"


ARCHES: dict[str, Arch] = {a.name: a for a in (
    Arch(name="amd64", machine="x86_64", default_flavour="cloud-amd64",
         triplet="x86_64-linux-gnu", qemu="qemu-system-x86_64",
         qemu_package="qemu-system-x86",
         # microvm without ACPI and the ELF kernel through its PVH entry:
         # the fastest boot measured (qemu.py falls back to q35 without PVH).
         machine_args=("-machine", "microvm,acpi=off", "-cpu", "qemu64"),
         console="ttyS0",
         # Skip probing for hardware microvm does not have (PCI, i8042) and
         # timer calibration: about 0.3-0.5 s per boot under TCG. (acpi=off
         # on the command line hangs 5.10 on microvm: ACPI is off in QEMU.)
         cmdline="reboot=t pci=off i8042.noaux i8042.nokbd i8042.nopnp "
                 "tsc=reliable no_timer_check",
         poweroff="debug-exit", image="vmlinux"),
    Arch(name="arm64", machine="aarch64", default_flavour="cloud-arm64",
         triplet="aarch64-linux-gnu", qemu="qemu-system-aarch64",
         qemu_package="qemu-system-arm",
         # cortex-a57 with nokaslr: kernel work at ~1.5x amd64's time under
         # TCG; `-cpu max` (pointer authentication, SVE...) and KASLR with
         # its KPTI make it 2.4-4x. Write-protect needs no CPU feature on
         # arm64 (a software PTE bit), so nothing userfaultfd uses is lost.
         machine_args=("-machine", "virt", "-cpu", "cortex-a57"),
         console="ttyAMA0", cmdline="nokaslr",
         poweroff="poweroff", image="Image"),
    Arch(name="riscv64", machine="riscv64", default_flavour="riscv64",
         triplet="riscv64-linux-gnu", qemu="qemu-system-riscv64",
         qemu_package="qemu-system-misc",
         machine_args=("-machine", "virt", "-cpu", "rv64"),
         console="ttyS0", cmdline="",
         poweroff="poweroff", image="Image",
         # OpenSBI's generic fw_dynamic, as Debian's opensbi package installs
         # it for QEMU (the file QEMU's own `-bios default` would load).
         firmware="opensbi-riscv64-generic-fw_dynamic.bin",
         # bookworm's archive has no riscv64; trixie is the first release.
         libs="sysroot:trixie"),
)}

# uname -m of the machine this runs on -> Debian architecture.
_MACHINES = {a.machine: a.name for a in ARCHES.values()}


class ArchError(ValueError):
    """An architecture faultline cannot build for or boot."""


def host_arch() -> str:
    """The Debian architecture of this machine (amd64 on x86_64)."""
    return _MACHINES.get(platform.machine(), platform.machine())


def get(name: str) -> Arch:
    try:
        return ARCHES[name]
    except KeyError:
        raise ArchError(f"unknown architecture {name!r} "
                        f"(known: {', '.join(ARCHES)})") from None


def of_flavour(flavour: str) -> Arch | None:
    """The architecture a Debian kernel flavour names (`cloud-arm64` ->
    arm64, `riscv64` -> riscv64, `arm64-16k` -> arm64), or None."""
    for part in flavour.split("-"):
        if part in ARCHES:
            return ARCHES[part]
    return None


def static_build_dir(base: Path, arch: str) -> Path:
    """Where `make STATIC=1` puts the binaries for @arch: @base for the
    host's own architecture, <base>-<arch> for a cross build."""
    return base if arch == host_arch() else base.with_name(f"{base.name}-{arch}")


def firmware_path(a: Arch, datadirs: tuple[str, ...] = (
        "/usr/share/qemu", "/usr/local/share/qemu")) -> Path | None:
    """The -bios file of @a in QEMU's data directories (None: none needed)."""
    if a.firmware is None:
        return None
    for d in datadirs:
        p = Path(d) / a.firmware
        if p.exists():
            return p.resolve()
    return Path(datadirs[0]) / a.firmware     # missing: the error names it


def qemu_binary(a: Arch) -> str | None:
    return shutil.which(a.qemu)


def kvm_possible(a: Arch) -> bool:
    """KVM runs guests of the host's own architecture only."""
    return a.name == host_arch() and os.path.exists("/dev/kvm")
