# SPDX-License-Identifier: GPL-2.0
"""faultline-runner --only and --list: points chosen before anything runs,
from each binary's own list (the kselftest harness's -l), on the host and
from the kernel command line as PID 1."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from runner_util import parse_stream, run
from test_runner_options import needs_pid1, pid1, pid1_cases, pid1_dir  # noqa: F401

TAP_RE = re.compile(r"^(?:not )?ok \d+ (\S+)")


def tap_ids(payload: list[str]) -> list[str]:
    return [m.group(1) for m in map(TAP_RE.match, payload) if m]


def listed(runner: Path, *args: str) -> list[tuple[str, str]]:
    r = run(runner, "--list", *args)
    assert r.returncode == 0, r.stderr
    return [tuple(ln.split(" ")) for ln in r.stdout.splitlines()]


def test_list_is_what_the_binary_runs(runner: Path, cases_dir: Path) -> None:
    """--list names exactly the points a whole run reports, in run order
    (variants x tests, the harness's order)."""
    binary = cases_dir / "threadid"
    ran = subprocess.run([str(binary)], capture_output=True, text=True,
                         timeout=120)
    ids = tap_ids(ran.stdout.splitlines())
    assert len(ids) > 5
    assert listed(runner, str(binary)) == [("threadid", i) for i in ids]


def test_list_selects_across_binaries(runner: Path, cases_dir: Path) -> None:
    every = listed(runner, str(cases_dir))
    names = {n for n, _ in every}
    assert {"copy", "wp", "errno"} <= names
    chosen = listed(runner, "--only", "copy.*.eexist", "--only", "wp.hugetlb*",
                    str(cases_dir))
    want = [(n, i) for n, i in every
            if re.fullmatch(r"copy\.[^.]+\.eexist|wp\.hugetlb.*", i)]
    assert chosen == want and len([i for n, i in chosen if n == "copy"]) == 5
    # A comma list is the same as repeating the option.
    assert listed(runner, "--only=copy.*.eexist,wp.hugetlb*", str(cases_dir)) == want


def test_only_runs_the_chosen_points(runner: Path, cases_dir: Path) -> None:
    r = run(runner, "--no-probe", "--hugepages", "0", "--only", "copy.*.eexist",
            str(cases_dir / "copy"), str(cases_dir / "wp"), timeout=120)
    assert r.returncode == 0, r.stderr
    s = parse_stream(r.stdout)
    assert s.run["selection"] == ["copy.*.eexist"]
    # wp has nothing chosen: it is not run, nor named.
    assert s.run["binary_names"] == ["copy"] and s.run["binaries"] == 1
    copy = s.binary("copy")
    assert copy.begin["selected"] == 5
    assert "1..5" in copy.payload
    assert tap_ids(copy.payload) == [f"copy.{m}.eexist" for m in
                                     ("anon", "shmem", "shmem_private",
                                      "hugetlb", "hugetlb_private")]


def test_only_every_point_of_a_binary(runner: Path, cases_dir: Path) -> None:
    """A binary all of whose points are chosen runs as it is."""
    r = run(runner, "--no-probe", "--hugepages", "0", "--only", "access.*",
            "--only", "errnos.*.nothing", str(cases_dir / "access"),
            str(cases_dir / "errno"), timeout=120)
    assert r.returncode == 0, r.stderr
    s = parse_stream(r.stdout)
    assert [b.begin["name"] for b in s.binaries] == ["access"]
    b = s.binary("access")
    assert b.begin["selected"] == len(tap_ids(b.payload)) == len(
        listed(runner, str(cases_dir / "access")))


def test_no_match_exits_2_saying_so(runner: Path, cases_dir: Path) -> None:
    r = run(runner, "--no-probe", "--only", "nosuch.*", str(cases_dir / "copy"))
    assert r.returncode == 2
    assert "no test point matches --only" in r.stderr
    s = parse_stream(r.stdout)
    assert s.binaries == [] and s.end["status"] == "empty"
    assert s.end["error"] == "no test point matches --only"


def test_a_binary_that_cannot_list_runs_whole(runner: Path, fakes) -> None:
    """No point is lost to a selection: it runs, and says why unfiltered."""
    r = run(runner, "--no-probe", "--hugepages", "0", "--only", "nosuch.*",
            str(fakes("pass")))
    assert r.returncode == 0, r.stderr
    b = parse_stream(r.stdout).binary("pass")
    assert "no kselftest list" in b.begin["selection_error"]
    assert "selected" not in b.begin and tap_ids(b.payload)


@pytest.mark.parametrize("glob", ["", ",", "a b"])
def test_bad_glob_is_a_usage_error(runner: Path, glob: str) -> None:
    r = run(runner, "--no-probe", f"--only={glob}")
    assert r.returncode == 2 and "bad --only" in r.stderr


@needs_pid1
def test_only_on_the_kernel_command_line(runner: Path, pid1_dir: Path,  # noqa: F811
                                         cases_dir: Path) -> None:
    """faultline.only= words (repeated, or with commas) choose as --only."""
    d = pid1_cases(pid1_dir, cases_dir, "copy", "zeropage")
    rc, s, _ = pid1(runner, f"faultline.cases={d} faultline.probe=none "
                    "faultline.only=copy.anon.eexist "
                    "faultline.only=copy.shmem.eexist,zeropage.nosuch")
    assert rc == 0
    assert s.run["selection"] == ["copy.anon.eexist", "copy.shmem.eexist",
                                  "zeropage.nosuch"]
    assert [b.begin["name"] for b in s.binaries] == ["copy"]
    assert tap_ids(s.binary("copy").payload) == ["copy.anon.eexist",
                                                 "copy.shmem.eexist"]
