# SPDX-License-Identifier: GPL-2.0
"""Where faultline's binaries and data are: a source checkout or an install.

The one place that knows the difference (run.py asks it for its defaults):

- a source checkout (no marker file beside this one): the binaries are
  build/ and build-static/ of the checkout, run.py builds them (make, and
  scripts/deps.sh installs the Debian packages), results go to results/ of
  the checkout;
- an installed copy (`make install`, the Debian package): `make install`
  writes faultline-install.json beside this file, naming the directory of
  the binaries (libexec/faultline); nothing is built or installed at run
  time (the package's dependencies are), and results go to results/ under
  the current directory: never into the install tree.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
MARKER = "faultline-install.json"


@dataclass(frozen=True)
class Layout:
    installed: bool
    command: str             # what the user types: run.py or faultline
    build_dir: Path          # uffd-probe, faultline-runner, cases/
    static_build_dir: Path   # the static build booted in VMs (may be absent)
    expectations: Path       # the shipped expectations directory
    results: Path            # results/<timestamp>/ goes here without -o


def layout(here: Path = HERE, cwd: Path | None = None) -> Layout:
    """The layout of the tree @here (this file's directory by default)."""
    marker = here / MARKER
    if not marker.exists():
        return Layout(installed=False, command="./run.py", build_dir=here / "build",
                      static_build_dir=here / "build-static",
                      expectations=here / "expectations", results=here / "results")
    try:
        libexec = Path(json.loads(marker.read_text(encoding="utf-8"))["libexecdir"])
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise RuntimeError(f"{marker}: not a faultline install marker ({e})") from e
    return Layout(installed=True, command="faultline", build_dir=libexec, static_build_dir=libexec / "static",
                  expectations=here / "expectations",
                  results=(cwd or Path.cwd()) / "results")
