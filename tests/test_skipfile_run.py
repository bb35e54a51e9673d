# SPDX-License-Identifier: GPL-2.0
"""run.py --skipfile: the points an LKFT skipfile names for a kernel are
never run (the runner's --skip, faultline.skip= in a VM) and are reported
as skip with the entry's reason."""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any, Callable

import pytest

from reports_util import DATA, ROOT, validate
from runner_util import parse_stream, run
from test_kernels_vm import (bookworm, needs_qemu, qemu_ready,  # noqa: F401
                             real_static, vm_deps)
from test_run_kernels import load_run_py, stand_in_kernels
from test_runner_options import needs_pid1, pid1, pid1_cases, pid1_dir  # noqa: F401
from test_runner_select import listed, tap_ids

from kernels import KernelResult
from reports.cli import report_main
from reports.skipfile import SkipRun, load_skipfile
from reports.stream import read_stream_file

RUN = ["/usr/bin/python3", str(ROOT / "run.py")]


def entry(reason: str, tests: list[str], branches: str = "all") -> str:
    return (f"  - reason: {reason}\n    url: https://bugs.example.invalid/{len(reason)}\n"
            f"    environments: all\n    boards: all\n    branches: {branches}\n"
            f"    tests: {json.dumps(tests)}\n")


def skipfile(tmp: Path, *entries: str) -> Path:
    path = tmp / "skip.yaml"
    path.write_text("skiplist:\n" + "".join(entries))
    return path


def points(report: Path) -> dict[str, dict[str, Any]]:
    doc = json.loads(report.read_text())
    validate(doc)
    return {r["target"]: {p["id"]: p for b in r["binaries"] for p in b["points"]}
            for r in doc["runs"]}


# -- the runner ------------------------------------------------------------

def test_runner_skip_lists_and_runs_without_the_points(runner: Path,
                                                       cases_dir: Path) -> None:
    every = listed(runner, str(cases_dir / "copy"), str(cases_dir / "zeropage"))
    kept = listed(runner, "--skip=copy.*.eexist,zeropage.*", "--skip", "copy.anon.*",
                  str(cases_dir / "copy"), str(cases_dir / "zeropage"))
    assert kept == [(n, i) for n, i in every if n == "copy" and not
                    re.fullmatch(r"copy\.(anon\..*|[^.]+\.eexist)", i)]
    # --only chooses, --skip takes out of what it chose
    assert listed(runner, "--only", "copy.anon.*", "--skip", "copy.anon.e*",
                  str(cases_dir / "copy")) == [
        (n, i) for n, i in every if re.fullmatch(r"copy\.anon\.(?!e).*", i)]
    r = run(runner, "--no-probe", "--hugepages", "0", "--only", "copy.anon.*",
            "--skip", "copy.anon.eexist,zeropage.*", str(cases_dir / "copy"),
            str(cases_dir / "zeropage"), timeout=120)
    assert r.returncode == 0, r.stderr
    s = parse_stream(r.stdout)
    assert s.run["skip"] == ["copy.anon.eexist", "zeropage.*"]
    assert s.run["binary_names"] == ["copy"]          # zeropage: nothing left
    ran = tap_ids(s.binary("copy").payload)
    assert "copy.anon.eexist" not in ran and "copy.anon.enoent" in ran
    assert s.binary("copy").begin["selected"] == len(ran)


def test_runner_skip_everything_or_badly(runner: Path, cases_dir: Path) -> None:
    r = run(runner, "--no-probe", "--skip", "copy.*", str(cases_dir / "copy"))
    assert r.returncode == 2 and "--skip leaves no test point" in r.stderr
    assert parse_stream(r.stdout).end["error"] == "--skip leaves no test point"
    for bad in ("", ",", "a b"):
        r = run(runner, "--no-probe", f"--skip={bad}")
        assert r.returncode == 2 and "bad --skip" in r.stderr


@needs_pid1
def test_runner_skip_on_the_kernel_command_line(runner: Path, pid1_dir: Path,  # noqa: F811
                                                cases_dir: Path) -> None:
    d = pid1_cases(pid1_dir, cases_dir, "zeropage")
    rc, s, _ = pid1(runner, f"faultline.cases={d} faultline.probe=none "
                    "faultline.only=zeropage.anon.* faultline.skip=zeropage.anon.e*")
    assert rc == 0 and s.run["skip"] == ["zeropage.anon.e*"]
    ran = tap_ids(s.binary("zeropage").payload)
    assert ran and not [i for i in ran if i.startswith("zeropage.anon.e")]


# -- run.py on the host ------------------------------------------------------

def test_run_py_host_skips_before_running(build_dir: Path, tmp_path: Path) -> None:
    skips = skipfile(tmp_path,
                     entry("hangs here", ["copy.anon.eexist", "mm:uffd-unit-tests"]),
                     entry("old kernels only", ["copy.anon.enoent"], '["2.6"]'))
    out = tmp_path / "out"
    res = subprocess.run(RUN + ["--no-build", "--only", "copy.anon.*", "--skipfile",
                                str(skips), "-o", str(out)],
                         text=True, capture_output=True, timeout=300)
    assert res.returncode in (0, 1), res.stdout + res.stderr
    host = points(out / "report.json")["host"]
    eexist = host["copy.anon.eexist"]
    assert eexist["status"] == "skip"
    assert eexist["reason"] == (f"skipfile {skips}:2: hangs here "
                                "(https://bugs.example.invalid/10)")
    assert host["copy.anon.enoent"]["status"] != "skip"     # not a 2.6 kernel
    stream = (out / "host.stream").read_text()
    assert not re.search(r"^(not )?ok \d+ copy\.anon\.eexist", stream, re.M)
    assert read_stream_file(out / "host.stream").header["skip"] == ["copy.anon.eexist"]
    # the saved stream says it all: rendering it gives the same points
    assert report_main(["render", str(out / "host.stream"), "-o",
                        str(tmp_path / "again")]) in (0, 1)
    assert points(tmp_path / "again" / "report.json")["host"] == host


def test_run_py_bad_skipfile_fails_first(tmp_path: Path) -> None:
    bad = tmp_path / "skip.yaml"
    bad.write_text("skiplist:\n  - reason: r\n    boardz: all\n")
    res = subprocess.run(RUN + ["--no-build", "--skipfile", str(bad), "-o",
                                str(tmp_path / "out")],
                         text=True, capture_output=True, timeout=60)
    assert res.returncode == 2
    assert f"--skipfile: {bad}:3: unknown key 'boardz'" in res.stderr
    assert not (tmp_path / "out").exists()      # nothing was run


# -- run.py with kernels (the kernels package replaced) ---------------------

LISTING = ["copy copy.anon.fault_round_trip", "copy copy.anon.eexist",
           "copy copy.anon.extra", "zeropage zeropage.anon.eexist",
           "zeropage zeropage.shmem.eexist"]
RELEASES = {"debian:bookworm": "6.1.0-28-cloud-amd64",
            "debian:trixie": "6.12.57-cloud-amd64"}


@pytest.fixture
def fake_vms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Kernels that get their options from options_for, as boot_kernel
    calls it once a kernel is fetched, and print a recorded stream."""
    seen: dict[str, Any] = {}

    def run_kernels(specs: list[str], *, runner_options: list[tuple[str, str]],
                    options_for: Callable[[str, dict], list[tuple[str, str]]],
                    **_: Any) -> list[KernelResult]:
        out = []
        for s in specs:
            info = {"release": RELEASES[s], "arch": "amd64"}
            seen[s] = runner_options + options_for(s, info)
            out.append(KernelResult(s, (DATA / "bookworm.stream").read_text(), None, info))
        return out
    stand_in_kernels(monkeypatch, run_kernels)
    build = tmp_path / "build"
    (build / "cases").mkdir(parents=True)
    for name in ("copy", "zeropage"):
        (build / "cases" / name).write_text("#!/bin/sh\n")
        (build / "cases" / name).chmod(0o755)
    (build / "faultline-runner").write_text(
        "#!/bin/sh\nprintf '%s\\n' " + " ".join(f"'{ln}'" for ln in LISTING) + "\n")
    (build / "faultline-runner").chmod(0o755)
    seen["build"] = build
    return seen


def test_each_kernel_skips_what_applies_to_its_release(
        tmp_path: Path, fake_vms: dict[str, Any],
        capsys: pytest.CaptureFixture[str]) -> None:
    skips = skipfile(tmp_path, entry("6.1 only", ["copy.anon.extra"], '["6.1"]'),
                     entry("no zeropage", ["faultline:zeropage"]))
    out = tmp_path / "out"
    build = str(fake_vms["build"])
    rc = load_run_py().main(["--no-build", "--build-dir", build, "--static-build-dir",
                             build, "--kernel", "debian:bookworm", "--kernel",
                             "debian:trixie", "--skipfile", str(skips), "-o", str(out)])
    capsys.readouterr()
    assert rc in (0, 1)
    assert fake_vms["debian:bookworm"][-1] == ("skip", "copy.anon.extra,zeropage.*")
    assert fake_vms["debian:trixie"][-1] == ("skip", "zeropage.*")
    got = points(out / "report.json")
    assert got["debian:bookworm"]["copy.anon.extra"]["reason"] == \
        f"skipfile {skips}:2: 6.1 only (https://bugs.example.invalid/8)"
    assert "copy.anon.extra" not in got["debian:trixie"]
    for target in RELEASES:     # zeropage was skipped whole: skip, not "not run"
        assert {got[target][i]["status"] for i in
                ("zeropage.anon.eexist", "zeropage.shmem.eexist")} == {"skip"}
    frame = json.loads((out / "debian_trixie.stream").read_text()
                       .rsplit("@@faultline target ", 1)[1])
    assert frame["binaries"] == ["copy"]


def test_skip_globs_must_fit_a_kernel_command_line(tmp_path: Path) -> None:
    names = [f"copy.anon.{'x' * 40}{i}" for i in range(12)]
    rules = load_skipfile(skipfile(tmp_path, entry("long", names)))
    plan = SkipRun(rules, [("copy", n) for n in names])
    assert len(plan.options("host", "6.1.0", "x86_64")[0][1]) > 500
    with pytest.raises(ValueError, match="do not fit on a kernel command line"):
        plan.options("debian:bookworm", "6.1.0", "amd64", budget=400)


# -- a real kernel ------------------------------------------------------------

@needs_qemu
def test_run_py_vm_skips_before_running(bookworm: dict, tmp_path: Path) -> None:  # noqa: F811
    """debian:bookworm (6.1) under QEMU: the entry for 6.1 and the whole
    seccomp binary (seccomp.* and seccomp_off.* points) are never run
    there; the entry for 6.12 does not apply."""
    (tmp_path / "static").mkdir()
    static = real_static(tmp_path / "static")
    if static is None:
        pytest.skip("no runner in this tree")
    skips = skipfile(tmp_path, entry("not on 6.1", ["api.*.short_read"], '["6.1"]'),
                     entry("not on 6.12", ["api.dev.fd_flags"], '["6.12"]'),
                     entry("no seccomp here", ["seccomp*"]))
    out = tmp_path / "out"
    res = subprocess.run(RUN + ["--no-build", "--kernel", "debian:bookworm",
                                "--build-dir", str(static), "--static-build-dir",
                                str(static), "--kernel-timeout", "150",
                                "--skipfile", str(skips), "-o", str(out)],
                         text=True, capture_output=True, timeout=300)
    assert res.returncode in (0, 1), res.stdout + res.stderr
    vm = points(out / "report.json")["debian:bookworm"]
    run_frame = read_stream_file(out / "debian_bookworm.stream").header
    assert "faultline.skip=api.*.short_read,seccomp*" in run_frame["cmdline"]
    assert run_frame["binary_names"] == ["api"]
    short = [p for i, p in vm.items() if i.endswith(".short_read")]
    assert len(short) == 3 and {p["status"] for p in short} == {"skip"}
    assert short[0]["reason"].endswith("not on 6.1 (https://bugs.example.invalid/10)")
    assert vm["api.dev.fd_flags"]["status"] != "skip"
    seccomp = [p for i, p in vm.items() if i.startswith("seccomp")]
    assert len(seccomp) > 2 and {p["status"] for p in seccomp} == {"skip"}
