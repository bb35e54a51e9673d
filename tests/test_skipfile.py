# SPDX-License-Identifier: GPL-2.0
"""LKFT skipfiles: `run.py report skipfile` and reports/skipfile.py."""
from __future__ import annotations

import itertools
import textwrap
from pathlib import Path

import pytest
import yaml

from reports_util import DATA, ROOT

from reports import expectations as expect
from reports.cli import report_main
from reports.model import Run
from reports.skipfile import (SkipEnvironment, SkipfileError, branches_of,
                              first_match, load_skipfile, skipfile_yaml)

RELEASES = ("5.10.0-46-cloud-amd64", "5.11.22", "6.1.0-28-cloud-amd64", "6.1.192",
            "6.2.0", "6.12.118+deb13-cloud-amd64", "6.16.9", "6.17.0", "7.2.13")
MACHINES = ("x86_64", "aarch64", "riscv64")
TARGETS = ("host", "debian:bookworm")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "skipfile.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def examples(pattern: str) -> list[str]:
    """Point ids an expectation pattern names, and a neighbour it does not."""
    pid = pattern.replace("*", "anon")
    return [pid, pid + "x", "other." + pid]


ARCH_SCOPED = """\
expectations:
  - {id: "wp.*.fork", arch: arm64, kernel: ">=6.1, <6.10", reason: "arm64 WP"}
  - {id: "minor.shmem.*", arch: "riscv*", reason: "no MINOR marker bits"}
  - {id: "api.dev.open", arch: x86_64, target: "debian:*", reason: "x86 only"}
"""


@pytest.mark.parametrize("source", ["expectations", "tests-data", "arch-scoped"])
def test_exported_skipfile_skips_what_the_expectations_cover(
        source: str, tmp_path: Path) -> None:
    """For every kernel x machine x target and point, the exported
    skipfile names the point exactly when an expectation matches it."""
    arch_file = tmp_path / "arch.yaml"
    arch_file.write_text(ARCH_SCOPED)
    exps = expect.load({"expectations": ROOT / "expectations", "arch-scoped": arch_file,
                        "tests-data": DATA / "expectations.yaml"}[source])
    path = tmp_path / "skip.yaml"
    path.write_text(skipfile_yaml(exps))
    points = [pid for e in exps for pid in examples(e.id)]
    for release, machine, target in itertools.product(RELEASES, MACHINES, TARGETS):
        run = Run(target=target, kernel={"release": release, "machine": machine})
        rules = load_skipfile(path, SkipEnvironment.for_kernel(release, machine, target))
        for pid in points:
            want = next((e for e in exps if e.matches(run, pid)), None)
            got = first_match(rules, pid)
            assert (got is None) == (want is None), (release, machine, target, pid)
            if want:
                assert want.reason in got.describe() and got.url == want.link


def test_exported_skipfile_is_lkft_shaped(tmp_path: Path) -> None:
    text = skipfile_yaml(expect.load(ROOT / "expectations"))
    doc = yaml.safe_load(text)       # what skipgen's YAML reader sees
    assert set(doc) == {"skiplist"}
    for entry in doc["skiplist"]:
        assert list(entry)[:6] == ["reason", "url", "environments", "boards",
                                   "branches", "tests"]
        assert entry["environments"] == "all"
        # a series such as 6.10 must stay text (a YAML float would be 6.1)
        assert entry["branches"] == "all" or all(isinstance(b, str) for b in entry["branches"])
        assert all(isinstance(t, str) for t in entry["tests"])
    assert "6.10" in next(e["branches"] for e in doc["skiplist"]
                          if e["kernel"] == ">=5.10, <6.17")


@pytest.mark.parametrize("spec,want", [
    (">=6.1, <6.2", ["6.1"]), (">=6.1.50, <6.2", ["6.1"]),
    (">=5.19, <6.1", ["5.19", "6.0"]), (">=6.19, <=7.0.3", ["6.19", "7.0"]),
    (">=6.1", "all"), ("!=6.1", "all"), (None, "all"), ("<4.4", ["4.3"])])
def test_branches_of_a_kernel_range(spec: str | None, want: object) -> None:
    assert branches_of(spec) == want


LKFT_STYLE = """\
    # entries in the shape of LKFT's kselftest skipfile
    skiplist:
      - reason: >
          hangs on this board
        url: https://bugs.example.invalid/1
        environments: production
        boards:
          - aarch64
          - qemu_arm64
        branches:
          - 6.10
          - mainline
        tests:
          - copy
          - faultline:wp.*.fork_without_event
      - reason:
        url:
        environments: all
        boards: all
        branches: all
        tests: errno.anon.register_busy
      - reason: another collection's test
        url:
        environments: all
        boards: all
        branches: all
        tests:
          - mm:uffd-unit-tests
          - test_maps
"""


def test_skipgen_rules(tmp_path: Path) -> None:
    path = write(tmp_path, LKFT_STYLE)
    rules = load_skipfile(path)
    assert [r.source for r in rules] == [f"{path}:3", f"{path}:16", f"{path}:22"]
    assert rules[0].reason == "hangs on this board" and rules[0].conditions[
        "branches"] == ("6.10", "mainline")     # 6.10 read as written

    def skipped(env: SkipEnvironment) -> list[str]:
        ids = ["copy.anon.eexist", "copyx.anon.a", "wp.shmem.fork_without_event",
               "errno.anon.register_busy", "errno.shmem.register_busy"]
        rules = load_skipfile(path, env)
        return [i for i in ids if first_match(rules, i)]
    on = SkipEnvironment.for_kernel("6.10.3", "aarch64", environment="production")
    assert skipped(on) == ["copy.anon.eexist", "wp.shmem.fork_without_event",
                           "errno.anon.register_busy"]
    assert skipped(SkipEnvironment(board="arm64", branch="6.10")) == skipped(on)
    for off in (SkipEnvironment.for_kernel("6.1.0", "aarch64"),
                SkipEnvironment.for_kernel("6.10.3", "x86_64"),
                SkipEnvironment(environment="staging")):
        assert skipped(off) == ["errno.anon.register_busy"]
    assert skipped(SkipEnvironment()) == skipped(on)   # nothing asked: all apply
    why = first_match(load_skipfile(path), "errno.anon.register_busy").describe()
    assert why == f"skipfile {path}:16: no reason given"
    assert first_match(rules, "copy.anon.eexist").describe() == (
        f"skipfile {path}:3: hangs on this board (https://bugs.example.invalid/1)")


def test_kernel_and_target_keys_narrow_an_entry(tmp_path: Path) -> None:
    path = write(tmp_path, """\
        skiplist:
          - {reason: r, url: null, environments: all, boards: all,
             branches: ["6.1"], tests: [a.b], kernel: ">=6.1.100", target: "debian:*"}
        """)
    env = SkipEnvironment.for_kernel
    assert load_skipfile(path, env("6.1.119", "x86_64", "debian:bookworm"))
    assert not load_skipfile(path, env("6.1.50", "x86_64", "debian:bookworm"))
    assert not load_skipfile(path, env("6.1.119", "x86_64", "host"))
    assert load_skipfile(path, SkipEnvironment(branch="6.1"))   # release unknown


@pytest.mark.parametrize("text,line,msg", [
    ("skiplist: [\n", 2, "not YAML"),
    ("- a\n", 1, "a mapping with a 'skiplist' list"),
    ("skiplist: 3\n", 1, "a mapping with a 'skiplist' list"),
    ("skiplist:\n  - just text\n", 2, "must be a mapping"),
    ("skiplist:\n  - reason: r\n    boards: all\n    branches: all\n    tests: [a]\n",
     2, "entry has no 'environments'"),
    ("skiplist:\n  - environments: all\n    boards: all\n    branchs: all\n", 4,
     "unknown key 'branchs'"),
    ("skiplist:\n  - environments: all\n    boards: all\n    branches: all\n"
     "    tests:\n      - a\n      -\n", 7, "'tests' needs a name or a list"),
    ("skiplist:\n  - environments: all\n    boards: [[x86]]\n    branches: all\n"
     "    tests: a\n", 3, "'boards' must be text"),
    ("skiplist:\n  - {environments: all, boards: all, branches: all, tests: a,\n"
     "     kernel: 'soon'}\n", 3, "bad kernel range 'soon'"),
    ("skiplist:\n  - {environments: all, boards: all, branches: all, tests: a,\n"
     "     tests: b}\n", 3, "'tests' given twice"),
])
def test_errors_name_file_and_line(tmp_path: Path, text: str, line: int,
                                   msg: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(SkipfileError) as err:
        load_skipfile(path)
    assert str(err.value).startswith(f"{path}:{line}: "), str(err.value)
    assert msg in str(err.value)


def test_empty_skiplist_and_missing_file(tmp_path: Path) -> None:
    assert load_skipfile(write(tmp_path, "skiplist:\n")) == []
    with pytest.raises(SkipfileError, match="nope.yaml: No such file"):
        load_skipfile(tmp_path / "nope.yaml")


def test_report_skipfile_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "skip.yaml"
    assert report_main(["skipfile", str(DATA / "expectations.yaml"), "-o", str(out)]) == 0
    rules = load_skipfile(out)
    assert [r.tests for r in rules] == [("errno.*.unregister_foreign",),
                                        ("copy.hugetlb.*",),
                                        ("bugs.hugetlb_private_wp_fork.check",)]
    assert rules[1].conditions["target"] == "debian:*"
    assert report_main(["skipfile"]) == 0           # the tree's expectations/
    assert len(load_skipfile(write(tmp_path, capsys.readouterr().out))) == \
        len(expect.load(ROOT / "expectations"))
    assert report_main(["skipfile", str(tmp_path / "none")]) == 2
    assert "no such file" in capsys.readouterr().err
    bad = write(tmp_path, "expectations:\n  - id: a\n")
    assert report_main(["skipfile", str(bad)]) == 2
