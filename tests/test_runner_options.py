# SPDX-License-Identifier: GPL-2.0
"""faultline-runner's one option table: the kernel command line
(faultline.<option>=<value>, as PID 1) means exactly what argv means on the
host, today's keys keep working, and a bad word ends the run with an error
frame naming it instead of being ignored.

PID 1 is tried in a PID namespace (unshare), with FAULTLINE_CMDLINE standing
in for the kernel's command line.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest

from runner_util import Stream, parse_stream, run

needs_pid1 = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("unshare") is None,
    reason="needs root and unshare(1) for PID 1 mode")


@pytest.fixture
def pid1_dir(build_dir: Path) -> Iterator[Path]:
    """A directory PID 1 can see (not /tmp: it mounts a tmpfs there)."""
    base = build_dir / "test-pid1"
    if str(build_dir.resolve()).startswith("/tmp/"):
        base = Path("/var/tmp/faultline-test-pid1")
    where = base / uuid.uuid4().hex
    where.mkdir(parents=True)
    try:
        yield where
    finally:
        shutil.rmtree(where, ignore_errors=True)


def pid1_cases(pid1_dir: Path, cases_dir: Path, *names: str) -> Path:
    """A cases directory PID 1 can see, holding copies of the named case
    binaries (for faultline.cases=)."""
    d = pid1_dir / "cases"
    d.mkdir()
    for name in names:
        shutil.copyfile(cases_dir / name, d / name)
        (d / name).chmod(0o755)
    return d


def pid1(runner: Path, cmdline: str) -> tuple[int, Stream, str]:
    env = dict(os.environ, FAULTLINE_CMDLINE=cmdline)
    r = subprocess.run(["unshare", "--pid", "--fork", "--mount", "--propagation",
                        "private", str(runner)],
                       capture_output=True, text=True, env=env, timeout=60)
    return r.returncode, parse_stream(r.stdout, vm=True), r.stderr


def long_options(runner: Path) -> dict[str, str | None]:
    """--help's long options: name -> the value's name (None: a flag)."""
    text = run(runner, "--help").stdout
    found = re.findall(r"^ {2}(?:-\w, )? *--([\w-]+)(?: (\S+))?", text, re.M)
    return {name: arg or None for name, arg in found}


def facts(s: Stream) -> dict[str, Any]:
    """What the options decide, as the stream shows it."""
    return {"timeout_s": s.run["timeout_s"], "jobs": s.run["jobs"],
            "target": s.run["target"], "kmsg": s.run["kmsg"],
            "hugepages": s.run.get("hugepages"),
            "probe": s.probe_end is not None,
            "binaries": [b.begin["name"] for b in s.binaries],
            "begin_timeout": [b.begin["timeout_s"] for b in s.binaries]}


@needs_pid1
def test_cmdline_means_what_argv_means(runner: Path, fakes, pid1_dir: Path) -> None:
    d = fakes("pass", "crash", where=pid1_dir)
    args = ["--timeout=2.5", "--term-grace=0", "--jobs=2", "--hugepages=0",
            "--no-kmsg", "--target=same", "--no-probe",
            f"--cases={d / 'pass'},{d / 'crash'}"]
    host = run(runner, *args)
    assert host.returncode == 0, host.stderr
    words = " ".join("faultline." + a[2:] for a in args)
    rc, vm, _ = pid1(runner, f"console=ttyS0 quiet {words} rdinit=/init")
    assert rc == 0
    want = {"timeout_s": 2.5, "jobs": 2, "target": "same", "kmsg": False,
            "hugepages": None, "probe": False, "binaries": ["pass", "crash"],
            "begin_timeout": [2.5, 2.5]}
    assert facts(parse_stream(host.stdout)) == want
    assert facts(vm) == want


@needs_pid1
def test_every_long_option_of_help_is_a_cmdline_key(runner: Path, fakes,
                                                    pid1_dir: Path) -> None:
    """run.py's contract: faultline.<name>=<value> for each --help name."""
    d = fakes("pass", where=pid1_dir)
    sample = {"N": "1", "SECONDS": "1", "PATH": "none", "FILE": "-",
              "NAME": "x", "P[,P...]": str(d), "GLOB": "*"}
    opts = long_options(runner)
    assert {"timeout", "term-grace", "jobs", "hugepages", "kmsg", "target",
            "probe", "output", "cases", "no-probe", "no-kmsg"} <= set(opts)
    for name, arg in opts.items():
        if name in ("help", "version", "list"):     # host only
            continue
        word = f"faultline.{name}" + (f"={sample[arg]}" if arg else "")
        rc, s, _ = pid1(runner, f"{word} faultline.cases={d} faultline.probe=none")
        assert rc == 0 and s.end["status"] == "complete", (word, s.end)


@needs_pid1
def test_todays_keys_keep_working(runner: Path, fakes, pid1_dir: Path) -> None:
    d = fakes("hang", where=pid1_dir)
    rc, s, _ = pid1(runner, f"faultline.cases={d} faultline.probe=none "
                    "faultline.timeout=1 faultline.term_grace=0 faultline.kmsg=0 "
                    "faultline.jobs=1 faultline.hugepages=0 faultline.target=old "
                    "faultline.output=-")
    assert rc == 0
    assert s.run["target"] == "old" and s.run["kmsg"] is False
    assert s.probe_end is None and s.run["timeout_s"] == 1
    hang = s.binary("hang").end
    # term_grace=0: no SIGTERM first, SIGKILL at the deadline.
    assert hang["timed_out"] is True and hang["signal"] == signal.SIGKILL


@needs_pid1
@pytest.mark.parametrize("word, says", [
    ("faultline.timeout=abc", "bad faultline.timeout=abc (seconds > 0"),
    ("faultline.term_grace=-1", "bad faultline.term_grace=-1 (seconds >= 0"),
    ("faultline.jobs=0", "bad faultline.jobs=0 (1..256)"),
    ("faultline.hugepages=x", "bad faultline.hugepages=x"),
    ("faultline.timeout", "faultline.timeout: a value is needed"),
    ("faultline.kmsg=2", "faultline.kmsg=2: 0 or 1 (or no value) expected"),
    ("faultline.tiemout=5", "faultline.tiemout=5: unknown option"),
    ("faultline.help", "faultline.help: not an option for the kernel command line"),
    ("faultline.output=/nonexistent/dir/stream",
     "faultline.output=/nonexistent/dir/stream: No such file or directory"),
])
def test_bad_cmdline_word_ends_the_run(runner: Path, fakes, pid1_dir: Path,
                                       word: str, says: str) -> None:
    d = fakes("pass", where=pid1_dir)
    rc, s, _ = pid1(runner, f"quiet faultline.cases={d} {word} faultline.probe=none")
    assert rc == 1                      # a VM's debug-exit code 3: failure
    assert s.end["status"] == "error" and s.binaries == []
    assert s.end["error"].startswith("kernel command line: ")
    assert says in s.end["error"]


@needs_pid1
def test_words_of_others_are_left_alone(runner: Path, fakes, pid1_dir: Path) -> None:
    d = fakes("pass", where=pid1_dir)
    rc, s, _ = pid1(runner, f'console=ttyS0 faultline "quoted word" init=/x '
                    f'faultlinex.y=1 faultline.target="two words" '
                    f'faultline.cases={d} faultline.no_probe')
    assert rc == 0 and s.end["status"] == "complete"
    assert s.run["target"] == "two words" and s.probe_end is None


def test_host_cases_and_probe_none(runner: Path, fakes) -> None:
    d = fakes("pass", "crash")
    by_list = run(runner, "--probe", "none", "--hugepages", "0",
                  f"--cases={d / 'pass'},{d / 'crash'}")
    by_args = run(runner, "--no-probe", "--hugepages", "0",
                  str(d / "pass"), str(d / "crash"))
    assert by_list.returncode == by_args.returncode == 0
    a, b = parse_stream(by_list.stdout), parse_stream(by_args.stdout)
    assert a.probe_end is None and b.probe_end is None
    assert [x.begin["path"] for x in a.binaries] == [
        x.begin["path"] for x in b.binaries] == [str(d / "pass"), str(d / "crash")]


def test_version_is_the_projects(runner: Path) -> None:
    version = (Path(__file__).resolve().parent.parent / "VERSION").read_text().strip()
    assert run(runner, "--version").stdout == f"faultline-runner {version}\n"


@needs_pid1
def test_pid1_bench_is_in_the_root(runner: Path, fakes, pid1_dir: Path) -> None:
    """faultline.bench=uffd-bench, as run.py --bench puts it on a VM's
    command line, is /uffd-bench (the initramfs's); a missing one is the
    benchmark's error, never the run's."""
    d = fakes("pass", where=pid1_dir)
    rc, s, _ = pid1(runner, f"faultline.cases={d} faultline.probe=none "
                    "faultline.bench=uffd-bench")
    assert rc == 0 and s.end["status"] == "complete"
    assert s.run["bench"] == "/uffd-bench" == s.bench_begin["path"]
    assert s.bench_end["exit"] is None and "cannot execute" in s.bench_end["error"]
