# SPDX-License-Identifier: GPL-2.0
"""Find, download and cache a Debian kernel with a private apt state.

Cache layout:
    <cache>/apt/<suite>/                  private apt state, lists, etc (shared
                                          by the flavours of a suite)
    <cache>/<suite>-<flavour>/<version>/  vmlinuz, vmlinux, config (the .debs
                                          are deleted once extracted)
    <cache>/<suite>-<flavour>/kernel.json what was fetched (a cache hit reads
                                          only this and needs no network)
Lock files (flock) make concurrent fetches, in threads or processes, safe.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Callable, Iterator

from . import aptsrc, qemu
from . import arch as archmod
from .image import extract_boot_image, extract_deb_members, extract_vmlinux, config_facts
from .spec import KernelSpec

# Packages that carry the image or its config: linux-image-<ver>-<flavour>
# (everything up to 6.x), linux-binary-<ver> and linux-base-<ver> (7.x).
_CONCRETE = re.compile(r"^linux-(image|binary|base)-\d")


class FetchError(RuntimeError):
    """The kernel could not be found or downloaded (the message says why)."""


# How the machine reaches its archive: proxies and date checks (a mirror
# snapshot may carry an expired Valid-Until that the machine chose to accept).
_ACQUIRE_KEYS = re.compile(r"^Acquire::((https?|ftp)::Proxy(::\S+)?|Check-Valid-Until|"
                           r"Check-Date|ForceIPv4|ForceIPv6)$")


def machine_acquire_options(dump: str | None = None) -> list[str]:
    """-o options carrying the machine's Acquire settings into our private apt."""
    if dump is None:
        try:
            dump = subprocess.run(["apt-config", "dump"], capture_output=True, text=True,
                                  timeout=30).stdout
        except (OSError, subprocess.TimeoutExpired):
            return []
    opts = []
    for line in dump.splitlines():
        m = re.match(r'^(\S+) "(.*)";$', line)
        if m and _ACQUIRE_KEYS.match(m.group(1)):
            opts.append(f"-o{m.group(1)}={m.group(2)}")
    return opts


class PrivateApt:
    """apt-get/apt-cache bound to a private state, cache and sources list."""

    def __init__(self, root: Path, sources: str, arch: str = "amd64"):
        root = root.resolve()   # apt reads relative Dir:: paths from "/"
        self.root = root
        for d in ("lists/partial", "archives/partial", "etc/preferences.d",
                  "etc/apt.conf.d"):
            (root / d).mkdir(parents=True, exist_ok=True)
        (root / "status").touch()
        src = root / "etc" / "sources.list"
        if not src.is_file() or src.read_text() != sources:
            src.write_text(sources)
        self.opts = [
            f"-oDir::State={root}", f"-oDir::State::status={root}/status",
            # A private etc: none of the machine's sources, pins or hooks;
            # only how it reaches the archive (see machine_acquire_options).
            f"-oDir::Cache={root}", f"-oDir::Etc={root}/etc",
            f"-oDir::Etc::SourceList={src}", f"-oDir::Etc::SourceParts={root}/etc/none",
            *machine_acquire_options(),
            f"-oAPT::Architecture={arch}", f"-oAPT::Architectures::={arch}",
            "-oAcquire::Languages=none", "-oAcquire::Retries=2",
            "-oDebug::NoLocking=1", "-oAPT::Sandbox::User=root", "-oAPT::Get::List-Cleanup=0",
        ]

    def run(self, tool: str, *args: str, cwd: Path | None = None) -> str:
        # Tracked like QEMU: run.py stopping ends a download at once.
        try:
            p = qemu.run_tracked([tool, *self.opts, *args], timeout=600, cwd=cwd)
        except qemu.Interrupted as e:
            raise FetchError(f"{tool} {args[0]}: {e}") from e
        # apt-get update exits 0 on some fetch failures but says so with W:/E:.
        bad = [ln for ln in p.stderr.splitlines()
               if ln.startswith(("E:", "Err:", "W: Failed", "W: GPG", "W: The repository"))]
        if p.returncode != 0 or (tool == "apt-get" and args[0] == "update" and bad):
            raise FetchError(f"{tool} {' '.join(args)} failed (exit {p.returncode}): "
                             + " | ".join(bad or p.stderr.strip().splitlines()[-3:]))
        return p.stdout

    def show(self, pkg: str) -> dict[str, str]:
        """The candidate version's control fields of @pkg."""
        out = self.run("apt-cache", "show", "--no-all-versions", pkg)
        fields: dict[str, str] = {}
        for line in out.splitlines():
            if not line or line[0] in " \t" or ":" not in line:
                continue
            k, _, v = line.partition(":")
            fields.setdefault(k, v.strip())
        if "Package" not in fields:
            raise FetchError(f"package {pkg} not found")
        return fields


def _depends(fields: dict[str, str]) -> list[str]:
    """First alternative of each Depends entry, names only."""
    names = []
    for dep in fields.get("Depends", "").split(","):
        first = dep.split("|")[0].strip()
        if first:
            names.append(re.split(r"[\s(:]", first, 1)[0])
    return names


def resolve(apt: PrivateApt, flavour: str) -> dict[str, str]:
    """Walk from linux-image-<flavour> to the concrete packages; name -> version."""
    meta = f"linux-image-{flavour}"
    try:
        pending = [meta]
        apt.show(meta)
    except FetchError as e:
        raise FetchError(f"no kernel package {meta} in this suite ({e})") from e
    seen: set[str] = set()
    found: dict[str, str] = {}
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        fields = apt.show(name)
        if _CONCRETE.match(name):
            found[name] = fields["Version"]
        for dep in _depends(fields):
            # Stay inside the kernel's own packages (not modules, not tools).
            if dep.startswith(("linux-image-", "linux-binary-", "linux-base-")):
                pending.append(dep)
    if not any(n.startswith(("linux-image-", "linux-binary-")) for n in found):
        raise FetchError(f"{meta} leads to no kernel image package")
    return found


def _cached(meta_file: Path) -> dict | None:
    try:
        meta = json.loads(meta_file.read_text())
    except (OSError, ValueError):
        return None
    if not Path(meta.get("vmlinux", "")).is_file():
        return None
    meta["cached"] = True
    meta["download_s"] = 0.0
    return meta


_updated: set[Path] = set()


def apt_root(cache_dir: Path, suite: str, arch: str) -> Path:
    """The private apt of @suite for @arch (amd64 keeps apt/<suite>, the
    layout from before other architectures)."""
    return cache_dir / "apt" / (suite if arch == "amd64" else f"{suite}-{arch}")


@contextlib.contextmanager
def suite_apt(cache_dir: Path, suite: str, arch: str, archive: aptsrc.Archive,
              log: Callable[[str], None], who: str) -> Iterator[PrivateApt]:
    """The private apt of @suite/@arch, locked and updated once per process."""
    root = apt_root(cache_dir, suite, arch)
    with _flock(root.with_name(root.name + ".lock")):
        apt = PrivateApt(root, aptsrc.sources_for(archive, suite, arch), arch)
        if apt.root not in _updated:
            log(f"{who}: apt update ({suite}, {arch}, {archive.uri})")
            apt.run("apt-get", "update")
            _updated.add(apt.root)
        yield apt


@contextlib.contextmanager
def _flock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def fetch_debian(spec: KernelSpec, cache_dir: Path, log: Callable[[str], None],
                 apt_etc: Path = Path("/etc/apt"), refresh: bool | None = None) -> dict:
    """Make sure the kernel of @spec is in the cache; return its kernel.json.

    A cached kernel is used without touching the network unless @refresh
    (default: FAULTLINE_KERNEL_REFRESH=1 in the environment) asks to look
    for a newer package in the archive.
    """
    assert spec.suite and spec.flavour
    cache_dir = cache_dir.resolve()
    with _flock(cache_dir / f"{spec.slug}.lock"):
        return _fetch(spec, cache_dir, log, apt_etc, refresh)


def _fetch(spec: KernelSpec, cache_dir: Path, log: Callable[[str], None],
           apt_etc: Path, refresh: bool | None) -> dict:
    if refresh is None:
        refresh = os.environ.get("FAULTLINE_KERNEL_REFRESH") == "1"
    top = cache_dir / spec.slug
    meta_file = top / "kernel.json"
    cached = _cached(meta_file)
    if cached is not None and not refresh:
        return cached
    t0 = time.monotonic()
    archive = aptsrc.find_archive(aptsrc.machine_entries(apt_etc))
    debs = top / "debs"
    arch = archmod.get(spec.arch or "amd64")
    with suite_apt(cache_dir, spec.suite, arch.name, archive, log, spec.text) as apt:
        pkgs = resolve(apt, spec.flavour)
        if cached is not None and cached.get("packages") == pkgs:
            log(f"{spec.text}: cached {cached['version']} is the newest")
            return cached
        log(f"{spec.text}: downloading "
            f"{', '.join(f'{n}={v}' for n, v in sorted(pkgs.items()))}")
        shutil.rmtree(debs, ignore_errors=True)
        debs.mkdir(parents=True)
        apt.run("apt-get", "download", *(f"{n}={v}" for n, v in sorted(pkgs.items())),
                cwd=debs)
    image_pkg = next((n for n in sorted(pkgs) if n.startswith("linux-binary-")),
                     next(n for n in sorted(pkgs) if n.startswith("linux-image-")))
    version = pkgs[image_pkg]
    out = top / re.sub(r"[^A-Za-z0-9.+_-]", "_", version)
    out.mkdir(parents=True, exist_ok=True)
    vmlinuz = config = None
    for name in sorted(pkgs):
        deb = next(debs.glob(f"{name}_*.deb"), None)
        if deb is None:
            raise FetchError(f"apt-get download left no .deb for {name}")
        got = extract_deb_members(deb, out, {
            # riscv64 in trixie ships its raw Image as boot/vmlinux-<ver>.
            "vmlinuz": re.compile(r"^\./?(boot/vmlinu[xz]-|usr/lib/modules/[^/]+/vmlinuz$)"),
            "config": re.compile(r"^\./?(boot/config-|usr/lib/modules/[^/]+/config$)"),
        })
        vmlinuz = vmlinuz or got.get("vmlinuz")
        config = config or got.get("config")
    if vmlinuz is None:
        raise FetchError(f"no vmlinuz in {', '.join(sorted(pkgs))}")
    # "vmlinux" is the uncompressed kernel QEMU loads: the ELF vmlinux on
    # amd64, the raw boot Image on arm64 and riscv64 (kernels/arch.py).
    if arch.image == "vmlinux":
        vmlinux = out / "vmlinux"
        comp = extract_vmlinux(vmlinuz, vmlinux)
    else:
        vmlinux, comp = extract_boot_image(vmlinuz, out / "Image", arch.name)
    meta = {
        "package": image_pkg, "version": version, "packages": pkgs,
        "release": re.sub(r"^linux-(image|binary)-", "", image_pkg),
        "suite": spec.suite, "flavour": spec.flavour, "arch": arch.name,
        "archive": archive.uri,
        "vmlinuz": str(vmlinuz), "vmlinux": str(vmlinux), "compression": comp,
        "config": str(config) if config else None,
        "config_facts": config_facts(config) if config else {},
        "fetched": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    tmp = meta_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(meta, indent=1) + "\n")
    tmp.replace(meta_file)
    for old in top.iterdir():           # older versions, .debs, old layouts
        if old.is_dir() and old != out:
            shutil.rmtree(old, ignore_errors=True)
    meta["cached"] = False
    meta["download_s"] = round(time.monotonic() - t0, 2)
    return meta
