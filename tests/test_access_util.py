# SPDX-License-Identifier: GPL-2.0
"""Helpers (no tests here) for the access/API/errno/seccomp case tests:
run a case binary (optionally as nobody, optionally under a seccomp filter)
and read its TAP."""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import re
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Optional

SYSCTL = Path("/proc/sys/vm/unprivileged_userfaultfd")
NOBODY = 65534
ACCESS_BINARIES = ("api", "errno", "access", "seccomp")

_POINT = re.compile(r"^(ok|not ok) (\d+) (\S+)(?: # (SKIP|TODO)\s*(.*))?$")


@dataclass
class Point:
    ok: bool
    name: str
    skip: Optional[str] = None


@dataclass
class Run:
    returncode: int
    stdout: str
    points: list[Point] = field(default_factory=list)

    @property
    def failed(self) -> list[str]:
        return [p.name for p in self.points if not p.ok]

    @property
    def skipped(self) -> list[Point]:
        return [p for p in self.points if p.skip is not None]

    def findings(self) -> list[str]:
        return [line for line in self.stdout.splitlines()
                if line.startswith("# finding:")]


def parse_tap(text: str) -> list[Point]:
    points = []
    for line in text.splitlines():
        m = _POINT.match(line.strip())
        if m:
            skip = m.group(5) if m.group(4) == "SKIP" else None
            points.append(Point(m.group(1) == "ok", m.group(3),
                                (skip or "").strip() if m.group(4) else None))
    return points


def sysctl_value() -> int:
    return int(SYSCTL.read_text().strip())


@contextmanager
def hold_sysctl(build_dir: Path, value: int, path: Path = SYSCTL,
                timeout: float = 60) -> Iterator[int]:
    """@path at @value for the block, changed the way the case binaries
    change it (tools/sysctl-hold: harness/sysctl.c's machine-wide lock and
    record, so that no one takes another's temporary value for the
    original); yields the original, which is back after the block."""
    proc = subprocess.Popen([str(build_dir / "tools" / "sysctl-hold"), str(path),
                             str(value)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    assert proc.stdout and proc.stdin
    line = proc.stdout.readline()
    if not line.startswith("held "):
        proc.kill()
        _, err = proc.communicate(timeout=timeout)
        raise RuntimeError(f"sysctl-hold {path} {value}: {err.strip()}")
    try:
        yield int(line.split()[1])
    finally:
        proc.stdin.close()
        proc.wait(timeout=timeout)


def world_copy(binaries: list[Path]) -> Path:
    """Copy binaries into a fresh world-readable dir under /tmp (nobody
    cannot reach /root or a 0700 pytest tmp dir)."""
    d = Path(tempfile.mkdtemp(prefix="fl-access-py-", dir="/tmp"))
    d.chmod(0o755)
    for b in binaries:
        dst = d / b.name
        shutil.copy2(b, dst)
        dst.chmod(0o755)
    return d


def _seccomp_filter(errno_value: int) -> Callable[[], None]:
    """A preexec_fn loading a libseccomp filter that answers userfaultfd(2)
    with -errno_value (NO_NEW_PRIVS is set by libseccomp's default)."""
    lib = ctypes.CDLL(ctypes.util.find_library("seccomp") or "libseccomp.so.2")
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_rule_add.argtypes = [ctypes.c_void_p, ctypes.c_uint32,
                                     ctypes.c_int, ctypes.c_uint]
    lib.seccomp_load.argtypes = [ctypes.c_void_p]
    allow = 0x7FFF0000
    deny = 0x00050000 | (errno_value & 0xFFFF)
    nr = lib.seccomp_syscall_resolve_name(b"userfaultfd")

    def load() -> None:
        ctx = lib.seccomp_init(allow)
        if not ctx or lib.seccomp_rule_add(ctx, deny, nr, 0) \
                or lib.seccomp_load(ctx):
            os._exit(99)

    return load


def run_case(binary: Path, *args: str, nobody: bool = False,
             seccomp_errno: int = 0, env: Optional[dict[str, str]] = None,
             timeout: float = 60) -> Run:
    """Run one case binary and parse its TAP."""
    kwargs: dict = {}
    if nobody and os.geteuid() == 0:
        kwargs.update(user=NOBODY, group=NOBODY, extra_groups=[])
    if seccomp_errno:
        kwargs["preexec_fn"] = _seccomp_filter(seccomp_errno)
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    p = subprocess.run([str(binary), *args], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=timeout,
                       env=full_env, cwd="/", **kwargs)
    return Run(p.returncode, p.stdout, parse_tap(p.stdout))


def descendants(pid: int) -> list[int]:
    """All live descendants of pid, parents before children."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(0), []):
            out.append(c)
            todo.append(c)
    return out
