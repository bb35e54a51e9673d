# SPDX-License-Identifier: GPL-2.0
"""Derive a private apt configuration from the machine's own one.

We never name a mirror: the Debian archive (and security archive) URIs come
from the machine's apt sources; only the suite changes. apt then runs with a
private state/cache/etc directory so the machine's apt is left untouched.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
# Suite names that identify an entry as the Debian archive itself.
DEBIAN_SUITES = {"buster", "bullseye", "bookworm", "trixie", "forky", "duke", "sid",
                 "oldoldstable", "oldstable", "stable", "testing", "unstable"}
# Suites with -updates and -security companions (not sid).
ROLLING = {"sid", "unstable"}


class AptConfigError(RuntimeError):
    """The machine's apt configuration names no Debian archive we can reuse."""


@dataclass
class SourceEntry:
    types: list[str]
    uris: list[str]
    suites: list[str]
    components: list[str]
    signed_by: str | None = None
    options: dict[str, str] = field(default_factory=dict)


def parse_deb822(text: str) -> list[SourceEntry]:
    """Parse a deb822 .sources file (stanzas separated by blank lines)."""
    entries = []
    for stanza in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        key = None
        for line in stanza.splitlines():
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if line[0] in " \t" and key:
                fields[key] += "\n" + line.strip()
                continue
            if ":" not in line:
                continue
            key, _, value = line.partition(":")
            key = key.strip().lower()
            fields[key] = value.strip()
        if not fields or fields.get("enabled", "yes").lower() == "no":
            continue
        signed = fields.get("signed-by")
        # An inline key block is not a path: fall back to the default keyring.
        if signed and ("\n" in signed or "BEGIN PGP" in signed):
            signed = None
        entries.append(SourceEntry(
            types=fields.get("types", "").split(), uris=fields.get("uris", "").split(),
            suites=fields.get("suites", "").split(),
            components=fields.get("components", "").split(), signed_by=signed))
    return entries


def parse_one_line(text: str) -> list[SourceEntry]:
    """Parse the classic one-line sources.list format."""
    entries = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        m = re.match(r"^(deb|deb-src)\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)\s*(.*)$", line)
        if not m:
            continue
        opts = dict(o.split("=", 1) for o in (m.group(2) or "").split() if "=" in o)
        entries.append(SourceEntry(types=[m.group(1)], uris=[m.group(3)],
                                   suites=[m.group(4)], components=m.group(5).split(),
                                   signed_by=opts.get("signed-by"), options=opts))
    return entries


def machine_entries(etc: Path = Path("/etc/apt")) -> list[SourceEntry]:
    """All enabled entries of the machine's apt configuration."""
    entries: list[SourceEntry] = []
    main = etc / "sources.list"
    if main.is_file():
        entries += parse_one_line(main.read_text(errors="replace"))
    parts = etc / "sources.list.d"
    if parts.is_dir():
        for f in sorted(parts.iterdir()):
            if f.suffix == ".list":
                entries += parse_one_line(f.read_text(errors="replace"))
            elif f.suffix == ".sources":
                entries += parse_deb822(f.read_text(errors="replace"))
    return entries


@dataclass(frozen=True)
class Archive:
    uri: str                    # the Debian archive
    security_uri: str | None    # the Debian security archive, if configured
    keyring: str


def find_archive(entries: list[SourceEntry]) -> Archive:
    """Pick the machine's Debian archive and security archive URIs."""
    uri = sec = None
    keyring = None
    for e in entries:
        if "deb" not in e.types or not e.uris:
            continue
        for s in e.suites:
            base, _, suffix = s.partition("-")
            if base not in DEBIAN_SUITES and s.partition("/")[0] not in DEBIAN_SUITES:
                continue
            if suffix == "security" or s.endswith("/updates"):
                sec = sec or e.uris[0]
            elif not suffix and uri is None:
                uri = e.uris[0]
                keyring = e.signed_by
    if uri is None:
        raise AptConfigError("no Debian archive found in the machine's apt sources "
                             "(/etc/apt/sources.list, /etc/apt/sources.list.d/): "
                             "cannot derive where to fetch Debian kernels from")
    return Archive(uri=uri.rstrip("/"), security_uri=sec.rstrip("/") if sec else None,
                   keyring=keyring or DEFAULT_KEYRING)


def sources_for(archive: Archive, suite: str, arch: str = "amd64") -> str:
    """A one-line sources.list for @suite from @archive (main, @arch only)."""
    opts = f"[arch={arch} signed-by={archive.keyring}]"
    lines = [f"deb {opts} {archive.uri} {suite} main"]
    if suite not in ROLLING:
        lines.append(f"deb {opts} {archive.uri} {suite}-updates main")
        if archive.security_uri:
            lines.append(f"deb {opts} {archive.security_uri} {suite}-security main")
    return "\n".join(lines) + "\n"
