# SPDX-License-Identifier: GPL-2.0
"""Choosing test points before a run (run.py --only / --list).

The runner does the choosing, on the host and in every VM alike
(faultline-runner --only GLOB, faultline.only=GLOB on a kernel command
line: reports/STREAM.md, "Choosing points"). This module checks the globs
before anything runs, asks the host's runner which points they select
(`--list`), and reads back what a report's runs were restricted to.
"""
from __future__ import annotations

import fnmatch
import subprocess
from pathlib import Path
from typing import Iterable, TextIO

from .expectations import Expectation
from .model import Run

# The kernel command line is short (COMMAND_LINE_SIZE: 2048 bytes on x86-64
# and arm64, 1024 on riscv64) and already carries the console, panic and
# runner options: the globs get at most this much of it, words included.
CMDLINE_BUDGET = 512
LIST_TIMEOUT_S = 60


class SelectionError(ValueError):
    """Globs that cannot be used, or points that cannot be listed (exit 2)."""


def check_globs(globs: Iterable[str], kernel_cmdline: bool) -> None:
    """SelectionError unless every glob can travel to every target: no
    blanks or quotes (a kernel command line word), nothing empty, and with
    VMs (@kernel_cmdline) within CMDLINE_BUDGET bytes in all."""
    words = []
    for g in globs:
        if not g or any(c.isspace() or c in "\"'" for c in g):
            raise SelectionError(f"--only {g!r}: a glob without blanks or quotes")
        if not g.strip(","):
            raise SelectionError(f"--only {g!r}: no glob in it")
        words.append(f"faultline.only={g}")
    size = len(" ".join(words))
    if kernel_cmdline and size > CMDLINE_BUDGET:
        raise SelectionError(
            f"--only: {size} bytes of globs do not fit on a kernel command line "
            f"(at most {CMDLINE_BUDGET}); use fewer, wider globs")


def only_options(globs: Iterable[str]) -> list[tuple[str, str]]:
    """The runner's options for @globs, one (option, value) per glob."""
    return [("only", g) for g in globs]


def list_points(runner: Path, cases: list[Path],
                globs: list[str]) -> tuple[list[tuple[str, str]], str]:
    """(binary name, point id) of every point @globs select (every point
    without globs), in run order, from the binaries' own lists; and what
    the runner said about binaries that could not list theirs ("" when all
    could: a run gives those binaries whole, never loses them)."""
    cmd = [str(runner), "--list", *(f"--only={g}" for g in globs),
           *map(str, cases)]
    try:
        res = subprocess.run(cmd, capture_output=True, text=True,
                             timeout=LIST_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise SelectionError(f"listing the points: {e}") from e
    if res.returncode not in (0, 1):
        raise SelectionError("listing the points: " + (
            res.stderr.strip() or f"{runner} exited {res.returncode}"))
    out = []
    for line in res.stdout.splitlines():
        name, _, point = line.partition(" ")
        if point:
            out.append((name, point))
    return out, res.stderr.strip() if res.returncode else ""


def selected_binaries(points: list[tuple[str, str]]) -> list[str]:
    """The binaries that run for these points, in run order."""
    return list(dict.fromkeys(name for name, _ in points))


def selection_of(runs: list[Run]) -> list[str] | None:
    """The globs a report's runs were restricted to (their run frames'
    `selection`, in order), or None when every point was run."""
    globs: list[str] = []
    for r in runs:
        sel = r.header.get("selection")
        if isinstance(sel, list):
            globs += [str(g) for g in sel if str(g) not in globs]
    return globs or None



def counted(points: list[tuple[str, str]]) -> str:
    """"5 points in 1 binary": how many points, in how many binaries."""
    n, b = len(points), len(selected_binaries(points))
    return f"{n} point{'s' * (n != 1)} in {b} binar{'y' if b == 1 else 'ies'}"


def print_points(points: list[tuple[str, str]], out: TextIO, err: TextIO) -> None:
    """--list: one point id a line (a script's input), the count aside."""
    out.write("".join(f"{point}\n" for _, point in points))
    out.flush()
    err.write(counted(points) + "\n")


def expectations_in(exps: list[Expectation], globs: list[str],
                    points: list[str] | None) -> list[Expectation]:
    """The expectations a run restricted to @globs could have used (the
    others are not worth an "unused" warning): those matching one of the
    chosen @points; none when the points are unknown; all without globs."""
    if not globs:
        return exps
    return [e for e in exps
            if any(fnmatch.fnmatchcase(p, e.id) for p in points or [])]
