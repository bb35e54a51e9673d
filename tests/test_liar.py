# SPDX-License-Identifier: GPL-2.0
"""The liar (tools/liar): the library, its catalogue, the verdict rules,
and the quick mutants subset over the real suite."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "tools" / "liar"))

import catalogue  # noqa: E402
from catalogue import CatalogueError, Row  # noqa: E402
from verdict import Outcome, judge, summary_line  # noqa: E402

AUDIT_SHIMS = ("copy_eexist_writes", "copy_field_zero", "wp_multipage_noop",
               "fork_copy_eexist")
# What the quick subset must cover: one lie per ioctl and per message field
# (lie names start with what they lie about).
QUICK_GROUPS = {
    "COPY": "copy_", "ZEROPAGE": "zeropage_", "WRITEPROTECT": "wp_",
    "CONTINUE": "continue_", "POISON": "poison_", "MOVE": "move_",
    "REGISTER": "register_", "UNREGISTER": "unregister_", "WAKE": "wake_",
    "API": "api_", "creation": ("create_", "dev_"),
    "fault address": ("msg_address", "msg_exact"), "fault flags": "msg_flag_",
    "ptid": "msg_ptid_", "fork fd": "msg_fork_", "remap": "msg_remap_",
    "remove": "msg_remove_", "unmap": "msg_unmap_", "read()": "read_",
}


@pytest.fixture(scope="module")
def liar(build_dir: Path) -> Path:
    return build_dir / "tools" / "liar.so"


def preload(liar: Path, lie: str, cmd: list[str]) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, LD_PRELOAD=str(liar), FAULTLINE_LIE=lie)
    return subprocess.run(cmd, capture_output=True, text=True, env=env,
                          timeout=120, check=False)


# --- catalogue ----------------------------------------------------------


def test_catalogue_names_every_lie_of_the_library(liar: Path) -> None:
    listed = preload(liar, "list", ["/bin/true"]).stdout.splitlines()
    names = [ln.split("\t")[0] for ln in listed]
    rows = catalogue.load()
    assert sorted(names) == sorted(r.lie for r in rows)
    assert all(len(ln.split("\t")) == 2 and ln.split("\t")[1] for ln in listed)


def test_catalogue_has_what_issue_10_asks_for() -> None:
    rows = {r.lie: r for r in catalogue.load()}
    assert len(rows) >= 40
    for name in AUDIT_SHIMS:
        assert rows[name].catch, name
    assert not rows["future_feature_bit"].catch
    no_move = rows["no_move"]
    assert not no_move.catch
    assert no_move.must_skip_matches("move.anon.pages")
    assert no_move.must_skip_matches("errnos.move_zero_len.check")


def test_quick_subset_covers_every_ioctl_and_message_field() -> None:
    quick = [r.lie for r in catalogue.load() if r.quick]
    for what, prefix in QUICK_GROUPS.items():
        assert any(q.startswith(prefix) for q in quick), what


@pytest.mark.parametrize("line,error", [
    ("x\tcatch\tall\t-", "columns"),
    ("x\tcatch\tbogus\t-\t-", "unknown memory type"),
    ("x\tcatch\tany,anon\t-\t-", "stands alone"),
    ("x\tcatch\t-\t-\t-", "names its memory types"),
    ("x\ttolerate\tanon\t-\t-", "no types"),
    ("x\tcatch\tall\t-\tmove.*", "for tolerate lies"),
    ("x\tmaybe\tall\t-\t-", "catch' or 'tolerate"),
    ("x\tcatch\tall\tyes\t-", "quick"),
    ("x\tcatch\tall\t-\t-\nx\tcatch\tall\t-\t-", "twice"),
])
def test_catalogue_errors_name_the_line(tmp_path: Path, line: str, error: str) -> None:
    path = tmp_path / "c.tsv"
    path.write_text("# comment\n" + line + "\n")
    with pytest.raises(CatalogueError, match=error) as e:
        catalogue.load(path)
    assert "c.tsv:" in str(e.value)


def test_catalogue_type_aliases(tmp_path: Path) -> None:
    path = tmp_path / "c.tsv"
    path.write_text("a\tcatch\tfile\tquick\t-\tnote\nb\ttolerate\t-\t-\tx.*,y.*\n")
    a, b = catalogue.load(path)
    assert a.types == catalogue.TYPE_ALIASES["file"] and a.quick and a.note == "note"
    assert b.must_skip == ("x.*", "y.*") and not b.types


# --- the library -----------------------------------------------------------


def test_unknown_lie_is_exit_2_with_a_message(liar: Path) -> None:
    proc = preload(liar, "no_such_lie", ["/bin/true"])
    assert proc.returncode == 2
    assert "unknown lie 'no_such_lie'" in proc.stderr


def test_no_lie_changes_nothing(liar: Path, cases_dir: Path) -> None:
    proc = preload(liar, "", [str(cases_dir / "copy"), "-v", "anon"])
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert "liar fired" not in proc.stdout


def test_a_lie_fires_in_the_test_it_breaks(liar: Path, cases_dir: Path) -> None:
    proc = preload(liar, "copy_field_zero",
                   [str(cases_dir / "copy"), "-r", "copy.anon.fault_round_trip"])
    out = proc.stdout
    assert re.search(r"RUN\s+copy\.anon\.fault_round_trip \.\.\.\n"
                     r"# liar fired: copy_field_zero", out), out
    assert "not ok 1 copy.anon.fault_round_trip" in out


def test_fork_fd_is_tracked(liar: Path, cases_dir: Path) -> None:
    """The child's uffd arrives in a FORK message: lies reach it too."""
    proc = preload(liar, "fork_copy_eexist",
                   [str(cases_dir / "events"), "-r", "events.anon.fork"])
    assert "liar fired: fork_copy_eexist" in proc.stdout, proc.stdout


# --- verdicts ---------------------------------------------------------------


def row(expect: str = "catch", types: tuple[str, ...] = ("anon", "shmem"),
        must_skip: tuple[str, ...] = ()) -> Row:
    return Row(lie="l", expect=expect, types=types, quick=False,
               must_skip=must_skip)


def out(point: str, status: str, fired: bool = True, reason: str = "",
        unit: str = "l@copy") -> Outcome:
    return Outcome(unit, point, status, reason, None, fired)


BASE = {"copy.anon.a": "pass", "copy.shmem.a": "pass", "copy.anon.b": "pass",
        "errnos.x.check": "pass", "copy.shmem.b": "fail"}


def test_kill_needs_a_baseline_pass_and_the_lie_firing_there() -> None:
    j = judge(row(), [out("copy.anon.a", "fail"),
                      out("copy.shmem.a", "fail", fired=False),
                      out("copy.shmem.b", "fail")], BASE)
    assert j.kills == {"anon": ["copy.anon.a"]}
    assert j.missed == ["shmem"] and j.status == "missed" and not j.ok
    assert j.unstable == ["copy.shmem.a"]


def test_a_skip_is_never_a_kill_but_a_starved_one_is_undecided() -> None:
    j = judge(row(), [out("copy.anon.a", "skip", reason="REGISTER did not offer UFFDIO_COPY"),
                      out("copy.shmem.a", "skip", reason="no free huge pages")], BASE)
    assert j.missed == ["anon"] and "shmem" in j.undecided
    # Once a baseline beside the rerun could tell, the lie made it skip.
    j = judge(row(), [out("copy.anon.a", "timeout"),
                      out("copy.shmem.a", "skip", reason="no free huge pages")],
              BASE, load=set())
    assert j.missed == ["shmem"] and not j.undecided
    j = judge(row(), [out("copy.anon.a", "timeout"),
                      out("copy.shmem.a", "notrun")], BASE, load={"copy.shmem.a"})
    assert j.undecided == {"shmem": "1 not run"} and j.status == "undecided"


def test_any_rows_take_a_kill_anywhere() -> None:
    j = judge(row(types=("any",)), [out("errnos.x.check", "fail")], BASE)
    assert j.ok and j.killed("any") == ["errnos.x.check"]
    j = judge(row(types=("any",)), [out("errnos.x.check", "pass")], BASE)
    assert j.missed == ["any"]


def test_tolerate_breaks_and_must_skip() -> None:
    r = row("tolerate", (), ("copy.anon.*",))
    j = judge(r, [out("copy.anon.a", "skip", reason="kernel does not report MOVE"),
                  out("copy.anon.b", "pass"), out("copy.shmem.a", "fail")], BASE)
    assert j.status == "broken"
    assert any(b.startswith("copy.anon.b (passed") for b in j.breaks)
    assert any(b.startswith("copy.shmem.a (fail") for b in j.breaks)
    j = judge(r, [out("copy.anon.a", "skip", reason="x"),
                  out("copy.anon.b", "skip", reason="y"),
                  out("copy.shmem.a", "fail", fired=False)], BASE)
    assert j.ok and j.unstable == ["copy.shmem.a"]
    assert summary_line([j]) == "lies: 0/0 caught, 1/1 tolerated"


# --- the quick subset over the real suite ---------------------------------------


@pytest.mark.skipif(os.geteuid() != 0, reason="the runner and hugetlb points need root")
def test_quick_mutants(build_dir: Path) -> None:
    """`make mutants-quick`: every quick lie caught, every quick tolerate
    lie green (bench: its runtime is printed on the `time:` line)."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "liar" / "mutants.py"),
         "--build", str(build_dir), "--quick"],
        capture_output=True, text=True, timeout=900, check=False)
    lines = proc.stdout.splitlines()
    assert lines and re.fullmatch(r"lies: (\d+)/\1 caught, (\d+)/\2 tolerated",
                                  lines[-1]), proc.stdout[-4000:] + proc.stderr[-2000:]
    assert proc.returncode == 0
