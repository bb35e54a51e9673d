# SPDX-License-Identifier: GPL-2.0
"""Renderers (golden files), schema, expectations, merge and diff."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from reports_util import DATA, check_golden, validate

from reports import expectations as expect
from reports.cli import report_main
from reports.diff import diff_runs
from reports.document import build_document, build_matrix, load_runs
from reports.model import Run
from reports.pipeline import publish
from reports.render_html import render_html
from reports.render_json import render_json
from reports.render_junit import render_junit
from reports.render_markdown import render_markdown
from reports.stream import read_stream_file

EXPECT = expect.load(DATA / "expectations.yaml")


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1796157600")


def runs_of(*names: str) -> list[Run]:
    runs = [read_stream_file(DATA / f"{n}.stream") for n in names]
    for r in runs:
        expect.apply(r, EXPECT)
    return runs


SETS = {"single": ("host",), "matrix": ("host", "bookworm", "truncated"),
        "recorded": ("recorded-host",),   # real runner output on this host
        "splat": ("splat",), "garbage": ("garbage",)}


@pytest.mark.parametrize("name", sorted(SETS))
def test_golden_renderers(name: str) -> None:
    runs = runs_of(*SETS[name])
    doc = build_document(runs)
    validate(doc)
    check_golden(f"{name}/report.json", render_json(doc))
    check_golden(f"{name}/report.md", render_markdown(doc, runs))
    check_golden(f"{name}/report.html", render_html(doc, runs))
    check_golden(f"{name}/junit.xml", render_junit(runs))


@pytest.mark.parametrize("name", sorted(SETS))
def test_junit_counts_agree_with_model(name: str) -> None:
    runs = runs_of(*SETS[name])
    root = ET.fromstring(render_junit(runs))
    cases = root.findall(".//testcase")
    points = [p for r in runs for p in r.points]
    # a run whose stream is not complete is one error testcase more
    cut = [r for r in runs if r.stream_state != "complete"]
    streams = [tc for tc in cases if tc.get("name") == "stream"]
    assert len(streams) == len(cut)
    assert all(tc.find("error") is not None for tc in streams)
    assert len(cases) == len(points) + len(cut) == int(root.get("tests"))
    bad = sum(p.status in ("fail", "timeout") for p in points)
    assert int(root.get("failures")) == bad == len(root.findall(".//failure"))
    assert int(root.get("errors")) == sum(p.status in ("error", "notrun")
                                          for p in points) + len(cut)
    assert int(root.get("skipped")) == sum(p.status in ("skip", "xfail")
                                           for p in points)


def test_html_is_self_contained_and_filterable() -> None:
    runs = runs_of("host", "bookworm", "truncated")
    html = render_html(build_document(runs), runs)
    for bad in ("<link", "src=\"http", "src='http", "@import", "url("):
        assert bad not in html
    assert 'id="q"' in html and "all('tr.case')" in html
    assert '<meta name="viewport"' in html
    assert html.count('<tr class="case"') == 12   # 10 + errno.#3, #4 cut
    assert 'title="fail: errno.c:88:unregister_foreign' in html
    assert "Kernel panic - not syncing" in html


def test_expectations_turn_fail_into_xfail_and_pass_into_xpass() -> None:
    host, bookworm = runs_of("host", "bookworm")
    st = {p.id: p for p in bookworm.points}
    assert st["errno.anon.unregister_foreign"].status == "xfail"
    assert st["errno.anon.unregister_foreign"].expectation["link"].startswith("https://")
    assert st["copy.hugetlb.eexist"].status == "xpass"     # 6.1 + debian:* only
    hp = {p.id: p for p in host.points}
    assert hp["errno.anon.unregister_foreign"].status == "fail"   # 6.18: not <6.17
    assert hp["copy.hugetlb.eexist"].status == "skip"
    assert not bookworm.failed()    # xfail and xpass keep CI green


@pytest.mark.parametrize("rng,rel,ok", [
    ("<6.17", "6.1.0-28-cloud-amd64", True), ("<6.17", "6.17.0", False),
    (">=5.11, <6.2", "5.10.0-33", False), (">=5.11, <6.2", "6.1.119", True),
    ("==6.12", "6.12.0-rc1", True), (None, "anything", True)])
def test_kernel_ranges(rng: str | None, rel: str, ok: bool) -> None:
    assert expect.in_range(rel, rng) is ok


def test_bad_expectations_file(tmp_path: Path) -> None:
    bad = tmp_path / "x.yaml"
    bad.write_text("expectations:\n  - id: a.b\n")
    with pytest.raises(expect.ExpectationError, match="needs 'id' and 'reason'"):
        expect.load(bad)
    for rng in ("soon", ">=6.1 <6.2", "6.x", ">>6"):
        bad.write_text(f"expectations:\n  - {{id: a, reason: r, kernel: '{rng}'}}\n")
        with pytest.raises(expect.ExpectationError, match="bad kernel range"):
            expect.load(bad)


def test_matrix_feature_first_seen() -> None:
    m = build_matrix(runs_of("host", "bookworm", "garbage"))
    assert m.has_feature["MOVE"] == [True, False, None]
    assert m.first_seen["MOVE"] == "6.18.44-amd64"
    assert m.first_seen["EXACT_ADDRESS"] == "6.1.0-28-cloud-amd64"
    assert list(m.areas) == ["copy", "errno"]


def test_merge_and_diff_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    new = tmp_path / "new"
    old = tmp_path / "old"
    publish(runs_of("host"), new)
    publish(runs_of("bookworm"), old)
    merged = tmp_path / "merged"
    rc = report_main(["merge", str(old / "report.json"), str(new / "report.json"),
                      "-o", str(merged)])
    assert rc == 1      # the host run has a failure and a timeout
    doc = json.loads((merged / "report.json").read_text())
    validate(doc)
    assert [r["target"] for r in doc["runs"]] == ["debian:bookworm", "host"]
    md = (merged / "report.md").read_text()
    assert "| feature | 6.1 | 6.18 | first seen |" in md
    assert "6.1 = 6.1.0-28-cloud-amd64 (debian:bookworm); 6.18 = 6.18.44-amd64." in md
    capsys.readouterr()
    assert report_main(["diff", str(old / "report.json"), str(new / "report.json")]) == 1
    out = capsys.readouterr().out
    assert "errno.anon.register_busy: pass -> timeout" in out
    assert "new feature: MOVE" in out and "new ioctl: anon:MOVE" in out
    assert report_main(["diff", str(new / "report.json"), str(old / "report.json")]) == 1
    out = capsys.readouterr().out
    assert "feature lost: MOVE" in out and "register mode lost" not in out
    assert "copy.hugetlb.eexist: skip" not in out
    assert report_main(["diff", str(new / "report.json"), str(new / "report.json")]) == 0


def test_diff_register_mode_and_ioctl_lost() -> None:
    old = runs_of("host")
    new = runs_of("host")
    new[0].probe["register"] = [r for r in new[0].probe["register"]
                                if r["mode"] != "MINOR"]
    new[0].probe["api"]["ioctl_names"] = ["REGISTER", "API"]
    d = diff_runs(old, new)
    assert any("register mode lost: shmem:MINOR" in r for r in d.regressions)
    assert any("ioctl lost: UNREGISTER" in r for r in d.regressions)


def test_report_cli_usage_errors(tmp_path: Path) -> None:
    assert report_main(["frobnicate"]) == 2
    (tmp_path / "x.json").write_text("{\"schema_version\": 99, \"runs\": []}")
    assert report_main(["diff", str(tmp_path / "x.json"), str(tmp_path / "x.json")]) == 2
    assert report_main(["merge", str(tmp_path / "nope.json")]) == 2


def test_report_json_round_trips(tmp_path: Path) -> None:
    runs = runs_of("host", "splat", "truncated")
    publish(runs, tmp_path)
    again = load_runs(tmp_path / "report.json")
    assert [r.to_dict() for r in again] == [r.to_dict() for r in runs]


def test_findings_are_collected_per_kernel() -> None:
    host, bookworm = runs_of("host", "bookworm")
    assert host.findings() == [{"text": ".copy = -EEXIST as documented",
                                "points": ["copy.shmem.eexist"]}]
    assert bookworm.findings() == []
    m = build_matrix([host, bookworm])
    assert m.findings == {".copy = -EEXIST as documented": [["copy.shmem.eexist"], []]}
    md = render_markdown(build_document([host, bookworm]), [host, bookworm])
    assert "| .copy = -EEXIST as documented | 1 |  |" in md


def test_diff_range_ioctl_lost() -> None:
    host, bookworm = runs_of("host"), runs_of("bookworm")
    d = diff_runs(host, bookworm)
    assert any(r.endswith("ioctl lost: anon:MOVE") for r in d.regressions)
    assert any(r.endswith("ioctl lost: shmem:POISON") for r in d.regressions)
    assert any(n.endswith("new ioctl: anon:MOVE") for n in diff_runs(bookworm, host).new)


def test_renderers_cope_with_a_run_without_points() -> None:
    (run,) = runs_of("host")
    run.binaries = []
    doc = build_document([run])
    validate(doc)
    assert doc["exit_code"] == 0
    assert "<table id=\"casetable\">" in render_html(doc, [run])
    assert "### Cases" in render_markdown(doc, [run])
    assert ET.fromstring(render_junit([run])).get("tests") == "0"


def test_html_tags_balance() -> None:
    from html.parser import HTMLParser

    class Balance(HTMLParser):
        VOID = {"meta", "input", "br", "link", "img"}

        def __init__(self) -> None:
            super().__init__()
            self.stack: list[str] = []

        def handle_starttag(self, tag: str, attrs: list) -> None:
            if tag not in self.VOID:
                self.stack.append(tag)

        def handle_endtag(self, tag: str) -> None:
            assert self.stack and self.stack[-1] == tag, (tag, self.stack[-5:])
            self.stack.pop()

    for name in SETS:
        runs = runs_of(*SETS[name])
        b = Balance()
        b.feed(render_html(build_document(runs), runs))
        assert b.stack == [], name


def test_same_kernel_twice_gets_distinct_columns(tmp_path: Path) -> None:
    a, b, c = runs_of("host", "host", "bookworm")
    b.started = "2026-12-02T08:00:00Z"
    build_document([a, b, c])
    assert [r.label for r in (a, b, c)] == [
        "6.18.44-amd64 [2026-12-01T20:40:00Z]", "6.18.44-amd64 [2026-12-02T08:00:00Z]",
        "6.1.0-28-cloud-amd64 (debian:bookworm)"]
    b.started = a.started
    doc = build_document([a, b])
    assert [r.label for r in (a, b)] == ["6.18.44-amd64 [1]", "6.18.44-amd64 [2]"]
    assert "column" not in doc["runs"][0]


def test_diff_lost_coverage_is_a_regression(tmp_path: Path) -> None:
    old, new = runs_of("host"), runs_of("host")
    gone = next(p for b in new[0].binaries for p in b.points if p.status == "pass")
    for b in new[0].binaries:
        b.points = [p for p in b.points if p.id != gone.id]
    d = diff_runs(old, new)
    assert f"case gone: {gone.id} (was pass)" in "\n".join(d.regressions)
    # A kernel column that disappears from a matrix is lost coverage too.
    d = diff_runs(runs_of("host", "bookworm"), runs_of("host"))
    assert any("kernel missing from the new report" in r for r in d.regressions)
    # A results directory stands for its report.json.
    publish(runs_of("host"), tmp_path / "a")
    assert report_main(["diff", str(tmp_path / "a"), str(tmp_path / "a")]) == 0


def test_expectations_that_match_no_point_are_reported(tmp_path: Path) -> None:
    f = tmp_path / "e.yaml"
    f.write_text("expectations:\n"
                 "  - {id: 'copy.*', reason: real}\n"
                 "  - {id: 'nosuch.*.thing', reason: typo}\n")
    unused = expect.unused(runs_of("host"), expect.load(f))
    assert [e.id for e in unused] == ["nosuch.*.thing"]


def test_mem_is_only_ever_a_memory_type() -> None:
    """`variant` is the id's middle part; `mem` repeats it only when a probe
    document of the report names it as a memory type."""
    runs = runs_of("recorded-host", "garbage")
    doc = build_document(runs)
    pts = {p["id"]: p for b in doc["runs"][0]["binaries"] for p in b["points"]}
    api = next(p for i, p in pts.items() if i.startswith("api.dev."))
    assert (api["variant"], api["mem"]) == ("dev", None)
    copy = next(p for i, p in pts.items() if i.startswith("copy.hugetlb_private."))
    assert (copy["variant"], copy["mem"]) == ("hugetlb_private", "hugetlb_private")
    # a run without a probe result borrows the names of the report's others
    (alone,) = runs_of("truncated")
    alone.probe = None
    solo = build_document([alone])["runs"][0]
    mixed = build_document([runs[0], alone])["runs"][1]
    first = solo["binaries"][0]["points"][0]
    assert first["variant"] == "anon" and first["mem"] is None
    assert mixed["binaries"][0]["points"][0]["mem"] == "anon"
