# SPDX-License-Identifier: GPL-2.0
"""Issue 11's stream and file faults (#8, #9), reproduced as found: cut
and damaged streams, floods, report files of the wrong shape, options the
runner would refuse, a new cache. Each: the message, the exit code, every
result that was collected, in every format."""
from __future__ import annotations

import json
import os
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from reports_util import DATA, ROOT
from test_faults import RUN, build_with, points, report, run_py

from reports.payload import KEEP_BYTES
from reports.pipeline import publish
from reports.stream import parse_stream

HEAD = (DATA / "host.stream").read_text().split("\n")
# The copy binary, its first two points and the third's RUN marker.
UP_TO_THIRD = "\n".join(HEAD[:16]) + "\n"
RUN_FRAME = ('@@faultline run {"release":"6.18.0","machine":"x86_64",'
             '"binary_names":["copy"]}\n')
END_COPY = ('@@faultline binary-end {"name":"copy","exit":0,"signal":null,'
            '"timed_out":false,"duration_ms":5,"kmsg_alert":false}\n')
RUN_END = '@@faultline run-end {"duration_ms":9,"status":"complete"}\n'


def stream(*body: str, run_end: bool = True) -> str:
    return ("@@faultline stream 1\n" + RUN_FRAME +
            '@@faultline binary-begin {"name":"copy"}\n' + "".join(body) +
            (RUN_END if run_end else ""))


def saved_by_run_py(tmp: Path, text: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    """run.py over a stand-in runner printing @text exactly (no newline
    added); the output directory."""
    raw = tmp / "raw"
    raw.write_text(text)
    build = build_with(tmp, f"cat {raw}")
    out = tmp / "out"
    return run_py("--no-build", "--build-dir", str(build), "-o", str(out)), out


def rendered_again(tmp: Path, out: Path) -> dict:
    again = tmp / "again"
    subprocess.run([*RUN, "report", "render", str(out / "host.stream"), "-o",
                    str(again)], capture_output=True, timeout=60)
    return json.loads((again / "report.json").read_text())


# ---- 8: only complete lines count ------------------------------------------

def test_cut_inside_a_result_line_invents_no_point(tmp_path: Path) -> None:
    """Before: `ok 3 copy.shmem.fault_rou` became a passing point with a
    truncated name and the real one was lost. Now the running point (its
    RUN marker) is an error; live and re-rendered alike."""
    res, out = saved_by_run_py(tmp_path, UP_TO_THIRD + "ok 3 copy.shmem.fault_rou")
    assert res.returncode == 1, res.stderr
    doc = report(out)
    st = points(doc)
    assert st["copy.shmem.fault_round_trip"] == "error"
    assert not any(p.startswith("copy.shmem.fault_rou") and
                   p != "copy.shmem.fault_round_trip" for p in st)
    assert st["copy.anon.eexist"] == "pass"
    assert rendered_again(tmp_path, out)["runs"] == doc["runs"]


def test_cut_inside_the_run_end_frame_is_not_complete(tmp_path: Path) -> None:
    """Before: reported complete, exit 0."""
    text = stream("1..1\nok 1 copy.anon.a\n", END_COPY, run_end=False)
    res, out = saved_by_run_py(tmp_path, text + '@@faultline run-end {"duration_ms":1')
    assert res.returncode == 1, res.stdout
    doc = report(out)
    assert doc["runs"][0]["stream_state"] == "truncated"
    assert rendered_again(tmp_path, out)["runs"] == doc["runs"]


def test_missing_binary_end_is_an_error_point() -> None:
    """Before: the binary counted as fully passed, exit 0."""
    run = parse_stream(stream("1..2\nok 1 copy.anon.a\nok 2 copy.anon.b\n"))
    st = {p.id: p.status for p in run.points}
    assert st["copy.end"] == "error" and run.failed()


def test_cut_run_is_an_error_in_junit(tmp_path: Path) -> None:
    """Before: every point passed, so junit.xml said 0 failures, 0 errors."""
    run = parse_stream(stream("1..1\nok 1 copy.anon.a\n", END_COPY, run_end=False))
    assert run.stream_state == "truncated"
    publish([run], tmp_path)
    root = ET.parse(tmp_path / "junit.xml").getroot()
    assert root.get("errors") == "1"
    (case,) = [tc for tc in root.iter("testcase") if tc.get("name") == "stream"]
    assert "run-end" in case.find("error").get("message")


def test_lines_that_merely_begin_with_ok_are_text() -> None:
    """Before: 'ok computer' was a passing point."""
    run = parse_stream(stream("1..1\nok computer\nokay\nok 1 copy.anon.a\n", END_COPY))
    assert [p.id for p in run.points] == ["copy.anon.a"]
    assert "ok computer" in run.points[0].diagnostics     # kept as text


def test_flood_of_output_is_capped_with_a_note(tmp_path: Path) -> None:
    """Before: 100 MB of a binary's output made ~1 GB of reports. Now what
    is kept of a binary is bounded (KEEP_BYTES, plus the lines that make
    points), the results after the flood still count, and a note says how
    much was left out. 4 MiB stand in for the 100 MB."""
    flood = ("# " + "x" * 98 + "\n") * 40000
    text = stream("1..2\nok 1 copy.anon.a\n", flood, "not ok 2 copy.anon.b\n",
                  END_COPY)
    run = parse_stream(text)
    assert {p.id: p.status for p in run.points} == {"copy.anon.a": "pass",
                                                    "copy.anon.b": "fail"}
    b = run.binaries[0]
    assert b.dropped > len(flood) - KEEP_BYTES - 4096
    assert any("left out" in n for n in run.notes())
    publish([run], tmp_path)
    for name in ("report.json", "report.html", "junit.xml", "report.md"):
        assert (tmp_path / name).stat().st_size < 2 * KEEP_BYTES, name


def test_probe_document_on_one_long_line_is_kept_whole() -> None:
    """The probe's JSON is one line of 17 KiB here: the cap on a binary's
    lines must not cut it (the run would lose its probe result)."""
    doc = '{"schema_version":1,"pad":"' + "p" * 40000 + '"}'
    run = parse_stream("@@faultline stream 1\n" + RUN_FRAME + "@@faultline probe-begin\n"
                       + doc + '\n@@faultline probe-end {"exit":0}\n' + RUN_END)
    assert run.probe is not None and len(run.probe["pad"]) == 40000


# ---- 9 ---------------------------------------------------------------------

def test_timeout_the_runner_would_refuse_fails_at_once(tmp_path: Path) -> None:
    """Before: accepted, then the runner refused it after the build."""
    build = build_with(tmp_path, f"touch {tmp_path}/ran")
    res = run_py("--no-build", "--build-dir", str(build), "-o", str(tmp_path / "o"),
                 "--timeout", "700000")
    assert res.returncode == 2
    assert "--timeout 700000: the runner takes 1 to 604800 seconds" in res.stderr
    assert not (tmp_path / "ran").exists() and not (tmp_path / "o").exists()


@pytest.mark.parametrize("runs,said", [
    ('[{"binaries":[{"points":[{"status":"pass"}]}]}]', "missing 'name'"),
    ('[{"binaries":5}]', "runs[0] is not a faultline run"),
    ('[{"target":3,"binaries":[]}]', "target 3 is not text"),
    ('[{"binaries":[{"name":"b","points":[{"id":"x","status":7}]}]}]',
     "status 7 is not one of")])
def test_report_json_of_the_wrong_shape_is_named(tmp_path: Path, runs: str,
                                                 said: str) -> None:
    """Before: KeyError/TypeError tracebacks."""
    bad = tmp_path / "r.json"
    bad.write_text(f'{{"schema_version":1,"runs":{runs}}}')
    for cmd in (["diff", str(bad), str(bad)], ["merge", str(bad), "-o",
                                                 str(tmp_path / "m")]):
        res = subprocess.run([*RUN, "report", *cmd], capture_output=True,
                             text=True, timeout=60)
        assert res.returncode == 2 and f"{bad}: " in res.stderr, res.stderr
        assert said in res.stderr and "Traceback" not in res.stderr


@pytest.mark.parametrize("meta", ["not json", "[1]", '{"info": 5}'])
def test_meta_json_of_the_wrong_shape_is_named(tmp_path: Path, meta: str) -> None:
    saved = tmp_path / "x.stream"
    saved.write_text(stream("1..1\nok 1 copy.anon.a\n", END_COPY))
    (tmp_path / "x.meta.json").write_text(meta)
    res = subprocess.run([*RUN, "report", "render", str(saved), "-o",
                          str(tmp_path / "o")], capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 2 and f"{tmp_path / 'x.meta.json'}: " in res.stderr
    assert "Traceback" not in res.stderr


def test_binary_begin_cut_mid_json_keeps_its_name() -> None:
    """Before: the binary was named '?'."""
    two = RUN_FRAME.replace('["copy"]', '["copy","errno"]')
    text = ("@@faultline stream 1\n" + two + '@@faultline binary-begin {"name":"co\n'
            "1..1\nok 1 copy.anon.a\n")
    run = parse_stream(text)
    assert [b.name for b in run.binaries] == ["copy", "errno"]
    assert "while copy was running" in (run.cause or "")


def test_headers_found_in_the_build_copy_before_any_download(tmp_path: Path) -> None:
    """Before: a new XDG_CACHE_HOME or HOME meant downloading linux-source
    again (offline: exit 2). A package that does not exist proves that
    nothing is downloaded."""
    copy = tmp_path / "build" / "ksft"
    copy.mkdir(parents=True)
    for h in ("kselftest.h", "kselftest_harness.h"):
        (copy / h).write_text(f"/* {h} */\n")
    dest = tmp_path / "newcache" / "faultline" / "ksft"
    res = subprocess.run([str(ROOT / "scripts/fetch-ksft.sh"), str(dest), str(copy)],
                         capture_output=True, text=True, timeout=60,
                         env={**os.environ, "KSFT_PACKAGE": "linux-source-0.0-none",
                              "KSFT_NEED": "headers",    # as make asks for the build
                              "XDG_CACHE_HOME": str(tmp_path / "newcache"),
                              "HOME": str(tmp_path / "home")})
    assert res.returncode == 0, res.stderr
    assert f"headers copied from {copy}" in res.stderr
    assert (dest / "kselftest_harness.h").read_text() == "/* kselftest_harness.h */\n"
