# SPDX-License-Identifier: GPL-2.0
"""The faults a CI system throws at run.py (issue 11), each reproduced the
way it was found, on small crafted build dirs, stand-in runners and
streams: a clear message, the defined exit code, every result collected
before the fault in every format, and the machine as it was (processes,
temp dirs). The stream-level faults (#8, #9) are in test_faults_stream.py;
sysctls and a killed runner's workers in test_machine_state.py."""
from __future__ import annotations

import os
import resource
import select
import signal
import subprocess
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from reports_util import DATA, ROOT, validate
from runner_util import hugetlb_writable, pool_lock
from test_kernels_vm import bookworm, fake_static, qemu_ready, vm_deps  # noqa: F401
from test_machine_state import processes_under, wait_gone
from test_run_kernels import load_run_py, stand_in_kernels

from kernels import run_kernels

RUN = ["/usr/bin/python3", str(ROOT / "run.py")]
REPORTS = ("report.json", "report.md", "report.html", "junit.xml")
ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


def build_with(tmp: Path, runner: str, cases: dict[str, str] | None = None) -> Path:
    """A build dir: case scripts (name -> shell body) and a runner script."""
    build = tmp / "build"
    (build / "cases").mkdir(parents=True)
    for name, body in (cases or {"copy": "exit 0", "errno": "exit 0"}).items():
        (build / "cases" / name).write_text(f"#!/bin/sh\n{body}\n")
        (build / "cases" / name).chmod(0o755)
    (build / "faultline-runner").write_text(f"#!/bin/sh\n{runner}\n")
    (build / "faultline-runner").chmod(0o755)
    return build


def real_runner(build_dir: Path, pool: bool = False) -> str:
    """The real runner; without the huge page pool unless @pool (another
    run on this host may hold it)."""
    extra = "" if pool else " --hugepages=0"
    return f'exec {build_dir / "faultline-runner"}{extra} "$@"'


# A stand-in runner: the first binary of a recorded stream, then it waits
# to be stopped (SIGTERM: ends its stream as the real one does).
WAITING_RUNNER = (f"head -n 33 {DATA / 'host.stream'}\n"
                  "trap 'echo \"@@faultline run-end {\\\"status\\\":"
                  "\\\"interrupted\\\"}\"; exit 143' TERM\n"
                  "while :; do sleep 0.1; done")


def default_signals() -> None:
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)


def start(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen([*RUN, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})},
                            preexec_fn=default_signals)


def run_py(*args: str, env: dict[str, str] | None = None,
           limit_as: int | None = None) -> subprocess.CompletedProcess[str]:
    def setup() -> None:
        if limit_as:
            resource.setrlimit(resource.RLIMIT_AS, (limit_as, limit_as))
    return subprocess.run([*RUN, *args], text=True, capture_output=True,
                          timeout=120, env={**os.environ, **(env or {})},
                          preexec_fn=setup)


@pytest.fixture(autouse=True)
def nothing_left(tmp_path: Path) -> Iterator[None]:
    """Whatever a failing test left running under its directory is killed
    (a passing one has checked that nothing was left)."""
    yield
    for entry in processes_under(tmp_path):
        try:
            os.kill(int(entry.split(":", 1)[0]), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass


def report(out: Path) -> dict[str, Any]:
    import json
    doc = json.loads((out / "report.json").read_text())
    validate(doc)
    for name in REPORTS:
        assert (out / name).is_file(), name
    return doc


def points(doc: dict[str, Any], run: int = 0) -> dict[str, str]:
    return {p["id"]: p["status"] for b in doc["runs"][run]["binaries"]
            for p in b["points"]}


def wait_for_line(stream, needle: str, seconds: float) -> str:
    """The first line of @stream containing @needle, within @seconds."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        ready, _, _ = select.select([stream], [], [], 0.2)
        if ready:
            line = stream.readline()
            if needle in line:
                return line
    return ""


# ---- 1: a bogus TAP plan -------------------------------------------------

def test_bogus_plan_is_one_error_point(build_dir: Path, tmp_path: Path) -> None:
    """Before: a list of every missing plan number (24 GB), MemoryError,
    no report. Now one error point; the other binary's points are there;
    run.py stays within 1 GiB of address space."""
    build = build_with(tmp_path, real_runner(build_dir), {
        "good": "echo 1..1; echo 'ok 1 good.anon.a'",
        "zbogus": "echo 1..99999999999; echo 'ok 1 z.a'"})
    out = tmp_path / "out"
    res = run_py("--no-build", "--build-dir", str(build), "-o", str(out),
                 limit_as=1 << 30)
    assert res.returncode == 1, res.stderr
    st = points(report(out))
    assert st["good.anon.a"] == "pass" and st["z.a"] == "pass"
    assert st["zbogus.plan"] == "error"
    assert "implausible TAP plan 1..99999999999" in res.stdout


# ---- 2: one bad kernel among good ones ------------------------------------

@pytest.mark.usefixtures("qemu_ready")
def test_bad_kernels_fail_their_own_column_only(bookworm: dict, fake_static: Path,
                                                tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: a truncated vmlinux crashed the ELF-note check with a
    traceback, killed the healthy kernel's QEMU and left no report; a cache
    entry without its config failed every kernel (exit 2). Now the
    truncated image fails its own column, and the entry without a config
    boots without it (the report says so)."""
    import json
    monkeypatch.setenv("FAULTLINE_ACCEL", "tcg")
    cut = tmp_path / "vmlinux"
    with open(bookworm["vmlinux"], "rb") as f:
        cut.write_bytes(f.read(3_000_000))
    cache = tmp_path / "cache"
    entry = cache / "kernels" / "bookworm-cloud-amd64"
    entry.mkdir(parents=True)
    gone = tmp_path / "config-gone"
    (entry / "kernel.json").write_text(json.dumps({**bookworm, "config": str(gone)}))
    cut_rs, good = run_kernels([str(cut), "debian:bookworm"],
                               static_build_dir=fake_static, cache_dir=cache,
                               jobs=1, timeout_s=60, log=lambda m: None)
    assert cut_rs.error and cut_rs.error.startswith(f"unusable kernel image {cut}: ")
    assert "the file has 3000000 (truncated?)" in cut_rs.error
    assert good.error is None and "@@faultline run-end" in good.stream
    assert good.info["config_error"].startswith(f"{gone}: ")


# ---- 3: a full disk ------------------------------------------------------

@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 200 KiB tmpfs, unmounted afterwards."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=200k", "tmpfs",
                       str(mnt)]).returncode:
        pytest.skip("cannot mount a tmpfs")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


@ROOT_ONLY
def test_full_disk_stops_at_once_with_exit_2(tmp_path: Path, small_disk: Path) -> None:
    """Before: a traceback, then run.py waited on its overall timer (18.5
    minutes) and exited 1. Now: at once, which file and how much, exit 2,
    the runner stopped."""
    flood = ("i=0; while [ $i -lt 8000 ]; do "
             "echo \"# filler $i ..........................................\";"
             " i=$((i+1)); done")
    build = build_with(tmp_path, f"head -n 20 {DATA / 'host.stream'}\n{flood}\n"
                       + WAITING_RUNNER.split("\n", 1)[1])
    t0 = time.monotonic()
    res = run_py("--no-build", "--build-dir", str(build), "-o", str(small_disk / "o"))
    assert time.monotonic() - t0 < 30
    assert res.returncode == 2, res.stdout + res.stderr
    said = res.stderr.splitlines()[0]
    assert said.startswith(f"run.py: cannot write {small_disk / 'o' / 'host.stream'}: "
                           "No space left on device (")
    assert "KiB written)" in said and "Traceback" not in res.stderr
    assert "error: cannot write" in res.stdout     # each report that did not fit
    assert processes_under(build) == []


@ROOT_ONLY
def test_full_disk_keeps_every_vm_result_it_can(tmp_path: Path, small_disk: Path,
                                                monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]
                                                ) -> None:
    """Before: a VM run lost every result at the first refused write. Now
    each stream that fits is saved, the message names the one that did not,
    exit 2 (the kernels package is a stand-in)."""
    from kernels import KernelResult
    big = (DATA / "bookworm.stream").read_text() + "# " + "x" * 300000 + "\n"
    small = (DATA / "host.stream").read_text()

    def run_kernels(specs: list[str], **_: Any) -> list[KernelResult]:
        return [KernelResult("debian:bookworm", small, None, {}),
                KernelResult("debian:trixie", big, None, {})]
    stand_in_kernels(monkeypatch, run_kernels)
    build = build_with(tmp_path, "exit 0")
    out = small_disk / "o"
    rc = load_run_py().main(["--no-build", "--static-build-dir", str(build),
                             "-o", str(out), "--kernel", "debian:bookworm",
                             "--kernel", "debian:trixie"])
    text = capsys.readouterr()
    assert rc == 2, text
    assert f"cannot write {out / 'debian_trixie.stream'}: No space left" in text.err
    assert (out / "debian_bookworm.stream").read_text().startswith(small)
    assert not (out / "debian_trixie.stream").exists()      # nothing half-written


# ---- 4: signals ----------------------------------------------------------

@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_signal_during_the_host_run_writes_the_report(tmp_path: Path, sig: int) -> None:
    """Before: SIGTERM exited 143 silently with only host.stream, the runner
    left running. Now the runner is stopped, every report is written with
    what was collected, marked interrupted, exit 128+N."""
    build = build_with(tmp_path, WAITING_RUNNER)
    out = tmp_path / "out"
    proc = start("--no-build", "--build-dir", str(build), "-o", str(out))
    assert wait_for_line(proc.stdout, "copy: 6/6 points", 20)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + sig, err
    name = signal.Signals(sig).name
    assert f"run.py: got {name}: stopping" in err
    doc = report(out)
    run = doc["runs"][0]
    assert run["info"]["interrupted"] == name and run["stream_state"] == "truncated"
    st = points(doc)
    assert st["copy.anon.eexist"] == "pass" and st["errno"] == "notrun"
    assert wait_gone(build) == []


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_during_the_build_stops_make(tmp_path: Path, sig: int) -> None:
    """Before: on SIGTERM make and cc kept running; SIGINT gave a
    KeyboardInterrupt traceback. Now make's whole group is stopped and a
    report says nothing ran because of the signal."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    marker = tmp_path / "cc-started"
    (bin_dir / "make").write_text(
        "#!/bin/sh\n# a build: a compiler that takes its time\n"
        f"sh -c 'touch {marker}; exec sleep 60 # {tmp_path}' &\nwait\n")
    (bin_dir / "make").chmod(0o755)
    build = build_with(tmp_path, "exit 0")
    out = tmp_path / "out"
    proc = start("--build-dir", str(build), "-o", str(out),
                 env={"PATH": f"{bin_dir}:{os.environ['PATH']}"})
    end = time.monotonic() + 60
    while not marker.exists() and time.monotonic() < end:
        time.sleep(0.05)
    assert marker.exists(), "the stand-in make never ran"
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + sig, err
    assert "Traceback" not in err
    assert wait_gone(tmp_path) == []        # make and its compiler
    run = report(out)["runs"][0]
    assert run["cause"] == (f"interrupted: run.py got {signal.Signals(sig).name} "
                            "before this target started")
    assert points(report(out)) == {"copy": "notrun", "errno": "notrun"}


def fake_vmlinux(path: Path) -> Path:
    """The smallest ELF a kernel check passes: header, no segments, banner."""
    import struct
    header = b"\x7fELF\x02\x01\x01" + b"\0" * 9 + struct.pack(
        "<HHIQQQIHHHHHH", 2, 62, 1, 0, 64, 0, 0, 64, 56, 0, 64, 0, 0)
    path.write_bytes(header + b"Linux version 6.99.0-fake (nobody)\0")
    return path


def test_sigint_during_a_vm_run_keeps_the_host_run(tmp_path: Path) -> None:
    """Before: a KeyboardInterrupt traceback, no report (the finished host
    run lost too); SIGTERM left /tmp/faultline-vm-*. Now QEMU is killed,
    the console's points are kept, the temp dir is gone, exit 130. QEMU is
    a stand-in on PATH that prints a stream and waits."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    qemu = bin_dir / "qemu-system-x86_64"
    qemu.write_text(
        "#!/bin/sh\n[ \"$1\" = --version ] && { echo 'QEMU emulator version 10.0.2';"
        " exit 0; }\n"
        "printf '@@faultline stream 1\\n@@faultline run {\"release\":\"6.99.0-fake\","
        "\"binary_names\":[\"copy\"]}\\n@@faultline binary-begin {\"name\":\"copy\"}\\n"
        "1..2\\nok 1 copy.anon.a\\n'\n"
        f"exec sleep 60 # {tmp_path}\n")
    qemu.chmod(0o755)
    static = build_with(tmp_path / "static", "exit 0", {"copy": "exit 0"})
    host = build_with(tmp_path, f"cat {DATA / 'host.stream'}")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    out = tmp_path / "out"
    proc = start("--no-build", "--build-dir", str(host), "--static-build-dir",
                 str(static), "--kernel", "host", "--kernel",
                 str(fake_vmlinux(tmp_path / "vmlinux")), "-j", "1", "-o", str(out),
                 env={"PATH": f"{bin_dir}:{os.environ['PATH']}", "TMPDIR": str(tmp),
                      "XDG_CACHE_HOME": str(tmp_path / "cache"),
                      "FAULTLINE_ACCEL": "tcg"})
    assert wait_for_line(proc.stdout, "boot 1", 30)
    time.sleep(1)                           # the console's first point is in
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    doc = report(out)
    host_run, vm_run = doc["runs"]
    assert host_run["stream_state"] == "complete"
    assert vm_run["stream_state"] == "truncated"
    assert vm_run["cause"].startswith("interrupted during the run: run.py stopped")
    assert points(doc, 1)["copy.anon.a"] == "pass"
    assert list(tmp.iterdir()) == []        # no faultline-vm-* left
    assert wait_gone(tmp_path) == []        # no QEMU left


# ---- 5 (run.py's half): an outside kill is named as such ------------------

def test_outside_sigkill_of_the_runner_is_named(tmp_path: Path) -> None:
    """Before: 'runner killed by signal 9 (overall limit 150 s)' after a
    second. Now the kill is said to come from outside run.py."""
    build = build_with(tmp_path, f"head -n 33 {DATA / 'host.stream'}\nkill -KILL $$")
    out = tmp_path / "out"
    res = run_py("--no-build", "--build-dir", str(build), "-o", str(out))
    assert res.returncode == 1
    cause = report(out)["runs"][0]["cause"]
    assert cause == "runner killed by signal 9 (SIGKILL) from outside run.py"


# ---- 6: expectations -------------------------------------------------------

@pytest.mark.parametrize("body,said", [
    (b'  - id: "copy.*"\n    reason: "caf\xe9"\n',
     ":3: not UTF-8 text (byte 0xe9)"),
    (b'  - id: "copy.*"\n    reason: r\n    target: 5\n',
     ":4: entry 0: 'target' must be text, not int 5"),
    (b'  - id: "copy.*"\n    reason: r\n    link: [1, 2]\n',
     ":4: entry 0: 'link' must be text, not list [1, 2]"),
    (b'  - id: "copy.*"\n    reasn: r\n',
     ":2: entry 0: needs 'id' and 'reason'")])
def test_bad_expectations_fail_before_any_work(tmp_path: Path, body: bytes,
                                               said: str) -> None:
    """Before: a UnicodeDecodeError traceback; a TypeError or a jinja2
    traceback after the whole suite. Now exit 2 with file:line, nothing run."""
    exp = tmp_path / "e.yaml"
    exp.write_bytes(b"expectations:\n" + body)
    build = build_with(tmp_path, f"touch {tmp_path}/ran; cat {DATA / 'host.stream'}")
    res = run_py("--no-build", "--build-dir", str(build), "-o", str(tmp_path / "o"),
                 "--expectations", str(exp))
    assert res.returncode == 2, res.stderr
    assert f"--expectations: {exp}{said}" in res.stderr
    assert "Traceback" not in res.stderr and not (tmp_path / "ran").exists()


# ---- 7: the wait for another run's huge page pool --------------------------

@pytest.mark.skipif(not hugetlb_writable(), reason="needs root and huge pages")
def test_waiting_for_the_pool_is_shown_and_a_signal_ends_it(
        build_dir: Path, tmp_path: Path) -> None:
    """Before: nothing on stderr (the runner's message went to a temp file);
    SIGTERM left the runner waiting. Now the message comes at once and
    SIGTERM ends the wait: exit 143, a report, no runner left."""
    build = build_with(tmp_path, real_runner(build_dir, pool=True),
                       {"good": "echo 1..1; echo 'ok 1 good.anon.a'"})
    out = tmp_path / "out"
    with pool_lock():
        proc = start("--no-build", "--build-dir", str(build), "-o", str(out))
        said = wait_for_line(proc.stderr, "waiting for run PID", 10)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert said == (f"faultline-runner: waiting for run PID {os.getpid()} "
                    "(/run/faultline-hugepages.lock), which holds the huge page pool\n")
    assert proc.returncode == 143, err
    assert points(report(out)) == {"good": "notrun"}
    assert wait_gone(build) == []
