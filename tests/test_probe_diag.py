# SPDX-License-Identifier: GPL-2.0
"""uffd-probe diagnosis, for real: seccomp filters that deny userfaultfd
(EPERM as Docker's default profile does, and a faked ENOSYS), an
unprivileged user with vm.unprivileged_userfaultfd=0, private copies of
the device node, and --unprivileged."""
from __future__ import annotations

import json
import os
import stat
import subprocess
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from test_access_util import hold_sysctl
from test_probe_util import (as_nobody, by_path, probe_json, public_dir,
                             reg, run, validate)

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="needs root to set up users and nodes")

SYSCTL = Path("/proc/sys/vm/unprivileged_userfaultfd")
DEV = Path("/dev/userfaultfd")


@pytest.fixture(scope="module")
def pub(build_dir: Path) -> Iterator[Path]:
    """A world-accessible directory with the probe and seccomp-exec."""
    with public_dir(build_dir, "uffd-probe", "tools/seccomp-exec") as d:
        yield d


@pytest.fixture
def sysctl_zero(build_dir: Path) -> Iterator[None]:
    """vm.unprivileged_userfaultfd=0 for the test, restored afterwards
    (held the way the case binaries hold it: test_access_util.hold_sysctl)."""
    if not SYSCTL.exists():
        pytest.skip("kernel has no vm.unprivileged_userfaultfd")
    with hold_sysctl(build_dir, 0, SYSCTL):
        yield


def at_sysctl_zero(cmd: list[str]) -> tuple[dict[str, Any], Any]:
    """Run a `--json` probe command until it saw the sysctl at 0.

    Other test suites on the same machine may flip the sysctl for a moment
    (and restore it); the probe reports the value it saw, so a run that
    raced with them is recognised and repeated instead of misjudged.
    """
    for _ in range(40):
        res = run(cmd)
        doc = json.loads(res.stdout)
        validate(doc)
        if doc["process"]["unprivileged_userfaultfd"] == 0:
            return doc, res
        time.sleep(0.05)
    pytest.skip("vm.unprivileged_userfaultfd kept being changed by another process")


def seccomp(pub: Path, err: str, cmd: list[str]) -> list[str]:
    return [str(pub / "seccomp-exec"), "--errno", err, "--", *cmd]


def node_denies_nobody() -> bool:
    st = DEV.stat()
    return (st.st_mode & 0o006) != 0o006


@pytest.fixture
def node_copy(pub: Path) -> Iterator[Any]:
    """Make a private node with DEV's major/minor and a chosen mode."""
    if not DEV.exists():
        pytest.skip("no /dev/userfaultfd on this kernel")
    made: list[Path] = []

    def make(mode: int) -> Path:
        path = pub / f"node-{mode:o}"
        if not path.exists():
            os.mknod(path, stat.S_IFCHR | mode, DEV.stat().st_rdev)
            made.append(path)
        path.chmod(mode)
        try:
            os.close(os.open(path, os.O_RDWR))
        except OSError as e:
            pytest.skip(f"device nodes do not work in {pub} ({e.strerror}: nodev?)")
        return path
    try:
        yield make
    finally:
        for p in made:
            p.unlink(missing_ok=True)


def assert_seccomp_denied(doc: dict[str, Any], err: str) -> None:
    assert doc["process"]["seccomp_mode"] == 2
    for path in ("syscall", "syscall-user-mode-only"):
        a = by_path(doc, path)
        assert (a["status"], a["errno"], a["cause"]) == ("no", err, "seccomp"), a


@pytest.mark.parametrize("err", ["EPERM", "ENOSYS"])
def test_seccomp_as_root(pub: Path, err: str) -> None:
    doc = probe_json(seccomp(pub, err, [str(pub / "uffd-probe")]))
    assert_seccomp_denied(doc, err)
    # The device node is not a syscall: it still works and serves the rest.
    assert by_path(doc, "dev-userfaultfd")["status"] == "yes"
    assert doc["api"]["via"] == "dev-userfaultfd"
    assert doc["kernel_faults"]["status"] == "yes"
    assert doc["implemented"]["status"] == "yes"
    assert doc["implemented"]["cause"] == "seccomp"
    assert reg(doc, "anon", "MISSING")["status"] == "yes"


def test_seccomp_enosys_without_node(pub: Path) -> None:
    """No node to prove the kernel has uffd: the config must decide."""
    doc = probe_json(seccomp(pub, "ENOSYS", [str(pub / "uffd-probe"),
                                             "--dev", "/nonexistent/uffd"]))
    cfg = doc["config"]
    a = by_path(doc, "syscall")
    if cfg["status"] == "yes" and cfg["options"]["CONFIG_USERFAULTFD"] == "y":
        assert a["cause"] == "seccomp", a
    else:
        assert a["cause"] in ("unknown", "no_kernel_support"), a
    d = by_path(doc, "dev-userfaultfd")
    assert (d["errno"], d["cause"]) == ("ENOENT", "no_device")
    assert doc["api"]["status"] == "unknown"
    assert all(r["status"] == "unknown" for r in doc["register"])
    assert all(not p["ok"] for p in doc["profiles"])


def test_nobody_sysctl_zero(pub: Path, sysctl_zero: None) -> None:
    probe = str(pub / "uffd-probe")
    doc, _ = at_sysctl_zero(as_nobody([probe, "--json"]))
    assert doc["process"]["euid"] != 0
    assert doc["process"]["cap_sys_ptrace"] == "no"
    a = by_path(doc, "syscall")
    assert (a["status"], a["errno"], a["cause"]) == ("no", "EPERM", "sysctl"), a
    assert by_path(doc, "syscall-user-mode-only")["status"] == "yes"
    if node_denies_nobody():
        d = by_path(doc, "dev-userfaultfd")
        assert (d["errno"], d["cause"]) == ("EACCES", "device_mode"), d
        assert f"{DEV.stat().st_mode & 0o7777:04o}" in d["reason"]
        assert doc["kernel_faults"]["status"] == "no"
        assert doc["kernel_faults"]["cause"] == "user_mode_only"
        assert doc["api"]["via"] == "syscall-user-mode-only"
    fork = doc["api"]["event_fork_allowed"]
    assert (fork["status"], fork["errno"]) == ("no", "EPERM")
    assert reg(doc, "anon", "MISSING")["status"] == "yes"

    profiles = {p["name"]: p for p in doc["profiles"]}
    assert profiles["android-art"]["ok"] is True
    crit = profiles["criu-lazy-pages"]
    assert not crit["ok"] and "CAP_SYS_PTRACE" in crit["fix"]
    if node_denies_nobody():
        qemu = profiles["qemu-postcopy"]
        assert not qemu["ok"]
        assert "vm.unprivileged_userfaultfd=1" in qemu["fix"]
        _, res = at_sysctl_zero(as_nobody([probe, "--json", "--profile",
                                           "qemu-postcopy"]))
        assert res.returncode == 1 and "missing" in res.stderr
        _, res = at_sysctl_zero(as_nobody([probe, "--json", "--require",
                                           "KERNEL_FAULTS"]))
        assert res.returncode == 1
    assert run(as_nobody([probe, "--profile", "android-art"])).returncode == 0
    assert run(as_nobody([probe, "--require",
                          "USER_MODE_ONLY,MISSING_SHMEM"])).returncode == 0
    _, res = at_sysctl_zero(as_nobody([probe, "--json", "--require",
                                       "SYSCALL"]))
    assert res.returncode == 1 and "missing: SYSCALL" in res.stderr


def test_nobody_private_node(pub: Path, node_copy: Any,
                             sysctl_zero: None) -> None:
    probe = str(pub / "uffd-probe")
    open_node = node_copy(0o666)
    doc = probe_json(as_nobody([probe, "--dev", str(open_node)]))
    assert by_path(doc, "dev-userfaultfd")["status"] == "yes"
    assert doc["kernel_faults"]["status"] == "yes"
    assert doc["api"]["via"] == "dev-userfaultfd"
    assert {p["name"]: p["ok"] for p in doc["profiles"]}["qemu-postcopy"]

    closed = node_copy(0o600)
    doc = probe_json(as_nobody([probe, "--dev", str(closed)]))
    d = by_path(doc, "dev-userfaultfd")
    assert (d["status"], d["errno"], d["cause"]) == ("no", "EACCES",
                                                     "device_mode")
    assert "0600" in d["reason"] and "uid 65534" in d["reason"]


def test_nobody_under_seccomp(pub: Path, sysctl_zero: None) -> None:
    probe = str(pub / "uffd-probe")
    doc = probe_json(as_nobody(seccomp(pub, "EPERM", [probe])))
    assert_seccomp_denied(doc, "EPERM")
    if node_denies_nobody():
        assert doc["kernel_faults"]["status"] == "no"
        assert doc["api"]["status"] == "unknown"
        art = {p["name"]: p for p in doc["profiles"]}["android-art"]
        assert not art["ok"] and "seccomp" in art["fix"]
        res = run(as_nobody(seccomp(pub, "EPERM", [probe, "--profile",
                                                   "android-art"])))
        assert res.returncode == 1 and "seccomp" in res.stdout


def test_unprivileged_view(pub: Path, sysctl_zero: None) -> None:
    doc, _ = at_sysctl_zero([str(pub / "uffd-probe"), "--unprivileged",
                             "--json"])
    assert doc["process"]["unprivileged_view"] is True
    assert doc["process"]["cap_sys_ptrace"] == "no"
    a = by_path(doc, "syscall")
    assert (a["errno"], a["cause"]) == ("EPERM", "sysctl"), a
    assert doc["api"]["event_fork_allowed"]["status"] == "no"
    # Root still owns the node: the device path is unaffected.
    assert by_path(doc, "dev-userfaultfd")["status"] == "yes"


@pytest.mark.parametrize("setup", ["nobody-seccomp", "root-enosys"])
def test_degraded_header_and_shell(pub: Path, tmp_path: Path, setup: str,
                                   sysctl_zero: None) -> None:
    """Reasons end up in comments: the header must still compile, the
    shell output must still eval, when everything is denied."""
    probe = str(pub / "uffd-probe")
    if setup == "nobody-seccomp":
        wrap = lambda c: as_nobody(seccomp(pub, "EPERM", c))  # noqa: E731
    else:
        wrap = lambda c: seccomp(pub, "ENOSYS", c)  # noqa: E731
    hdr = run(wrap([probe, "--header", "--dev", "/x*/ */y"]))
    assert hdr.returncode == 0, hdr.stderr
    (tmp_path / "p.h").write_text(hdr.stdout)
    (tmp_path / "m.c").write_text('#include "p.h"\nint main(void){return 0;}\n')
    cc = run(["gcc", "-Wall", "-Werror", "-fsyntax-only",
              str(tmp_path / "m.c")])
    assert cc.returncode == 0, cc.stderr + hdr.stdout
    assert "#define UFFD_HAVE_SYSCALL 1" not in hdr.stdout
    sh = run(wrap([probe, "--shell"]))
    ev = subprocess.run(["sh", "-euc", 'eval "$1"; echo "$UFFD_HAVE_SYSCALL"',
                         "sh", sh.stdout], capture_output=True, text=True)
    assert ev.returncode == 0 and ev.stdout.strip() == "0", ev.stderr


def test_untestable_memory_types_say_why(pub: Path) -> None:
    """memfd_create denied: the four file types cannot be set up; the
    matrix says so per cell and anon is still probed."""
    cmd = [str(pub / "seccomp-exec"), "--syscall", "memfd_create",
           "--errno", "ENOSYS", "--", str(pub / "uffd-probe")]
    doc = probe_json(cmd)
    mem = {m["mem"]: m for m in doc["memory"]}
    assert mem["anon"]["status"] == "yes"
    assert by_path(doc, "syscall")["status"] == "yes"
    for t in ("shmem", "shmem_private", "hugetlb", "hugetlb_private"):
        assert (mem[t]["status"], mem[t]["errno"], mem[t]["cause"]) == \
            ("no", "ENOSYS", "no_mapping"), mem[t]
        assert "memfd_create" in mem[t]["reason"]
        for r in doc["register"]:
            if r["mem"] == t:
                assert r["status"] == "unknown" and "memfd_create" in r["reason"]
    assert reg(doc, "anon", "MISSING")["status"] == "yes"
    fc = {p["name"]: p for p in doc["profiles"]}["firecracker"]
    assert fc["status"] == "unknown" and not fc["ok"]
    assert any("hugetlb_private" in m for m in fc["missing"])
