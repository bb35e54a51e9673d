# SPDX-License-Identifier: GPL-2.0
"""Does the archive have the kernel a debian: spec names? Asked before
anything runs, so a suite/flavour combination the archive lacks is a usage
error (exit 2) naming the combinations it has, not a failed column.

The answer comes from the archive's own package lists (the private apt of
kernels/debian.py, for the spec's suite and architecture), never from a
table here: `linux-image-<flavour>` metapackages are the flavours a suite
has. A cached kernel is taken as available without asking (no network);
an archive that cannot be reached is not a refusal (the kernel's column
then says why it could not be fetched).
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

from . import aptsrc
from .debian import FetchError, PrivateApt, suite_apt
from .spec import SUITES, KernelSpec, SpecError

# linux-image-<flavour> metapackages, not the versioned images
# (linux-image-6.1.0-28-cloud-arm64) nor their -dbg/-unsigned companions.
_NOT_FLAVOUR = re.compile(r"^\d|-(dbg|unsigned)$|-signed-template$")


def flavours(apt: PrivateApt, arch: str) -> list[str]:
    """The kernel flavours of @arch the suite behind @apt has."""
    out = apt.run("apt-cache", "pkgnames", "linux-image-")
    found = set()
    for name in out.split():
        flavour = name[len("linux-image-"):]
        if flavour and not _NOT_FLAVOUR.search(flavour) and arch in flavour.split("-"):
            found.add(flavour)
    return sorted(found)


def archive_arches(apt: PrivateApt, suite: str) -> list[str] | None:
    """The architectures the suite's Release file lists (None: unknown)."""
    for f in sorted((apt.root / "lists").glob(f"*_dists_{suite}_*Release")):
        m = re.search(r"^Architectures:(.*)$", f.read_text(errors="replace"), re.M)
        if m:
            return m.group(1).split()
    return None


def _cached(spec: KernelSpec, cache_dir: Path) -> bool:
    return (cache_dir / spec.slug / "kernel.json").is_file()


def check(specs: list[KernelSpec], cache_dir: Path, log: Callable[[str], None],
          apt_etc: Path = Path("/etc/apt")) -> None:
    """Raise SpecError for the first debian: spec the archive does not have."""
    todo = [s for s in specs if s.kind == "debian" and not _cached(s, cache_dir)]
    if not todo:
        return
    try:
        archive = aptsrc.find_archive(aptsrc.machine_entries(apt_etc))
    except aptsrc.AptConfigError:
        return                      # the kernel's column will say it
    lookup = _Lookup(cache_dir, archive, log)
    for spec in todo:
        assert spec.suite and spec.flavour and spec.arch
        have = lookup.flavours(spec.suite, spec.arch)
        if have is None or spec.flavour in have:
            continue
        raise SpecError(_refusal(spec, have, lookup))


class _Lookup:
    """Flavours per (suite, arch), each suite's lists updated at most once."""

    def __init__(self, cache_dir: Path, archive: aptsrc.Archive,
                 log: Callable[[str], None]):
        self.cache_dir, self.archive, self.log = cache_dir, archive, log
        self.known: dict[tuple[str, str], list[str] | None] = {}
        self.arches: dict[str, list[str] | None] = {}

    def flavours(self, suite: str, arch: str) -> list[str] | None:
        key = (suite, arch)
        if key not in self.known:
            try:
                with suite_apt(self.cache_dir, suite, arch, self.archive, self.log,
                               f"debian:{suite}") as apt:
                    self.known[key] = flavours(apt, arch)
                    self.arches[suite] = archive_arches(apt, suite)
            except FetchError as e:
                self.log(f"debian:{suite}: cannot ask the archive ({e})")
                self.known[key] = None
        return self.known[key]


def _refusal(spec: KernelSpec, have: list[str], lookup: _Lookup) -> str:
    arch = spec.arch
    assert arch is not None
    if have:
        why = f"{spec.suite}'s {arch} flavours: {', '.join(have)}"
    else:
        listed = lookup.arches.get(spec.suite or "")
        why = f"{spec.suite} has no {arch} kernel"
        if listed is not None and arch not in listed:
            why = (f"{spec.suite} carries no {arch} packages, only "
                   f"{', '.join(a for a in listed if a != 'all')}")
    # Where the flavour (or, failing that, the architecture) does exist.
    elsewhere = []
    for suite in SUITES:
        if suite == spec.suite:
            continue
        there = lookup.flavours(suite, arch)
        if there and spec.flavour in there:
            elsewhere.append(f"debian:{suite}:{spec.flavour}")
    if not elsewhere:
        for suite in SUITES:
            there = lookup.flavours(suite, arch) if suite != spec.suite else have
            elsewhere += [f"debian:{suite}:{f}" for f in there or []]
    return (f"kernel spec {spec.text!r}: the archive ({lookup.archive.uri}) has no "
            f"linux-image-{spec.flavour} in {spec.suite} ({why}). "
            + (f"Available: {', '.join(elsewhere)}" if elsewhere else
               f"No suite of {', '.join(SUITES)} has {arch} kernels."))
