# SPDX-License-Identifier: GPL-2.0
"""uffd-probe --as-user: the probe run as root for another identity must
see what that user's own process sees (setpriv starts the probe as that
user for comparison), with its gid and groups, and no capability."""
from __future__ import annotations

import grp
import json
import os
import pwd
import stat
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from test_probe_util import by_path, probe_json, public_dir, run, validate

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="--as-user needs root")

DEV = Path("/dev/userfaultfd")
NO_CAPS = {"inheritable": "0x0", "permitted": "0x0", "effective": "0x0",
           "bounding": "0x0", "ambient": "0x0"}


@pytest.fixture(scope="module")
def pub(build_dir: Path) -> Iterator[Path]:
    """The probe where any user can run it (not under /root)."""
    with public_dir(build_dir, "uffd-probe") as d:
        yield d


def setpriv(user: str, cmd: list[str]) -> list[str]:
    """Start @cmd as @user with its groups and no capabilities at all."""
    pw = pwd.getpwnam(user)
    return ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}",
            "--init-groups", "--inh-caps=-all", "--ambient-caps=-all",
            "--bounding-set=-all", "--no-new-privs", *cmd]


def without_view(doc: dict[str, Any]) -> dict[str, Any]:
    """The document minus what says how the identity was obtained."""
    doc = json.loads(json.dumps(doc))
    for key in ("view", "as_user"):
        doc["process"].pop(key)
    return doc


def stable_pair(a: list[str], b: list[str]) -> tuple[dict, dict]:
    """Run both probes until they saw the same sysctl value (another
    suite on this machine may flip vm.unprivileged_userfaultfd briefly)."""
    for _ in range(40):
        da, db = probe_json(a), probe_json(b)
        key = "unprivileged_userfaultfd"
        if da["process"][key] == db["process"][key]:
            return da, db
        time.sleep(0.05)
    pytest.skip("vm.unprivileged_userfaultfd kept changing")


def test_agrees_with_running_as_the_user(pub: Path) -> None:
    probe = str(pub / "uffd-probe")
    own, as_user = stable_pair(setpriv("nobody", [probe]),
                               [probe, "--as-user", "65534"])
    assert as_user["process"]["view"] == "as-user"
    assert as_user["process"]["as_user"] == "65534"
    assert own["process"]["view"] == "caller"
    assert without_view(as_user) == without_view(own)
    proc = as_user["process"]
    assert (proc["uid"], proc["euid"], proc["gid"]) == (65534, 65534, 65534)
    assert proc["capabilities"] == NO_CAPS and proc["no_new_privs"] is True
    assert proc["groups"] == os.getgrouplist("nobody",
                                             pwd.getpwnam("nobody").pw_gid)


def test_the_issue_example(pub: Path) -> None:
    """Root with --unprivileged keeps uid 0 and owns the 0600 node; the
    workload user does not."""
    st = DEV.stat() if DEV.exists() else None
    if not st or st.st_uid != 0 or st.st_mode & 0o006:
        pytest.skip("needs /dev/userfaultfd closed to others")
    probe = str(pub / "uffd-probe")
    root, user = stable_pair([probe, "--unprivileged"],
                             [probe, "--as-user", "nobody"])
    if root["process"]["unprivileged_userfaultfd"] != 0:
        pytest.skip("vm.unprivileged_userfaultfd is not 0")
    ok = {p["name"]: p["ok"] for p in root["profiles"]}
    assert ok["qemu-postcopy"] and ok["firecracker"]
    ok = {p["name"]: p["ok"] for p in user["profiles"]}
    assert not ok["qemu-postcopy"] and not ok["firecracker"]
    dev = by_path(user, "dev-userfaultfd")
    assert (dev["errno"], dev["cause"]) == ("EACCES", "device_mode")
    assert "uid 65534" in dev["reason"]


def test_uid_0_without_capabilities(pub: Path) -> None:
    """Same uid as the caller: only the capabilities differ, and they are
    gone (EVENT_FORK needs CAP_SYS_PTRACE; the node's owner still opens
    it by its mode)."""
    doc = probe_json([str(pub / "uffd-probe"), "--as-user", "0:0"])
    proc = doc["process"]
    assert (proc["euid"], proc["egid"]) == (0, 0)
    assert proc["capabilities"] == NO_CAPS
    assert proc["cap_sys_ptrace"] == "no"
    assert doc["api"]["event_fork_allowed"]["status"] == "no"
    if proc["unprivileged_userfaultfd"] == 0:
        sys = by_path(doc, "syscall")
        assert (sys["errno"], sys["cause"]) == ("EPERM", "sysctl"), sys
    if DEV.exists() and DEV.stat().st_uid == 0 and DEV.stat().st_mode & 0o600:
        assert by_path(doc, "dev-userfaultfd")["status"] == "yes"


@pytest.fixture
def node(pub: Path) -> Iterator[Any]:
    """A private copy of the device node with a chosen group and mode."""
    if not DEV.exists():
        pytest.skip("no /dev/userfaultfd on this kernel")
    path = pub / "node"

    def make(gid: int, mode: int) -> Path:
        path.unlink(missing_ok=True)
        os.mknod(path, stat.S_IFCHR | mode, DEV.stat().st_rdev)
        os.chown(path, 0, gid)
        path.chmod(mode)
        return path
    try:
        yield make
    finally:
        path.unlink(missing_ok=True)


def dev_status(pub: Path, node: Path, who: str) -> dict[str, Any]:
    doc = probe_json([str(pub / "uffd-probe"), "--as-user", who,
                      "--dev", str(node)])
    return by_path(doc, "dev-userfaultfd") | {"groups":
                                              doc["process"]["groups"]}


def test_gid_opens_a_group_node(pub: Path, node: Any) -> None:
    n = node(0, 0o660)
    assert dev_status(pub, n, "65534:0")["status"] == "yes"
    assert dev_status(pub, n, "nobody:nogroup")["errno"] == "EACCES"


def _user_with_supplementary_group() -> tuple[str, int] | None:
    for g in grp.getgrall():
        for member in g.gr_mem:
            try:
                if pwd.getpwnam(member).pw_gid != g.gr_gid:
                    return member, g.gr_gid
            except KeyError:
                continue
    return None


def test_supplementary_group_opens_a_group_node(pub: Path, node: Any) -> None:
    found = _user_with_supplementary_group()
    if not found:
        pytest.skip("no user with a supplementary group in /etc/group")
    user, gid = found
    n = node(gid, 0o660)
    got = dev_status(pub, n, user)
    assert gid in got["groups"] and got["status"] == "yes", got
    # Without a passwd entry there are no groups: the same gid as a
    # primary group still opens it, any other does not.
    free = next(u for u in range(50000, 60000) if not _has_pw(u))
    assert dev_status(pub, n, f"{free}:{gid}")["status"] == "yes"
    got = dev_status(pub, n, f"{free}:65534")
    assert got["errno"] == "EACCES" and got["groups"] == []


def _has_pw(uid: int) -> bool:
    try:
        pwd.getpwuid(uid)
        return True
    except KeyError:
        return False


@pytest.mark.parametrize("fmt,says", [
    ("text", "uid 65534 gid 65534 groups 65534, no capabilities (--as-user nobody)"),
    ("header", "(as uid 65534 gid 65534, no capabilities)"),
    ("shell", "what uid 65534 gid 65534 gets (view: as-user)"),
    ("prometheus", 'view="as-user",uid="65534",gid="65534"} 1'),
    ("nfd", "for uid 65534 gid 65534 (view: as-user)"),
])
def test_every_format_names_the_identity(pub: Path, fmt: str,
                                         says: str) -> None:
    res = run([str(pub / "uffd-probe"), "--as-user", "nobody",
               "--format", fmt])
    assert res.returncode == 0, res.stderr
    assert says in res.stdout


def test_profile_exit_code_comes_from_the_child(pub: Path) -> None:
    probe = str(pub / "uffd-probe")
    res = run([probe, "--as-user", "nobody", "--profile", "android-art"])
    doc = probe_json([probe, "--as-user", "nobody"])
    ok = {p["name"]: p["ok"] for p in doc["profiles"]}["android-art"]
    assert res.returncode == (0 if ok else 1), res.stdout
    res = run([probe, "--as-user", "nobody", "--require", "EVENT_FORK_ALLOWED"])
    assert res.returncode == 1 and "missing: EVENT_FORK_ALLOWED" in res.stdout


@pytest.mark.parametrize("args,says", [
    (["--as-user", "no-such-user-x"], "no user named"),
    (["--as-user", "59999"], "--as-user 59999:GID"),
    (["--as-user", "nobody:no-such-group-x"], "no group named"),
    (["--as-user", "nobody", "--unprivileged"], "leave out --unprivileged"),
    (["--as-user", ""], "USER[:GROUP]"),
])
def test_bad_identity_is_a_usage_error(pub: Path, args: list[str],
                                       says: str) -> None:
    if "59999" in args and _has_pw(59999):
        pytest.skip("uid 59999 exists here")
    res = run([str(pub / "uffd-probe"), *args])
    assert res.returncode == 2 and says in res.stderr, res.stderr
    assert res.stdout == ""


def test_output_written_for_a_user_who_cannot_write_there(pub: Path,
                                                          tmp_path: Path) -> None:
    """The parent (root) creates and renames the file; the child only
    writes to the descriptor it inherited."""
    out = tmp_path / "uffd.json"
    res = run([str(pub / "uffd-probe"), "--as-user", "nobody", "--json",
               "--output", str(out)])
    assert res.returncode == 0, res.stderr
    doc = json.loads(out.read_text())
    validate(doc)
    assert doc["process"]["euid"] == 65534 and out.stat().st_uid == 0
