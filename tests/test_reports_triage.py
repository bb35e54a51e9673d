# SPDX-License-Identifier: GPL-2.0
"""Triage: problems with repro lines, the heat map, known kernel bugs,
collapsed findings, stable JUnit names, "fix lost" in report diff, and the
order of report.md."""
from __future__ import annotations

import copy
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from reports_util import DATA, validate

from reports import expectations as expect
from reports.cli import report_main
from reports.diff import diff_runs
from reports.document import build_document, build_matrix, finding_groups
from reports.heatmap import NO_TYPE, build_heatmap, short_labels
from reports.known_bugs import bug_table
from reports.model import Run
from reports.pipeline import publish
from reports.render_html import render_html
from reports.render_junit import render_junit, stable_id
from reports.render_markdown import render_markdown
from reports.stream import parse_stream, read_stream_file
from reports.triage import problems, split_location

EXPECT = expect.load(DATA / "expectations.yaml")


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1796157600")


def load(name: str) -> Run:
    run = read_stream_file(DATA / f"{name}.stream")
    expect.apply(run, EXPECT)
    return run


def test_crafted_612_problems_are_its_failures_and_one_kernel_log() -> None:
    run = load("trixie-triage")
    probs = problems([run])
    assert [(p.kind, p.title) for p in probs] == [
        ("kernel_log", "wp.kernel_log"), ("point", "copy.shmem.partial_src_hole"),
        ("point", "move.anon.pmd"), ("point", "wp.hugetlb.fork_pinned_with_event")]
    log, _, _, wp = probs
    assert log.repro == ["./run.py --kernel debian:trixie --only "
                         "wp.shmem.fork_pinned_with_event"]
    assert log.kernel_lines[0].startswith("WARNING: CPU: 0 PID: 1207 at mm/memory.c:3571")
    assert wp.location == "cases/wp.c:132" and wp.area == "wp"
    assert wp.message == "Expected 0 (0) == uffd_wait_msg(uffd, &msg, 2000) (-110)"
    assert wp.repro == ["./run.py --kernel debian:trixie --only "
                        "wp.hugetlb.fork_pinned_with_event"]
    html = render_html(build_document([run]), [run])
    assert html.count('<article class="problem') == 4


def test_host_repro_runs_the_binary_and_cut_streams_group_not_run_points() -> None:
    host, cut = load("host"), load("truncated")
    probs = problems([host, cut])
    fail = next(p for p in probs if p.title == "errno.anon.unregister_foreign"
                and p.status == "fail")
    assert fail.repro == ["build/cases/errno -r errno.anon.unregister_foreign"]
    assert fail.location == "errno.c:88"
    run = probs[0]
    assert run.kind == "run" and run.title == "run truncated"
    assert run.kernel_lines[-1].endswith("Kernel panic - not syncing: Fatal exception")
    notrun = next(p for p in probs if p.kind == "notrun")
    assert notrun.points == ["errno.#3", "errno.#4"]
    assert notrun.repro == ["./run.py --kernel debian:trixie --only 'errno.*'"]
    log = next(p for p in problems([load("splat")]) if p.kind == "kernel_log")
    assert log.repro == ["build/cases/wp -r wp.shmem.protect_fault ; dmesg | tail -n 40"]


def test_the_same_failure_on_two_kernels_is_one_problem() -> None:
    a, b = load("trixie-triage"), load("trixie-triage")
    b.target = "debian:trixie:cloud-arm64"
    probs = problems([a, b])
    move = next(p for p in probs if p.title == "move.anon.pmd")
    assert move.columns == [0, 1] and len(move.repro) == 2
    assert move.repro[1] == ("./run.py --kernel debian:trixie:cloud-arm64 "
                             "--only move.anon.pmd")


def test_huge_page_accounting_is_a_problem() -> None:
    run = load("host")
    run.header.update(jobs=2, hugepages_rsvd_before=0, hugepages_rsvd_after=-1)
    b = run.binaries[0]
    b.points[0].diagnostics.append(
        "# finding: HugePages_Rsvd was 0 before this binary and is 1 after it")
    found = [p for p in problems([run]) if p.kind == "finding"]
    assert [p.repro for p in found] == [
        [f"build/cases/{b.name} -r {b.points[0].id}"], ["./run.py --jobs-per-kernel 1"]]
    assert any("counter underflowed" in p.title for p in found)
    # ordinary findings are not problems
    assert not any(".copy = -EEXIST" in p.title for p in problems([run]))


def test_split_location() -> None:
    assert split_location("cases/bugs.c:283:check:kernel lacks fix 5a2f8d22ace4: x") == \
        ("cases/bugs.c:283", "kernel lacks fix 5a2f8d22ace4: x")
    assert split_location("# errno.c:88:unregister_foreign:Expected 0") == \
        ("errno.c:88", "Expected 0")
    assert split_location("test terminated by the harness timeout") == \
        ("", "test terminated by the harness timeout")


def test_heat_map_columns_come_from_the_probe_document() -> None:
    run = load("trixie-triage")
    hm = build_heatmap([run])
    assert hm.groups == ["anon", "shmem", "shmem_private", "hugetlb",
                         "hugetlb_private", NO_TYPE]
    wp = dict(zip(hm.groups, hm.rows["wp"]))
    assert wp["hugetlb"][0].status == "fail" and wp["hugetlb"][0].failing == 1
    assert wp[NO_TYPE][0].points == ["wp.kernel_log"]
    assert wp["anon"][0].href == "#area=wp&mem=anon&k=0"
    assert "13 pass" in wp["anon"][0].text
    assert dict(zip(hm.groups, hm.rows["api"]))["anon"][0].status == ""
    # another probe names the types in another order: the heat map follows
    other = copy.deepcopy(run)
    other.probe["domain"] = {"memory_types": [{"name": "hugetlb"}, {"name": "anon"}]}
    other.probe.pop("memory", None)
    other.probe.pop("register", None)
    assert build_heatmap([other]).groups == ["hugetlb", "anon", NO_TYPE]


def test_short_kernel_labels() -> None:
    a, b, c = load("bookworm"), load("host"), load("truncated")
    assert short_labels([a, b, c]) == ["6.1", "6.18", "6.12"]
    d = load("trixie")
    assert short_labels([c, d]) == ["6.12.57-cloud-amd64", "6.12.118+deb13-cloud-amd64"]


def test_known_bugs_table() -> None:
    old, new = load("bugs-bookworm"), load("bugs-host")
    t = bug_table([old, new, load("host")])
    assert len(t.bugs) == 15
    fork = t.bugs[0]
    assert fork.id == "hugetlb_private_wp_fork"
    assert fork.link == "https://git.kernel.org/linus/5a2f8d22ace4c8ac8798fab836dca7350fa710b1"
    expected, fixed, absent = t.cells[fork.id]
    assert expected.state == "affected, expected"
    assert expected.why.startswith("6.1-stable lacks the fork fix")
    assert expected.link == "https://git.kernel.org/linus/5a2f8d22ace4"
    assert fixed.state == "fixed" and absent.state == "not run"
    assert t.cells["anon_mmap_changing_output"][0].state == "affected"
    na = t.cells["anon_move_zeropage"][0]
    assert na.state == "not applicable"
    assert na.why == "kernel does not report UFFD_FEATURE_MOVE"
    # the failure's reason is the bug's own message, not the Expected line
    p = next(p for p in old.points if p.id == "bugs.anon_unregister_foreign.check")
    assert p.status == "fail" and "kernel lacks fix 23ec90eb122f" in p.reason
    md = render_markdown(build_document([old, new]), [old, new])
    assert "## Known kernel bugs (15)" in md
    assert ("| `anon_unregister_foreign` userfaultfd: prevent unregistering VMAs "
            "through a different userfaultfd | affected | fixed | "
            "[23ec90eb122f](https://git.kernel.org/linus/"
            "23ec90eb122faaf0468f450c5d5857a794956c75) |") in md
    html = render_html(build_document([old, new]), [old, new])
    assert 'href="https://git.kernel.org/linus/23ec90eb122faaf0468f450c5d5857a794956c75"' in html


def test_diff_says_fix_lost(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (DATA / "bugs-host.stream").read_text()
    bad = text.replace(
        "#            OK  bugs.shmem_private_copy.check\nok 13 bugs.shmem_private_copy.check",
        "# cases/bugs.c:700:check:kernel lacks fix 5b51072e97d5 (\"userfaultfd: shmem: "
        "allocate anonymous memory for MAP_PRIVATE shmem\"): the file's page changed\n"
        "not ok 13 bugs.shmem_private_copy.check")
    assert bad != text
    old, new = load("bugs-host"), parse_stream(bad)
    d = diff_runs([old], [new])
    assert d.regressions == [
        "6.18.44-fc-v1272: fix lost: shmem_private_copy: kernel lacks fix 5b51072e97d5 "
        "(\"userfaultfd: shmem: allocate anonymous memory for MAP_PRIVATE shmem\") "
        "(pass -> fail)"]
    assert diff_runs([new], [old]).fixes[0].startswith(
        "6.18.44-fc-v1272: fix gained: shmem_private_copy")
    # an expectation on the newer kernel does not hide a lost fix
    new_x = parse_stream(bad)
    expect.apply(new_x, [expect.Expectation(id="bugs.shmem_private_copy.check",
                                            reason="known")])
    assert "(pass -> xfail)" in diff_runs([old], [new_x]).regressions[0]


def test_diff_against_a_clean_run_lists_only_the_real_problems(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    publish([load("trixie")], tmp_path / "clean")
    publish([load("trixie-triage")], tmp_path / "new")
    capsys.readouterr()
    assert report_main(["diff", str(tmp_path / "clean"), str(tmp_path / "new")]) == 1
    out = capsys.readouterr().out
    assert out.startswith("Regressions (4):\n")
    for pid in ("copy.shmem.partial_src_hole: pass -> fail",
                "move.anon.pmd: pass -> fail",
                "wp.hugetlb.fork_pinned_with_event: pass -> fail",
                "new case wp.kernel_log: fail: WARNING: CPU: 0 PID: 1207"):
        assert pid in out


def test_finding_groups_collapse_names() -> None:
    mems = ["anon", "shmem"]
    found = {f"UFFDIO_{op} on {m} while a {ev} event is unread: EAGAIN, output field -11":
             [[f"eagain.{m}.x"]] for op in ("COPY", "ZEROPAGE") for m in mems
             for ev in ("FORK", "REMAP")}
    found["second UFFDIO_API zeroes the struct"] = [["api.dev.x"]]
    groups = finding_groups(found, mems)
    assert [len(g.texts) for g in groups] == [8, 1]
    assert groups[0].seen == [8] and len(groups[0].points[0]) == 8
    m = build_matrix([load("host")])
    assert [g.text for g in m.finding_groups] == [".copy = -EEXIST as documented"]


def test_junit_names_are_stable_across_kernel_versions() -> None:
    a, b = load("trixie"), load("trixie-triage")
    b.kernel["release"] = "6.12.130+deb13-cloud-amd64"
    host = load("host")
    assert stable_id(a) == stable_id(b) == "debian_trixie_cloud-amd64_x86_64"
    assert stable_id(host) == "host_x86_64"
    # another architecture in the matrix changes neither name
    arm = load("trixie")
    arm.kernel["machine"], arm.info["flavour"] = "aarch64", "cloud-arm64"
    root = ET.fromstring(render_junit([a, arm, host]))
    assert {tc.get("classname").split(".")[0] for tc in root.iter("testcase")} == {
        "debian_trixie_cloud-amd64_x86_64", "debian_trixie_cloud-arm64_aarch64",
        "host_x86_64"}
    # the same target twice in one report
    root = ET.fromstring(render_junit([a, b]))
    assert {s.get("name").split("/")[0] for s in root.iter("testsuite")} == {
        "debian_trixie_cloud-amd64_x86_64", "debian_trixie_cloud-amd64_x86_64_2"}
    # two reports of two releases of one target: the same names
    before, after = ({(tc.get("classname"), tc.get("name"))
                      for tc in ET.fromstring(render_junit([r])).iter("testcase")}
                     for r in (a, b))
    assert before < after and after - before == {
        ("debian_trixie_cloud-amd64_x86_64.wp", "wp.kernel_log")}
    root = ET.fromstring(render_junit([a, host]))
    names = {(tc.get("classname"), tc.get("name")) for tc in root.iter("testcase")}
    assert ("host_x86_64.errno", "errno.anon.unregister_foreign") in names
    suite = next(s for s in root.iter("testsuite") if s.get("name") == "host_x86_64/errno")
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["kernel.release"] == "6.18.44-amd64"
    # no invented times: a point is timed only when the stream stamps it
    assert all(tc.get("time") is None for tc in root.iter("testcase"))


def test_junit_point_time_from_the_runner_stamps() -> None:
    text = ("@@faultline stream 1\n@@faultline run {\"release\":\"6.18.0\",\"machine\":\"x86_64\"}\n"
            "@@faultline binary-begin {\"name\":\"wp\",\"time_us\":5000000}\n1..1\n"
            "#  RUN           wp.anon.a ...\n"
            "@@faultline at {\"time_us\":6250000}\nok 1 wp.anon.a\n"
            "@@faultline binary-end {\"name\":\"wp\",\"exit\":0,\"duration_ms\":1300}\n"
            "@@faultline run-end {\"status\":\"complete\"}\n")
    run = parse_stream(text)
    assert run.points[0].duration_ms == 1250
    tc = next(ET.fromstring(render_junit([run])).iter("testcase"))
    assert tc.get("time") == "1.250" and tc.get("classname") == "host_x86_64.wp"
    validate(build_document([run]))


def test_markdown_order_status_problems_heat_map_details() -> None:
    runs = [load("trixie-triage"), load("bookworm")]
    md = render_markdown(build_document(runs), runs)
    heads = [md.index(h) for h in ("Status: **fail**", "## Problems (4)", "## Heat map",
                                   "### Deployment profiles", "## Details",
                                   "### UFFDIO_API features", "### Cases")]
    assert heads == sorted(heads)
    assert "  - reproduce: `./run.py --kernel debian:trixie --only move.anon.pmd`" in md
    assert "| wp | ✅✅✅❌✅ + ❌ |" in md
    doc = json.loads(json.dumps(build_document(runs)))
    validate(doc)


def test_diff_with_an_only_run_compares_the_chosen_points() -> None:
    """A run restricted with --only: the points it did not choose are one
    note, not 800 "case gone" regressions; a chosen point that went away
    or broke still is one."""
    full, part = load("trixie"), load("trixie")
    part.header = dict(part.header, selection=["copy.*"])
    part.binaries = [b for b in part.binaries if b.name == "copy"]
    kept = part.points
    assert 0 < len(kept) < len(full.points)
    part.binaries[0].points = kept[1:]
    d = diff_runs([full], [part])
    assert d.regressions == [f"{part.label}: case gone: {kept[0].id} (was pass)"]
    assert d.notes == [f"{part.label}: {len(full.points) - len(kept)} points not "
                       "compared: ran on one side only, not chosen on the other "
                       "(new --only copy.*)"]
    back = diff_runs([part], [full])
    assert back.new == [f"{part.label}: new case {kept[0].id}: pass"]
    assert not back.regressions and len(back.notes) == 1
