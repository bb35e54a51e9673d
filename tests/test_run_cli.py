# SPDX-License-Identifier: GPL-2.0
"""run.py's command line: --version, --help's exit codes, --list, --only
(chosen before running, through the one option builder to the host's
runner and to a VM's kernel command line), --jobs-per-kernel, exit 4."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from reports_util import DATA, ROOT, validate
from runner_util import parse_stream
from test_kernels_vm import bookworm, needs_qemu, qemu_ready, vm_deps  # noqa: F401
from test_run_kernels import load_run_py

RUN = ["/usr/bin/python3", str(ROOT / "run.py")]
EEXIST = [f"copy.{m}.eexist" for m in
          ("anon", "shmem", "shmem_private", "hugetlb", "hugetlb_private")]
needs_root_ns = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("unshare") is None,
    reason="needs root and unshare(1)")


def run_py(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*RUN, *args], text=True, capture_output=True,
                          timeout=timeout)


def test_version() -> None:
    res = run_py("--version")
    version = (ROOT / "VERSION").read_text().strip()
    assert res.returncode == 0 and res.stdout == f"faultline {version}\n"


def test_help_lists_the_exit_codes() -> None:
    res = run_py("--help")
    assert res.returncode == 0
    text = res.stdout[res.stdout.index("exit status:"):]
    for code in (0, 1, 2, 4):
        assert f"\n  {code}  " in text
    for opt in ("--only GLOB", "--list [GLOB]", "--jobs-per-kernel N", "--version"):
        assert opt in res.stdout


def test_help_names_every_report_subcommand() -> None:
    """--help's pointer to `report` lists what `report -h` offers."""
    choices = run_py("report", "-h").stdout.split("{", 1)[1].split("}", 1)[0]
    assert "kcidb" in choices
    assert f"./run.py report {{{choices}}} ..." in run_py("--help").stdout


def test_list_prints_the_points(build_dir: Path) -> None:
    res = run_py("--no-build", "--build-dir", str(build_dir), "--list", "copy.*.eexist")
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == EEXIST
    assert res.stderr.strip() == "5 points in 1 binary"
    every = run_py("--no-build", "--build-dir", str(build_dir), "--list")
    runner = subprocess.run([str(build_dir / "faultline-runner"), "--list"],
                            capture_output=True, text=True, timeout=60)
    assert every.stdout.splitlines() == [ln.split(" ")[1] for ln in
                                         runner.stdout.splitlines()]
    # --only and --list's glob add up
    both = run_py("--no-build", "--build-dir", str(build_dir), "--only",
                  "copy.anon.eexist", "--list", "zeropage.anon.*")
    ids = both.stdout.splitlines()
    assert ids[0] == "copy.anon.eexist" and len(ids) > 1
    assert all(i.startswith("zeropage.anon.") for i in ids[1:])
    # --list is repeatable, as --only is
    two = run_py("--no-build", "--build-dir", str(build_dir), "--list",
                 "copy.*.eexist", "--list", "zeropage.anon.*")
    assert two.stdout.splitlines()[:5] == EEXIST and len(two.stdout.splitlines()) > 5
    assert two.stderr.strip().endswith("in 2 binaries")
    # nothing matches: said, exit 2 (as --only)
    none = run_py("--no-build", "--build-dir", str(build_dir), "--list", "nothing.*")
    assert none.returncode == 2 and none.stdout == ""
    assert "no test point matches nothing.*" in none.stderr


def test_a_binary_that_cannot_list(build_dir: Path, tmp_path: Path) -> None:
    """--list says the list is not whole (exit 2); a run still runs it."""
    build = tmp_path / "build"
    (build / "cases").mkdir(parents=True)
    (build / "faultline-runner").symlink_to(build_dir / "faultline-runner")
    shutil.copy2(build_dir / "cases" / "copy", build / "cases" / "copy")
    odd = build / "cases" / "odd"
    odd.write_text("#!/bin/sh\necho 'TAP version 13'\necho 1..1\necho 'ok 1 odd.one'\n")
    odd.chmod(0o755)
    res = run_py("--no-build", "--build-dir", str(build), "--list", "copy.*.eexist")
    assert res.returncode == 2 and res.stdout.splitlines() == EEXIST
    assert f"{odd}: cannot list its points" in res.stderr
    ran = run_py("--no-build", "--build-dir", str(build), "-o", str(tmp_path / "o"),
                 "--only", "copy.*.eexist")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "(such a binary runs whole)" in ran.stdout
    doc = json.loads((tmp_path / "o" / "report.json").read_text())
    ids = [p["id"] for b in doc["runs"][0]["binaries"] for p in b["points"]]
    assert ids == EEXIST + ["odd.one"]


def fake_build(tmp: Path, listing: str) -> Path:
    """A build whose runner lists @listing and replays host.stream."""
    build = tmp / "build"
    (build / "cases").mkdir(parents=True)
    for name in ("copy", "errno"):
        (build / "cases" / name).write_text("#!/bin/sh\nexit 0\n")
        (build / "cases" / name).chmod(0o755)
    runner = build / "faultline-runner"
    runner.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = --list ]; then printf "{listing}"; exit 0; fi\n'
        f'echo "$@" > {tmp}/argv\n'
        f"cat {DATA / 'host.stream'}\n")
    runner.chmod(0o755)
    return build


def test_only_and_jobs_reach_the_runner(tmp_path: Path) -> None:
    build = fake_build(tmp_path, "copy copy.anon.eexist\\n")
    res = run_py("--no-build", "--build-dir", str(build), "-o", str(tmp_path / "o"),
                 "--only", "copy.*.eexist", "--only", "wp.x", "--jobs-per-kernel", "3")
    assert res.returncode == 1, res.stderr      # host.stream has failures
    argv = (tmp_path / "argv").read_text().split()
    assert argv[:4] == ["--timeout=60", "--jobs=3", "--only=copy.*.eexist",
                        "--only=wp.x"]
    assert "--only: 1 point in 1 binary" in res.stdout
    # a target that never started would list only the chosen binaries
    saved = (tmp_path / "o" / "host.stream").read_text().splitlines()
    assert json.loads(saved[-1].split(" ", 2)[2])["binaries"] == ["copy"]
    plain = run_py("--no-build", "--build-dir", str(build), "-o", str(tmp_path / "p"))
    assert "--jobs" not in (tmp_path / "argv").read_text()
    assert "--only" not in (tmp_path / "argv").read_text() and plain.returncode == 1


def test_only_matching_nothing_runs_nothing(tmp_path: Path) -> None:
    build = fake_build(tmp_path, "")
    res = run_py("--no-build", "--build-dir", str(build), "-o", str(tmp_path / "o"),
                 "--only", "nosuch.*")
    assert res.returncode == 2
    assert "no test point matches (./run.py --list shows them)" in res.stderr
    assert not (tmp_path / "argv").exists()


@pytest.mark.parametrize("args, says", [
    (["--jobs-per-kernel", "0"], "--jobs-per-kernel must be 1..256"),
    (["--only", "a b"], "without blanks"),
    (["--only", "x" * 600, "--kernel", "debian:trixie"], "kernel command line"),
])
def test_bad_options_are_usage_errors(args: list[str], says: str) -> None:
    res = run_py(*args)
    assert res.returncode == 2 and says in res.stderr


@needs_root_ns
def test_the_kernel_command_line_chooses_as_the_host_does(
        runner: Path, cases_dir: Path, tmp_path: Path) -> None:
    """run.py's option builder -> a VM's kernel command line -> the runner
    as PID 1 (FAULTLINE_CMDLINE stands in for /proc/cmdline): the same 5
    points as on the host."""
    from kernels import qemu
    run_py_mod = load_run_py()
    args = run_py_mod.parse_args(["--kernel", "debian:trixie", "--only",
                                  "copy.*.eexist", "--jobs-per-kernel", "1"])
    cmdline = qemu.kernel_cmdline(run_py_mod.runner_options(args))
    assert "faultline.jobs=1 faultline.only=copy.*.eexist" in cmdline
    where = Path("/var/tmp") / f"faultline-cli-{os.getpid()}"
    (where / "cases").mkdir(parents=True, exist_ok=True)
    try:
        for name in ("copy", "wp"):
            shutil.copy2(cases_dir / name, where / "cases" / name)
        env = dict(os.environ, FAULTLINE_CMDLINE=f"{cmdline} faultline.cases="
                   f"{where / 'cases'} faultline.probe=none")
        res = subprocess.run(["unshare", "--pid", "--fork", "--mount",
                              "--propagation", "private", str(runner)],
                             capture_output=True, text=True, env=env, timeout=120)
    finally:
        shutil.rmtree(where, ignore_errors=True)
    s = parse_stream(res.stdout, vm=True)
    assert s.run["selection"] == ["copy.*.eexist"] and s.run["jobs"] == 1
    assert [b.begin["name"] for b in s.binaries] == ["copy"]
    assert [ln.split()[-1] for ln in s.binary("copy").payload
            if ln.startswith("ok ")] == EEXIST


def stamped_us(stream: Path) -> dict[str, int]:
    """Each point's µs between the runner's stamps (`at` frames) of its
    RUN line and of its result line, read from the saved stream."""
    at, start, took = 0, {}, {}
    for line in stream.read_text().splitlines():
        if line.startswith("@@faultline at "):
            at = json.loads(line.split(" ", 2)[2])["time_us"]
        elif line.startswith("#  RUN "):
            start[line.split()[2]] = at
        elif line.startswith("ok ") or line.startswith("not ok "):
            pid = line.split("#")[0].split()[-1]
            if pid in start:
                took[pid] = at - start[pid]
    return took


def test_only_on_the_host(build_dir: Path, tmp_path: Path) -> None:
    """The real thing: exactly the chosen points, timed from the runner's
    stamps (JUnit `time`), one binary at a time."""
    out = tmp_path / "o"
    res = run_py("--no-build", "--build-dir", str(build_dir), "-o", str(out),
                 "--only", "copy.*.eexist", "--only", "copy.anon.*",
                 "--jobs-per-kernel", "1")
    assert res.returncode == 0, res.stdout + res.stderr
    doc = json.loads((out / "report.json").read_text())
    validate(doc)
    assert doc["selection"] == ["copy.*.eexist", "copy.anon.*"]
    ids = [p["id"] for b in doc["runs"][0]["binaries"] for p in b["points"]]
    assert len(ids) == 12 and set(EEXIST) <= set(ids)
    assert all(i in EEXIST or i.startswith("copy.anon.") for i in ids)
    assert doc["runs"][0]["header"]["jobs"] == 1
    cases = ET.parse(out / "junit.xml").getroot().findall(".//testcase")
    assert len(cases) == 12 and all(c.get("time") is not None for c in cases)
    # Each point's time is what the stamps around its RUN and result lines
    # say (whole ms); they tell start from end, although a point may take
    # less than a millisecond now.
    stamped = stamped_us(out / "host.stream")
    assert sum(stamped.values()) > 0
    assert {c.get("name"): c.get("time") for c in cases} == \
        {pid: f"{us // 1000 / 1000:.3f}" for pid, us in stamped.items()}
    assert "Selection: only the points matching `copy.*.eexist`, `copy.anon.*`" in \
        (out / "report.md").read_text()


NO_UFFD_DEV = """#!/bin/sh
# $1: a work directory; then the command, run where /dev has no
# userfaultfd node (a private mount namespace: the host's /dev is untouched)
set -e
T=$1; shift
mkdir -p "$T/realdev"
mount --bind /dev "$T/realdev"
mount -t tmpfs -o mode=0755 faultline-dev /dev
for n in null zero full random urandom kmsg; do
	if [ -e "$T/realdev/$n" ]; then
		touch "/dev/$n"
		mount --bind "$T/realdev/$n" "/dev/$n"
	fi
done
mkdir /dev/shm /dev/hugepages
mount -t tmpfs tmpfs /dev/shm
if [ -d "$T/realdev/hugepages" ]; then mount --bind "$T/realdev/hugepages" /dev/hugepages; fi
ln -s /proc/self/fd /dev/fd
exec "$@"
"""


@needs_root_ns
def test_exit_4_when_userfaultfd_is_missing(build_dir: Path, tmp_path: Path) -> None:
    """A kernel without userfaultfd, as gVisor or a seccomp profile makes
    it: the syscall says ENOSYS, there is no /dev/userfaultfd. Nothing that
    needs one runs anywhere: exit 4, not a green 0."""
    had_node = Path("/dev/userfaultfd").exists()
    script = tmp_path / "no-uffd-dev.sh"
    script.write_text(NO_UFFD_DEV)
    script.chmod(0o755)
    out = tmp_path / "o"
    res = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", str(script),
         str(tmp_path / "ns"), str(build_dir / "tools" / "seccomp-exec"),
         "--errno", "ENOSYS", "--", *RUN, "--no-build", "--build-dir",
         str(build_dir), "-o", str(out)],
        text=True, capture_output=True, timeout=600)
    assert res.returncode == 4, res.stdout + res.stderr
    assert "faultline: SKIP (no target could create a userfaultfd" in res.stdout
    doc = json.loads((out / "report.json").read_text())
    validate(doc)
    assert doc["status"] == "skip" and doc["exit_code"] == 4
    access = doc["runs"][0]["probe"]["access"]
    assert [a["status"] for a in access] == ["no", "no", "no"]
    assert doc["totals"]["fail"] == doc["totals"]["error"] == 0
    assert Path("/dev/userfaultfd").exists() == had_node    # the host's /dev untouched


@needs_qemu
def test_only_in_a_vm(bookworm: dict, build_dir: Path, tmp_path: Path) -> None:
    """The same selection inside a Debian kernel under QEMU: the globs go
    on the kernel command line, the runner (PID 1) chooses there."""
    out = tmp_path / "o"
    res = run_py("--build-dir", str(build_dir), "--static-build-dir",
                 str(ROOT / "build-static"), "-o", str(out), "--kernel",
                 "debian:bookworm", "--only", "copy.*.eexist", timeout=900)
    assert res.returncode == 0, res.stdout + res.stderr
    doc = json.loads((out / "report.json").read_text())
    validate(doc)
    (run,) = doc["runs"]
    assert run["kernel"]["release"].startswith("6.1.")
    assert "faultline.only=copy.*.eexist" in run["cmdline"]
    assert [p["id"] for b in run["binaries"] for p in b["points"]] == EEXIST
    assert [b["name"] for b in run["binaries"]] == ["copy"]
    assert doc["selection"] == ["copy.*.eexist"]
    # progress per VM kernel: its boot, then binary 1 of 1
    assert "debian:bookworm: boot 1" in res.stdout
    assert "debian:bookworm [1/1 binaries, 5 points so far] copy: " in res.stdout
