# SPDX-License-Identifier: GPL-2.0
"""uffd-probe as root: JSON against the kernel, renderers, exit codes."""
from __future__ import annotations

import errno
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from test_probe_util import (UFFD_USER_MODE_ONLY, by_path, probe_json, reg,
                        register_anon, run, uffd_api, uffd_create)

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="these tests compare root's view")

REQUIRED_TOP = ("schema_version", "kernel", "access", "api", "register",
                "config", "profiles")
MODES = ("MISSING", "WP", "MINOR", "MISSING|WP", "MISSING|MINOR",
         "WP|MINOR", "MISSING|WP|MINOR")
MEMS = ("anon", "shmem", "shmem_private", "hugetlb", "hugetlb_private")


@pytest.fixture(scope="module")
def probe(build_dir: Path) -> Path:
    return build_dir / "uffd-probe"


@pytest.fixture(scope="module")
def doc(probe: Path) -> dict[str, Any]:
    return probe_json([str(probe)])


def test_schema_keys(doc: dict[str, Any]) -> None:
    for key in REQUIRED_TOP:
        assert key in doc, key
    assert doc["schema_version"] == 1
    assert doc["kernel"]["release"] == os.uname().release
    assert doc["kernel"]["machine"] == os.uname().machine
    for a in doc["access"]:
        assert set(a) >= {"path", "status", "errno", "cause", "reason"}
    assert set(doc["api"]) >= {"status", "api", "features", "features_hex",
                               "feature_names", "unknown_feature_bits",
                               "ioctls", "ioctl_names"}
    for r in doc["register"]:
        assert set(r) >= {"mem", "mode", "status", "errno", "ioctls",
                          "ioctl_names", "reason"}
    for p in doc["profiles"]:
        assert set(p) >= {"name", "ok", "missing", "fix"}


def test_schema_file_validates(doc: dict[str, Any]) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((Path(__file__).resolve().parent.parent /
                         "probes" / "schema.json").read_text())
    jsonschema.validate(doc, schema)


def test_api_matches_kernel(doc: dict[str, Any]) -> None:
    fd = uffd_create()
    try:
        api, features, ioctls = uffd_api(fd)
    finally:
        os.close(fd)
    got = doc["api"]
    assert got["status"] == "yes"
    assert got["api"] == api
    assert got["features"] == features
    assert int(got["features_hex"], 16) == features
    assert got["ioctls"] == ioctls
    known = len(got["feature_names"]) + len(got["unknown_feature_bits"])
    assert known == bin(features).count("1")
    for bit in got["unknown_feature_bits"]:
        assert features & (1 << bit)


def test_access_paths_match_kernel(doc: dict[str, Any]) -> None:
    for path, flags in (("syscall", 0),
                        ("syscall-user-mode-only", UFFD_USER_MODE_ONLY)):
        try:
            os.close(uffd_create(os.O_CLOEXEC | flags))
            want = "yes"
        except OSError:
            want = "no"
        assert by_path(doc, path)["status"] == want, path
    assert doc["kernel_faults"]["status"] == "yes"


def test_register_anon_matches_kernel(doc: dict[str, Any]) -> None:
    for mode, name in ((1, "MISSING"), (2, "WP"), (4, "MINOR"), (3, "MISSING|WP")):
        fd = uffd_create()
        try:
            uffd_api(fd)
            err, ioctls = register_anon(fd, mode)
        finally:
            os.close(fd)
        r = reg(doc, "anon", name)
        if err:
            assert r["status"] == "no" and r["errno"] == errno.errorcode[err]
        else:
            assert r["status"] == "yes" and r["ioctls"] == ioctls, name
    # MINOR is not defined for anonymous memory on any kernel.
    assert reg(doc, "anon", "MINOR")["errno"] == "EINVAL"


def test_register_matrix_complete(doc: dict[str, Any]) -> None:
    cells = {(r["mem"], r["mode"]) for r in doc["register"]}
    assert cells == {(m, mode) for m in MEMS for mode in MODES}
    for r in doc["register"]:
        assert r["status"] in ("yes", "no", "unknown")
        assert r["reason"]
        if r["status"] == "yes":
            assert r["ioctl_names"], r


def test_fork_allowed_matches_kernel(doc: dict[str, Any]) -> None:
    fd = uffd_create()
    try:
        uffd_api(fd, features=1 << 1)
        want = "yes"
    except OSError:
        want = "no"
    finally:
        os.close(fd)
    assert doc["api"]["event_fork_allowed"]["status"] == want


def test_config_matches_proc(doc: dict[str, Any]) -> None:
    cfg = doc["config"]
    if cfg["status"] != "yes":
        assert cfg["reason"]
        return
    if cfg["source"] == "/proc/config.gz":
        text = subprocess.run(["zcat", "/proc/config.gz"], check=True,
                              capture_output=True, text=True).stdout
    else:
        text = Path(cfg["source"]).read_text()
    for name, value in cfg["options"].items():
        if f"\n{name}=" in text:
            want = text.split(f"\n{name}=", 1)[1].split("\n", 1)[0]
        elif f"\n# {name} is not set" in text:
            want = "n"
        else:
            want = None
        assert value == want, name


def test_text_default(probe: Path) -> None:
    res = run([str(probe)])
    assert res.returncode == 0, res.stderr
    for word in ("access", "api", "register", "config", "profiles"):
        assert f"\n{word}" in "\n" + res.stdout
    assert "\033[" not in res.stdout        # not a TTY: no colour


def test_text_points_at_the_bug_battery(probe: Path) -> None:
    """The probe does not run reproducers; its hint names a selection
    that really selects the known-bug battery."""
    res = run([str(probe)])
    hint = "--only 'bugs.*'"
    assert hint in res.stdout
    ROOT = Path(__file__).resolve().parent.parent
    listed = run([str(ROOT / "run.py"), "--no-build", "--list", "bugs.*"])
    assert listed.returncode == 0, listed.stderr
    points = listed.stdout.split()
    assert len(points) >= 12 and all(p.startswith("bugs.") for p in points)


def test_header_compiles(probe: Path, doc: dict[str, Any],
                         tmp_path: Path) -> None:
    res = run([str(probe), "--header"])
    assert res.returncode == 0, res.stderr
    hdr = tmp_path / "uffd_probe.h"
    hdr.write_text(res.stdout)
    src = tmp_path / "use.c"
    checks = "".join(
        f"#ifndef UFFD_HAVE_{name}\n#error {name}\n#endif\n"
        for name, v in doc["facts"].items() if v == "yes")
    src.write_text('#include "uffd_probe.h"\n#include "uffd_probe.h"\n'
                   + checks +
                   "int main(void) { return (int)(UFFD_PROBE_FEATURES & 0); }\n")
    cc = run(["gcc", "-Wall", "-Wextra", "-Werror", "-o",
              str(tmp_path / "use"), str(src)])
    assert cc.returncode == 0, cc.stderr
    for name, v in doc["facts"].items():
        defined = f"#define UFFD_HAVE_{name} 1\n" in res.stdout
        assert defined == (v == "yes"), name


def test_shell_evals(probe: Path, doc: dict[str, Any]) -> None:
    res = run([str(probe), "--shell"])
    assert res.returncode == 0, res.stderr
    names = list(doc["facts"])
    script = 'set -eu; eval "$1"; ' + "; ".join(
        f'echo "{n}=$UFFD_HAVE_{n}"' for n in names)
    out = run(["sh", "-c", script, "sh", res.stdout])
    assert out.returncode == 0, out.stderr
    got = dict(line.split("=") for line in out.stdout.split())
    for n in names:
        assert got[n] == ("1" if doc["facts"][n] == "yes" else "0"), n
    feats = run(["sh", "-c", 'eval "$1"; echo $((UFFD_PROBE_FEATURES))',
                 "sh", res.stdout])
    assert int(feats.stdout) == doc["api"]["features"]


def test_require_exit_codes(probe: Path, doc: dict[str, Any]) -> None:
    have = doc["api"]["feature_names"]
    res = run([str(probe), "--require", ",".join(have[:3])])
    assert res.returncode == 0, res.stdout + res.stderr
    # Prefixed and lower-case names are the same facts.
    res = run([str(probe), "--require", f"uffd_feature_{have[0].lower()}"])
    assert res.returncode == 0
    res = run([str(probe), "--require", f"{have[0]},REGISTER_ANON_MINOR"])
    assert res.returncode == 1
    assert "REGISTER_ANON_MINOR" in res.stdout and "missing" in res.stdout


def test_profile_exit_codes(probe: Path, doc: dict[str, Any]) -> None:
    for p in doc["profiles"]:
        res = run([str(probe), "--profile", p["name"]])
        assert res.returncode == (0 if p["ok"] else 1), p
        if not p["ok"]:
            assert "missing" in res.stdout and "fix" in res.stdout
        else:
            assert p["missing"] == [] and p["fix"] is None


def test_require_with_json_keeps_stdout_parsable(probe: Path) -> None:
    res = run([str(probe), "--json", "--require", "REGISTER_ANON_MINOR"])
    assert res.returncode == 1
    json.loads(res.stdout)
    assert "REGISTER_ANON_MINOR" in res.stderr


@pytest.mark.parametrize("args,needle", [
    (["--bogus"], "unknown option"),
    (["-x"], "unknown option"),
    (["--require"], "needs an argument"),
    (["--profile"], "needs an argument"),
    (["--require", "NOT_A_FEATURE"], "MOVE"),
    (["--require", "MOVE,nope"], "EVENT_FORK"),
    (["--require", ","], "empty"),
    (["--profile", "nope"], "qemu-postcopy"),
    (["--profile", ""], "empty"),
    (["--json", "--shell"], "choose one"),
    (["--header", "--json"], "choose one"),
    (["stray"], "unexpected argument"),
])
def test_bad_input_exits_2(probe: Path, args: list[str], needle: str) -> None:
    res = run([str(probe), *args])
    assert res.returncode == 2, (args, res.stdout, res.stderr)
    assert needle in res.stderr, res.stderr
    assert res.stdout == ""


def test_list_and_help(probe: Path) -> None:
    res = run([str(probe), "--list"])
    assert res.returncode == 0 and "KERNEL_FAULTS" in res.stdout
    assert "android-art" in res.stdout
    assert run([str(probe), "--help"]).returncode == 0


def _run_on_pty(cmd: list[str], env: dict[str, str]) -> str:
    import pty
    import select
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(cmd, stdout=slave, stderr=subprocess.DEVNULL,
                                env=env)
        os.close(slave)
        out = b""
        while True:
            ready, _, _ = select.select([master], [], [], 10)
            if not ready:
                break
            try:
                chunk = os.read(master, 65536)
            except OSError:         # EIO: the child closed the pty
                break
            if not chunk:
                break
            out += chunk
        proc.wait(timeout=10)
        return out.decode(errors="replace")
    finally:
        os.close(master)


def test_colour_only_on_a_tty(probe: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    assert "\033[32m" in _run_on_pty([str(probe)], env)
    assert "\033[" not in _run_on_pty([str(probe), "--no-color"], env)
    assert "\033[" not in _run_on_pty([str(probe)], {**env, "NO_COLOR": "1"})


def test_facts_follow_the_report(probe: Path, doc: dict[str, Any]) -> None:
    facts = doc["facts"]
    out = run([str(probe), "--list"]).stdout
    listed = out.split("\nprofiles")[0].split("\n", 1)[1].split()
    assert listed == list(facts)
    for f in doc["api"]["feature_names"]:
        assert facts[f] == "yes"
    masks = doc["api"]["ioctls"]
    for r in doc["register"]:
        masks |= r["ioctls"]
    for name, v in facts.items():
        if name.startswith("IOCTL_"):
            bit = {"REGISTER": 0, "UNREGISTER": 1, "WAKE": 2, "COPY": 3,
                   "ZEROPAGE": 4, "MOVE": 5, "WRITEPROTECT": 6,
                   "CONTINUE": 7, "POISON": 8}[name[6:]]
            assert v == ("yes" if masks >> bit & 1 else "no"), name
    for mem in MEMS:
        for mode in ("MISSING", "WP", "MINOR"):
            name = f"REGISTER_{mem.upper()}_{mode}"
            assert facts[name] == reg(doc, mem, mode)["status"], name
    paths = {"SYSCALL": "syscall", "USER_MODE_ONLY": "syscall-user-mode-only",
             "DEV_USERFAULTFD": "dev-userfaultfd"}
    for fact, path in paths.items():
        assert facts[fact] == by_path(doc, path)["status"]


def test_unknown_feature_bits_never_fail(build_dir: Path, probe: Path,
                                         doc: dict[str, Any],
                                         tmp_path: Path) -> None:
    """A future kernel reports bits this build has no name for: they are
    listed as numbers / "bit N" and nothing else changes."""
    extra_f, extra_i = (1 << 17) | (1 << 40), 1 << 9
    fake = [str(build_dir / "tools" / "uffd-fake-api"), "--features",
            hex(extra_f), "--ioctls", hex(extra_i), "--", str(probe)]
    got = probe_json(fake)
    api = got["api"]
    assert api["features"] == doc["api"]["features"] | extra_f
    assert api["unknown_feature_bits"] == [17, 40]
    assert api["feature_names"] == doc["api"]["feature_names"]
    assert api["ioctls"] == doc["api"]["ioctls"] | extra_i
    assert api["unknown_ioctl_bits"] == [9]
    assert got["facts"] == doc["facts"]
    text = run(fake)
    assert text.returncode == 0 and "bit 17" in text.stdout
    assert "bit 40" in text.stdout and "bit 9" in text.stdout
    hdr = run(fake[:-1] + [str(probe), "--header"])
    (tmp_path / "h.h").write_text(hdr.stdout)
    (tmp_path / "m.c").write_text('#include "h.h"\nint main(void){return 0;}\n')
    assert run(["gcc", "-Wall", "-Werror", "-fsyntax-only",
                str(tmp_path / "m.c")]).returncode == 0
    assert f"0x{doc['api']['features'] | extra_f:x}ULL" in hdr.stdout
    name = doc["api"]["feature_names"][0]
    assert run(fake + ["--require", name]).returncode == 0
