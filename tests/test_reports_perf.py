# SPDX-License-Identifier: GPL-2.0
"""The benchmark in reports: the stream's bench section -> the run's bench
(report.json, schema), the Fault-path performance section in Markdown and
HTML (never in JUnit), report diff's performance changes; and nothing about
the benchmark changes a verdict or the exit code."""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from reports_util import DATA, ROOT, validate
from reports.diff import diff_runs
from reports.document import build_document
from reports.model import Run
from reports.perf import perf_view, state
from reports.perf_diff import changed
from reports.render_html import render_html
from reports.render_junit import render_junit
from reports.render_markdown import render_markdown
from reports.stream import parse_stream, target_frame

HOST_DOC = json.loads((DATA / "bench-host.json").read_text())
COARSE_DOC = json.loads((DATA / "bench-coarse.json").read_text())
TCG = {"accel": "tcg", "package": "linux-image-6.12"}


def stream(doc: Any = HOST_DOC, *, end: dict[str, Any] | None = None,
           begin: bool = True, run_end: bool = True, kmsg: str | None = None,
           payload: list[str] | None = None, info: dict | None = None,
           target: str = "host") -> str:
    """A whole saved stream: one passing binary, then the benchmark."""
    run = {"release": "6.18.44", "machine": "x86_64", "binaries": 1,
           "binary_names": ["copy"], "jobs": 1, "bench": "/b/uffd-bench"}
    lines = ["@@faultline stream 1", "@@faultline run " + json.dumps(run),
             '@@faultline binary-begin {"name":"copy"}', "TAP version 13", "1..1",
             "ok 1 copy.anon.eexist",
             '@@faultline binary-end {"name":"copy","exit":0,"signal":null,'
             '"timed_out":false,"duration_ms":5,"kmsg_alert":false}']
    if begin:
        lines.append('@@faultline bench-begin {"path":"/b/uffd-bench","args":'
                     '["--quick","--json","--budget","2"],"timeout_s":60}')
        if kmsg:
            lines.append("@@faultline kmsg " + json.dumps(
                {"line": kmsg, "alert": True, "level": 4, "facility": 0}))
        lines += payload if payload is not None else [json.dumps(doc)]
        if end is not False:
            e = {"exit": 0, "signal": None, "timed_out": False, "duration_ms": 900,
                 "path": "/b/uffd-bench", "kmsg_alert": bool(kmsg)}
            lines.append("@@faultline bench-end " + json.dumps({**e, **(end or {})}))
    if run_end:
        lines.append('@@faultline run-end {"duration_ms":1000,"binaries":1,'
                     '"status":"complete","failed_to_start":0,"timed_out":0}')
    lines.append(target_frame(target, None, info or {}, ["copy"]))
    return "\n".join(lines) + "\n"


def one(text: str) -> tuple[Run, dict[str, Any]]:
    run = parse_stream(text)
    doc = build_document([run])
    validate(doc)
    return run, doc


def test_bench_section_becomes_the_runs_bench() -> None:
    run, doc = one(stream())
    assert run.bench["document"] == HOST_DOC
    assert run.bench["exit"] == 0 and run.bench["complete"] is True
    assert run.bench["args"] == ["--quick", "--json", "--budget", "2"]
    perf = doc["runs"][0]["performance"]
    assert perf == {"state": "measured", "text": "61 measured, 14 not measured, 0 failed",
                    "relative_only": False, "relative_why": None}
    assert doc["exit_code"] == 0 and [p.status for p in run.points] == ["pass"]
    # report.json round-trips it (merge, diff read report files)
    back = Run.from_dict(json.loads(json.dumps(doc["runs"][0])))
    assert back.bench == run.bench


def test_no_bench_leaves_report_json_as_it_was() -> None:
    text = stream().replace(', "bench": "/b/uffd-bench"', "")
    text = "\n".join(ln for ln in text.splitlines()
                     if not ln.startswith(("@@faultline bench", "{"))) + "\n"
    run, doc = one(text)
    assert run.bench is None
    assert "bench" not in doc["runs"][0] and "performance" not in doc["runs"][0]


def test_console_noise_and_split_lines_in_the_payload() -> None:
    text = json.dumps(HOST_DOC)
    payload = ["", "[   12.345678] random: crng init done", text[:5000], "",
               text[5000:]]
    run, _ = one(stream(payload=payload))
    assert run.bench["document"] == HOST_DOC


@pytest.mark.parametrize("end, word", [
    ({"exit": None, "signal": 9, "timed_out": True}, "timed_out"),
    ({"exit": None, "signal": 11}, "crashed"),
    ({"exit": 1}, "failed"),
    ({"exit": 2}, "error"),
    ({"exit": None, "error": "cannot execute: No such file or directory"}, "error"),
])
def test_a_bad_benchmark_changes_no_verdict(end: dict[str, Any], word: str) -> None:
    run, doc = one(stream(end=end))
    assert state(run.bench)[0] == word
    assert doc["exit_code"] == 0 and doc["status"] == "pass"
    assert run.notes() == parse_stream(stream()).notes() and not run.failed()
    assert "timed out" in render_markdown(doc, [run]) or word != "timed_out"


def test_no_json_is_an_error_with_stderr() -> None:
    run, doc = one(stream(payload=["Segmentation fault"],
                          end={"exit": 2, "stderr": "uffd-bench: no userfaultfd\n"}))
    assert run.bench["document"] is None
    assert state(run.bench) == ("error", "exit 2, no JSON: uffd-bench: no userfaultfd")
    assert doc["exit_code"] == 0


def test_cut_inside_the_benchmark() -> None:
    run, doc = one(stream(end=False, run_end=False))
    assert state(run.bench)[0] == "cut"
    assert run.bench["document"] == HOST_DOC     # what arrived is kept
    assert run.stream_state == "truncated"       # the run's own verdict, as ever


def test_announced_but_never_begun() -> None:
    text = stream(begin=False).replace('"status":"complete"', '"status":"interrupted"')
    run, doc = one(text)
    assert run.bench["not_run"] is True and state(run.bench)[0] == "not_run"
    assert doc["runs"][0]["performance"]["state"] == "not_run"


def test_kernel_alert_during_the_benchmark_is_a_note_not_a_failure() -> None:
    run, doc = one(stream(kmsg="WARNING: CPU: 0 PID: 1 at mm/userfaultfd.c:1"))
    assert run.bench["kmsg_alerts"] == ["WARNING: CPU: 0 PID: 1 at mm/userfaultfd.c:1"]
    assert doc["exit_code"] == 0 and [p.id for p in run.points] == ["copy.anon.eexist"]
    assert "kernel log alert while the benchmark ran" in render_markdown(doc, [run])


def test_section_in_markdown_and_html_not_in_junit() -> None:
    host, _ = one(stream())
    vm, _ = one(stream(COARSE_DOC, info=TCG, target="debian:trixie"))
    vm.kernel["release"] = "6.12.118"
    doc = build_document([host, vm])
    validate(doc)
    md, html = render_markdown(doc, [host, vm]), render_html(doc, [host, vm])
    # after the triage part, before the details
    assert md.index("## Heat map") < md.index("## Fault-path performance") \
        < md.index("## Details")
    assert html.index('id="overview"') < html.index('id="performance"') \
        < html.index('id="details"')
    # the host's figures, as the fixture has them (anon missing_copy:
    # p50 37015 ns, p90 43104, p99 280587, 17.1049 x touch, spread 0.0509)
    cell = "37.0 µs / 43.1 µs / 281 µs (17.1×, 5%)"
    assert cell in md and cell in html
    assert "| hugetlb (2 MiB) |" in md and "n/a (not_offered)" in md
    assert "361 k/s, 1.48 GB/s (11.7× / 1.2×, 11%)" in md      # anon copy
    # the TCG guest: relative only, and its jiffies clock times nothing
    tcg = md[md.index("### 6.12.118"):md.index("## Details")]
    assert "*relative only*: a TCG guest" in tcg
    assert "nothing was timed (coarse_clock)" in tcg and "| memory type |" not in tcg
    assert html.count('class="badge xfail" title="a TCG guest') == 1
    junit = render_junit([host, vm])
    assert "bench" not in junit and "Fault-path" not in junit
    assert doc["runs"][1]["performance"]["relative_only"] is True


def test_a_failed_measurement_is_shown_with_its_reason() -> None:
    doc = copy.deepcopy(HOST_DOC)
    anon = doc["memory_types"][0]
    copy_op = next(e for e in anon["throughput"] if e["op"] == "copy")
    copy_op.clear()
    copy_op.update(op="copy", status="failed", cause="verify",
                   reason="page 3 holds zeroes, not the source bytes")
    doc["summary"]["failed"] = 1
    run, rdoc = one(stream(doc, end={"exit": 1}))
    md = render_markdown(rdoc, [run])
    assert "Benchmark **some measurements failed**" in md
    assert "FAILED (verify)" in md
    assert "- failed: anon copy (throughput): page 3 holds zeroes" in md
    assert rdoc["exit_code"] == 0


def test_no_section_without_a_benchmark() -> None:
    run, doc = one(stream())
    run.bench = None
    assert perf_view([run]) == []
    assert "Fault-path" not in render_markdown(doc, [run])
    assert 'id="performance"' not in render_html(doc, [run])


# ---- report diff ----

def scaled(doc: dict[str, Any], mem: str, op: str, figure: str,
           factor: float) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    mt = next(m for m in out["memory_types"] if m["mem"] == mem)
    entries = list(mt["floors"].values()) + mt["latency"] + mt["throughput"]
    e = next(x for x in entries if x["op"] == op)
    e[figure] = {k: v * factor for k, v in e[figure].items()}
    return out


def diff(old_doc: Any, new_doc: Any, info: dict | None = None, **kw: Any):
    old = parse_stream(stream(old_doc, info=info))
    new = parse_stream(stream(new_doc, info=info, **kw))
    return diff_runs([old], [new])


def test_diff_same_figures_flags_nothing() -> None:
    d = diff(HOST_DOC, HOST_DOC)
    assert d.performance == [] and d.regressions == []


def test_diff_flags_a_change_beyond_the_spread_never_a_regression() -> None:
    d = diff(HOST_DOC, scaled(HOST_DOC, "anon", "missing_copy", "p50_ns", 2.0))
    assert d.regressions == []
    assert len(d.performance) == 1
    line = d.performance[0]
    assert "anon missing_copy p50: 37.0 µs -> 74.0 µs (+100%, slower" in line
    assert "p90 43.1 µs -> 43.1 µs" in line
    assert "No regressions." in d.text() and "Performance changes (1):" in d.text()


def test_diff_rates_faster_and_floors_say_the_machine_moved() -> None:
    new = scaled(HOST_DOC, "shmem", "touch", "pages_per_s", 3.0)
    new = scaled(new, "shmem", "copy", "pages_per_s", 3.0)
    d = diff(HOST_DOC, new)
    assert any("shmem copy pages/s" in ln and "faster" in ln for ln in d.performance)
    assert "1 floor figure(s) moved too" in d.performance[0]


def test_diff_within_the_spread_is_not_flagged() -> None:
    # anon missing_copy p50 ranges 35432..37316: +3% overlaps
    assert diff(HOST_DOC, scaled(HOST_DOC, "anon", "missing_copy", "p50_ns",
                                 1.03)).performance == []


@pytest.mark.parametrize("old, new, flagged", [
    ({"median": 100, "min": 95, "max": 105}, {"median": 120, "min": 115, "max": 125}, True),
    ({"median": 100, "min": 95, "max": 105}, {"median": 104, "min": 100, "max": 110}, False),
    # disjoint, but the change (5%) is within the new side's spread (30%)
    ({"median": 100, "min": 99, "max": 101}, {"median": 105, "min": 102, "max": 133}, False),
])
def test_changed_rule(old: dict, new: dict, flagged: bool) -> None:
    assert (changed(old, new) is not None) == flagged


def test_diff_one_repeat_has_no_spread_to_judge() -> None:
    old, new = copy.deepcopy(HOST_DOC), scaled(HOST_DOC, "anon", "missing_copy",
                                               "p50_ns", 2.0)
    for doc in (old, new):
        for e in doc["memory_types"][0]["latency"]:
            e["repeats"] = 1
    assert diff(old, new).performance == []


def test_diff_state_and_status_changes_and_relative_tag() -> None:
    d = diff(HOST_DOC, HOST_DOC, end={"exit": None, "signal": 9, "timed_out": True})
    assert d.performance[0].endswith("benchmark measured -> timed_out: killed at the "
                                     "per-binary limit (60 s)")
    new = scaled(HOST_DOC, "anon", "missing_copy", "p50_ns", 2.0)
    d = diff(HOST_DOC, new, info=TCG)
    assert d.performance[0].endswith("[relative only: a TCG guest (emulated CPU)]")
    d = diff(HOST_DOC, COARSE_DOC)
    assert any("anon missing_copy: measured -> not_measured" in ln for ln in d.performance)


def test_report_diff_cli_exit_stays_0(tmp_path: Path, capsys) -> None:
    from reports.cli import report_main
    for name, doc in (("old", HOST_DOC), ("new", scaled(HOST_DOC, "anon", "copy",
                                                        "pages_per_s", 0.5))):
        run = parse_stream(stream(doc))
        (tmp_path / f"{name}.json").write_text(json.dumps(build_document([run])))
    assert report_main(["diff", str(tmp_path / "old.json"),
                        str(tmp_path / "new.json")]) == 0
    out = capsys.readouterr().out
    assert "Performance changes (1):" in out and "anon copy pages/s" in out
    assert "slower" in out and "No regressions." in out


def test_bench_schema_fixture_is_uffd_bench_output() -> None:
    """The fixtures follow uffd-bench's own schema."""
    import jsonschema
    schema = json.loads((ROOT / "bench/uffd-bench/schema.json").read_text())
    for doc in (HOST_DOC, COARSE_DOC):
        jsonschema.validate(doc, schema)
