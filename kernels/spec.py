# SPDX-License-Identifier: GPL-2.0
"""Kernel specs: which kernel a user asked for, parsed and checked.

    debian:<suite>[:<flavour>]    a Debian kernel package, e.g. debian:bookworm,
                                  debian:sid:amd64, debian:trixie:cloud-arm64,
                                  debian:sid:riscv64 (flavour default
                                  cloud-amd64); the flavour names the
                                  architecture (kernels/arch.py)
    <path>[:config=<path>]        a kernel image (bzImage, vmlinuz or vmlinux)
                                  built by the user, optionally with its .config
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from . import arch as archmod

# Suite -> kernel series it ships (for messages and reports only: what a
# kernel can do is always read from the kernel itself, never from this table).
SUITES: dict[str, str] = {
    "bullseye": "5.10",
    "bookworm": "6.1",
    "trixie": "6.12",
    "sid": "7.x",
}
# Aliases a user may type; the archive knows both names.
SUITE_ALIASES = {"unstable": "sid", "oldstable": "bookworm", "stable": "trixie",
                 "oldoldstable": "bullseye"}
DEFAULT_FLAVOUR = "cloud-amd64"
_FLAVOUR_RE = re.compile(r"^[a-z0-9][a-z0-9.+-]*$")


class SpecError(ValueError):
    """A kernel spec that cannot be used; the message says why and what works."""


@dataclass(frozen=True)
class KernelSpec:
    text: str                   # what the user typed
    kind: str                   # "debian" or "path"
    suite: str | None = None
    flavour: str | None = None
    image: Path | None = None
    config: Path | None = None

    @property
    def arch(self) -> str | None:
        """Debian architecture of a debian: spec (None for an image path:
        known only once the image is read, see image.image_arch)."""
        a = archmod.of_flavour(self.flavour) if self.flavour else None
        return a.name if a else None

    @property
    def slug(self) -> str:
        """A short name usable as a file name."""
        if self.kind == "debian":
            return f"{self.suite}-{self.flavour}"
        assert self.image is not None
        # Two kernels called bzImage in different trees must not collide.
        digest = hashlib.sha1(str(self.image).encode()).hexdigest()[:8]
        return (re.sub(r"[^A-Za-z0-9._-]+", "_", self.image.name) or "kernel") + "-" + digest


def _debian(text: str, rest: str) -> KernelSpec:
    parts = rest.split(":")
    if len(parts) > 2 or not parts[0]:
        raise SpecError(f"bad kernel spec {text!r}: expected debian:<suite>[:<flavour>], "
                        f"suites: {', '.join(SUITES)}")
    suite = SUITE_ALIASES.get(parts[0], parts[0])
    if suite not in SUITES:
        raise SpecError(f"bad kernel spec {text!r}: unknown Debian suite {parts[0]!r} "
                        f"(known: {', '.join(SUITES)})")
    flavour = parts[1] if len(parts) == 2 else DEFAULT_FLAVOUR
    if not _FLAVOUR_RE.match(flavour):
        raise SpecError(f"bad kernel spec {text!r}: bad flavour {flavour!r} "
                        f"(e.g. cloud-amd64, amd64, rt-amd64)")
    # The flavour names the architecture, which picks QEMU and the build.
    # Whether the suite has that flavour is the archive's to say
    # (kernels/available.py), not a table here.
    if archmod.of_flavour(flavour) is None:
        raise SpecError(f"bad kernel spec {text!r}: flavour {flavour!r} names no "
                        f"architecture faultline boots ({', '.join(archmod.ARCHES)}; "
                        f"e.g. cloud-amd64, amd64, cloud-arm64, arm64, riscv64)")
    return KernelSpec(text=text, kind="debian", suite=suite, flavour=flavour)


def _path(text: str) -> KernelSpec:
    image_s, config_s = text, None
    if ":config=" in text:
        image_s, config_s = text.split(":config=", 1)
        if not config_s:
            raise SpecError(f"bad kernel spec {text!r}: empty config= path")
    image = Path(image_s).expanduser()
    if not image.is_file():
        raise SpecError(f"bad kernel spec {text!r}: no such kernel image {str(image)!r} "
                        f"(expected host, debian:<suite>[:<flavour>] or a path to "
                        f"bzImage/vmlinuz/vmlinux)")
    config = None
    if config_s is not None:
        config = Path(config_s).expanduser()
        if not config.is_file():
            raise SpecError(f"bad kernel spec {text!r}: no such config file {config_s!r}")
    return KernelSpec(text=text, kind="path", image=image.resolve(),
                      config=config.resolve() if config else None)


def parse_spec(text: str) -> KernelSpec:
    """Parse one VM kernel spec; raise SpecError with a clear message.

    `host` is not a VM kernel: run.py handles it and never passes it here.
    """
    text = text.strip()
    if not text:
        raise SpecError("empty kernel spec")
    if text == "host":
        raise SpecError("'host' is the running kernel, not a kernel to boot")
    if text.startswith("debian:"):
        return _debian(text, text[len("debian:"):])
    if text.startswith("debian"):
        raise SpecError(f"bad kernel spec {text!r}: expected debian:<suite>[:<flavour>]")
    return _path(text)
