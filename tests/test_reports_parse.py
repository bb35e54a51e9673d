# SPDX-License-Identifier: GPL-2.0
"""Stream and TAP parsing: statuses, reasons, cut and broken streams."""
from __future__ import annotations

from pathlib import Path

import pytest

from reports_util import DATA

from reports.document import exit_code
from reports.model import Run
from reports.stream import (append_target_frame, parse_stream, read_stream_file,
                            target_frame)
from reports.tapparse import parse_tap


def load(name: str) -> Run:
    return read_stream_file(DATA / f"{name}.stream")


def saved(text: str, target: str = "host", error: str | None = None,
          info: dict | None = None, binaries: list[str] | None = None) -> str:
    """A stream as run.py saves it: the target's bytes, then its frame."""
    return append_target_frame(text, target_frame(target, error, info, binaries))


def statuses(run: Run) -> dict[str, str]:
    return {p.id: p.status for p in run.points}


def test_host_stream_statuses_and_reasons() -> None:
    run = load("host")
    assert run.stream_state == "complete" and run.cause is None
    assert run.release == "6.18.44-amd64" and run.kernel["machine"] == "x86_64"
    st = statuses(run)
    assert st["copy.anon.eexist"] == "pass"
    assert st["copy.hugetlb.eexist"] == "skip"
    assert st["errno.anon.unregister_foreign"] == "fail"
    assert st["errno.anon.register_busy"] == "timeout"
    pts = {p.id: p for p in run.points}
    assert pts["copy.hugetlb.eexist"].reason.startswith("no hugetlb pages")
    assert "Expected ret (0) == -EINVAL" in pts["errno.anon.unregister_foreign"].reason
    # diagnostics go to the point they precede, stderr lines included
    assert pts["errno.shmem.zeropage_eexist"].diagnostics == [
        "# stderr: zeropage: retrying after EAGAIN"]
    assert pts["copy.shmem.eexist"].diagnostics == [
        "# finding: .copy = -EEXIST as documented"]
    assert run.probe["api"]["features"] == 0x1ffff
    assert run.counts()["pass"] == 6 and exit_code([run]) == 1


def test_kselftest_directives() -> None:
    tap = parse_tap(["TAP version 13", "1..5",
                     "ok 1 a.x.one # XFAIL known", "ok 2 a.x.two # XPASS hm",
                     "not ok 3 a.x.three # TODO later", "ok 4 a.x.four # SKIP",
                     "not ok 5 a.x.five #  bad errno",
                     "# ok 1 nested subtest line"], "a")
    st = {p.id: (p.status, p.reason) for p in tap.points}
    assert st == {"a.x.one": ("xfail", "known"), "a.x.two": ("xpass", "hm"),
                  "a.x.three": ("xfail", "later"),
                  "a.x.four": ("skip", "(no reason given)"),
                  "a.x.five": ("fail", "bad errno")}
    assert tap.diagnostics == ["# ok 1 nested subtest line"]


def test_truncated_stream_keeps_points_and_names_the_cause() -> None:
    run = load("truncated")
    assert run.stream_state == "truncated"
    assert "Kernel panic" in run.cause and "errno" in run.cause
    st = statuses(run)
    assert [st[f"copy.{m}.{c}"] for m in ("anon", "shmem", "hugetlb")
            for c in ("fault_round_trip", "eexist")] == ["pass"] * 6
    assert st["errno.anon.api_twice"] == "pass"
    assert st["errno.anon.unregister_foreign"] == "error"
    assert st["errno.#3"] == st["errno.#4"] == "notrun"
    running = next(p for p in run.points if p.id == "errno.anon.unregister_foreign")
    assert any("Oops" in d for d in running.diagnostics)
    assert any("Kernel panic" in ln for ln in run.console)
    assert exit_code([run]) == 1


def test_truncated_stream_lists_binaries_never_started() -> None:
    text = (DATA / "truncated.stream").read_text()
    run = parse_stream(saved(text, binaries=["copy", "errno", "wp"]))
    wp = [p for p in run.points if p.id == "wp"]
    assert len(wp) == 1 and wp[0].status == "notrun"
    assert "Kernel panic" in wp[0].reason


@pytest.mark.parametrize("name,state", [("empty", "empty"), ("garbage", "garbage")])
def test_unusable_streams_exit_2(name: str, state: str) -> None:
    run = load(name)
    assert run.stream_state == state and run.cause
    assert run.points == [] and exit_code([run]) == 2
    if name == "garbage":
        assert "no '@@faultline stream' header" in run.cause
        assert any("VFS: Unable to mount" in ln for ln in run.console)


def test_orchestrator_error_is_kept() -> None:
    run = parse_stream(saved("", "debian:sid", "never reached /init",
                             binaries=["copy"]))
    assert run.stream_state == "error" and run.cause == "never reached /init"
    assert statuses(run) == {"copy": "notrun"} and exit_code([run]) == 2


def test_runner_timeout_in_the_splat_stream() -> None:
    st = statuses(load("splat"))
    # per-binary timeout: running point timeout, the rest not run
    assert st["hang.anon.first"] == "pass"
    assert st["hang.anon.blocks_forever"] == "timeout"
    assert st["hang.#3"] == "notrun"


def test_binary_without_tap_and_crash() -> None:
    text = ("@@faultline stream 1\n@@faultline run {}\n"
            "@@faultline binary-begin {\"name\":\"x\"}\n"
            "# stderr: exec failed: No such file or directory\n"
            "@@faultline binary-end {\"name\":\"x\",\"exit\":127}\n"
            "@@faultline binary-begin {\"name\":\"y\"}\n1..3\nok 1 y.a.b\n"
            "#  RUN           y.a.c ...\n"
            "@@faultline binary-end {\"name\":\"y\",\"exit\":null,\"signal\":11}\n"
            "@@faultline binary-begin {\"name\":\"z\"}\n1..0 # SKIP no uffd\n"
            "@@faultline binary-end {\"name\":\"z\",\"exit\":4}\n"
            "@@faultline run-end {\"status\":\"complete\"}\n")
    run = parse_stream(text)
    st = statuses(run)
    assert st == {"x": "error", "y.a.b": "pass", "y.a.c": "error",
                  "y.#3": "notrun", "z": "skip"}
    x = run.points[0]
    assert x.reason.startswith("no TAP test points") and "code 127" in x.reason
    assert x.diagnostics == ["# stderr: exec failed: No such file or directory"]
    assert "signal 11" in run.points[2].reason


def test_noise_and_crlf_around_frames() -> None:
    text = (DATA / "bookworm.stream").read_text().replace("\n", "\r\n")
    run = parse_stream(saved(text, "debian:bookworm"))
    assert run.stream_state == "complete"
    assert len(run.points) == 10 and run.probe is not None
    assert run.console[0].startswith("[    0.000000] Linux version")


def test_unknown_stream_version_is_reported() -> None:
    run = parse_stream("@@faultline stream 7\n@@faultline run {}\n")
    assert run.stream_state == "truncated" and "version" in run.cause


def test_bad_json_in_frames_does_not_raise(tmp_path: Path) -> None:
    text = ("@@faultline stream 1\n@@faultline run {not json\n"
            "@@faultline probe-begin\n{\"api\": [\n@@faultline probe-end {}\n"
            "@@faultline binary-end {}\n@@faultline run-end [1]\n")
    run = parse_stream(text)
    # A run-end whose JSON is damaged is not trusted: the run is not whole.
    assert run.probe is None and run.stream_state == "truncated"
    assert run.console[-1] == "@@faultline run-end [1]"
    whole = parse_stream(text.replace("run-end [1]", "run-end {}"))
    assert whole.stream_state == "complete"


def test_runner_error_frames() -> None:
    text = ("@@faultline stream 1\n"
            "@@faultline run {\"release\":\"6.1.0\",\"uid\":65534,\"kmsg\":false,"
            "\"kmsg_error\":\"Permission denied\"}\n"
            "@@faultline probe-begin\n"
            "@@faultline probe-end {\"exit\":1,\"stderr\":\"uffd-probe: not found\"}\n"
            "@@faultline binary-begin {\"name\":\"x\"}\n"
            "@@faultline binary-end {\"name\":\"x\",\"exit\":null,\"error\":"
            "\"cannot execute: Permission denied\",\"core_dumped\":true}\n"
            "@@faultline run-end {\"status\":\"complete\"}\n")
    run = parse_stream(text)
    assert run.stream_state == "complete"
    (pt,) = run.points
    assert pt.status == "error" and pt.reason == "cannot execute: Permission denied"
    assert run.binaries[0].error == pt.reason
    assert "# runner: core dumped" in pt.diagnostics
    notes = run.notes()
    assert any("kernel log not monitored (Permission denied)" in n for n in notes)
    assert "ran as uid 65534 (not root)" in notes
    assert any("no probe result (exit 1): uffd-probe: not found" in n for n in notes)
    assert run.header["uid"] == 65534


@pytest.mark.parametrize("status,state", [("error", "error"), ("empty", "error"),
                                          ("interrupted", "truncated")])
def test_run_end_status(status: str, state: str) -> None:
    text = ("@@faultline stream 1\n@@faultline run {\"release\":\"6.1.0\"}\n"
            f"@@faultline run-end {{\"status\":\"{status}\",\"error\":\"no cases dir\"}}\n")
    run = parse_stream(text)
    assert run.stream_state == state and run.cause
    assert exit_code([run]) == (2 if state == "error" else 1)


def test_probe_json_split_into_lines_by_the_runner() -> None:
    doc = (DATA / "probe-6.18.json").read_text().replace("\n", "")
    chunks = [doc[i:i + 500] for i in range(0, len(doc), 500)]
    text = ("@@faultline stream 1\n@@faultline run {}\n@@faultline probe-begin\n"
            + "\n".join(chunks) + "\n@@faultline probe-end {\"exit\":0}\n"
            "@@faultline run-end {\"status\":\"complete\"}\n")
    run = parse_stream(text)
    assert len(chunks) > 3 and run.probe is not None
    assert run.probe["api"]["features_hex"] == "0x1ffff"


def test_recorded_host_stream() -> None:
    """Real runner output: long probe JSON split over lines, 3 binaries."""
    run = load("recorded-host")
    text = (DATA / "recorded-host.stream").read_text()
    results = sum(1 for ln in text.splitlines() if ln.startswith(("ok ", "not ok ")))
    assert run.stream_state == "complete" and len(run.points) == results == 104
    assert run.probe is not None and run.probe["api"]["features_hex"] == "0x1ffff"
    assert [b.name for b in run.binaries] == ["copy", "zeropage", "api"]
    assert all(b.exit == 0 and b.plan == len(b.points) for b in run.binaries)
    assert run.header["kmsg"] is True and run.notes() == []


def test_boot_retries_are_noted() -> None:
    text = (DATA / "bookworm.stream").read_text()
    info = {"attempts": 2, "attempt_log": [
        {"error": "never reached /init within 15 s"}, {"error": None}]}
    run = parse_stream(saved(text, "debian:bookworm", info=info))
    assert run.notes() == ["booted on attempt 2 (earlier: never reached /init "
                           "within 15 s)"]


def test_vm_console_blank_lines_and_interleaved_kmsg() -> None:
    text = ("[    0.9] Run /init as init process\n\n@@faultline stream 1\n\n"
            "@@faultline run {\"release\":\"6.12.0\",\"pid1\":true,\"target\":\"vm\"}\n"
            "\n@@faultline binary-begin {\"name\":\"wake\"}\nTAP version 13\n1..2\n"
            "#  RUN           wake.anon.dontwake ...\n"
            "\n@@faultline kmsg {\"line\":\"uffd: hello\",\"alert\":false,\"level\":6}\n"
            "ok 1 wake.anon.dontwake\n\n"
            "#  RUN           wake.anon.wake ...\n"
            "\n@@faultline binary-end {\"name\":\"wake\",\"exit\":null,\"signal\":15,"
            "\"timed_out\":false,\"interrupted\":15}\n"
            "\n@@faultline run-end {\"status\":\"interrupted\"}\n")
    run = parse_stream(saved(text, "debian:trixie"))
    assert run.target == "debian:trixie" and run.header["pid1"] is True
    assert run.stream_state == "truncated"
    assert statuses(run) == {"wake.anon.dontwake": "pass", "wake.anon.wake": "error"}
    assert run.points[1].reason.startswith("the run was interrupted (signal 15)")
    assert run.binaries[0].kmsg == [{"line": "uffd: hello", "alert": False,
                                     "level": 6, "point": "wake.anon.dontwake"}]
    assert exit_code([run]) == 1


def test_probe_json_with_kernel_messages_between_its_lines() -> None:
    doc = (DATA / "probe-6.18.json").read_text().replace("\n", "")
    half = len(doc) // 2
    text = ("@@faultline stream 1\n@@faultline run {}\n@@faultline probe-begin\n"
            f"{doc[:half]}\n[    2.345678] random: crng init done\n{doc[half:]}\n"
            "@@faultline probe-end {\"exit\":0}\n"
            "@@faultline run-end {\"status\":\"complete\"}\n")
    run = parse_stream(text)
    assert run.probe is not None and run.probe["api"]["features"] == 0x1ffff


@pytest.mark.parametrize("end,status", [
    ("\"timed_out\":true,\"signal\":15", "timeout"),
    ("\"exit\":null,\"signal\":11", "error")])
def test_binary_that_hangs_or_crashes_after_its_last_point(end: str, status: str) -> None:
    text = ("@@faultline stream 1\n@@faultline run {}\n"
            "@@faultline binary-begin {\"name\":\"x\"}\n1..1\nok 1 x.anon.a\n"
            f"@@faultline binary-end {{\"name\":\"x\",{end}}}\n"
            "@@faultline run-end {\"status\":\"complete\"}\n")
    st = statuses(parse_stream(text))
    assert st == {"x.anon.a": "pass", "x.exit": status}


def test_late_stderr_lines_go_back_to_the_point_they_name() -> None:
    """kselftest writes assertion lines on stderr; read as they come they
    can land after the next point's RUN marker (seen on a 5.10 VM)."""
    tap = parse_tap([
        "1..3", "#  RUN           ev.huge.remap ...",
        "# cases/ev.c:345:remap:Expected 1 (1) == held (-110)",
        "#          FAIL  ev.huge.remap", "not ok 1 ev.huge.remap",
        "#  RUN           ev.huge.remap_without_feature ...",
        "# remap: Test terminated by assertion",
        "# cases/ev.c:391:remap_without_feature:Expected 0 (0) == ret (-22)",
        "not ok 2 ev.huge.remap_without_feature",
        "# remap_without_feature: Test terminated by timeout",
        "#  RUN           ev.huge.last ...", "ok 3 ev.huge.last"], "ev")
    p1, p2, p3 = tap.points
    assert p1.reason == "cases/ev.c:345:remap:Expected 1 (1) == held (-110)"
    assert p1.diagnostics[-1] == "# remap: Test terminated by assertion"
    assert p1.status == "fail"
    assert p2.reason == "test terminated by the harness timeout"
    assert p2.status == "timeout"   # its timeout line came after its result
    assert not any("remap:" in d for d in p2.diagnostics)
    assert p3.diagnostics == [] and tap.diagnostics == []


def test_parser_never_raises_on_shuffled_and_cut_streams() -> None:
    """Every prefix, and shuffles of real stream lines, parse to a Run that
    renders and validates (seeded, so a failure is reproducible)."""
    import random

    from reports.document import build_document
    from reports_util import validate
    rng = random.Random(1234)
    lines = (DATA / "splat.stream").read_text().splitlines() + \
        (DATA / "truncated.stream").read_text().splitlines()[:40]
    texts = ["\n".join(lines[:n]) for n in range(0, len(lines), 3)]
    for _ in range(30):
        sample = lines[:]
        rng.shuffle(sample)
        texts.append("\n".join(sample[:rng.randrange(1, len(sample))]))
    for text in texts:
        run = parse_stream(saved(text, binaries=["wp", "hang"]))
        validate(build_document([run]))
        assert all(b.points for b in run.binaries)


def test_truncated_stream_uses_the_runners_own_binary_list() -> None:
    # The run frame's binary_names says what the runner was going to run,
    # so a panic still leaves "not run" rows; it wins over run.py's list.
    text = (DATA / "truncated.stream").read_text().replace(
        '"target":"', '"binary_names":["copy","errno","wp"],"target":"', 1)
    assert '"binary_names"' in text
    run = parse_stream(saved(text, binaries=["copy", "other"]))
    wp = [p for p in run.points if p.id == "wp"]
    assert len(wp) == 1 and wp[0].status == "notrun"
    assert "other" not in {b.name for b in run.binaries}


@pytest.mark.parametrize("before,after,found", [
    (0, -1, "underflowed"), (0, 3, "outlived"), (0, 0, None), (-2, 0, None)])
def test_huge_page_reservations_must_balance(before: int, after: int,
                                             found: str | None) -> None:
    text = (DATA / "host.stream").read_text()
    end = text.rindex("@@faultline run-end {") + len("@@faultline run-end {")
    text = (text[:end] + f'"hugepages_rsvd_before":{before},'
            f'"hugepages_rsvd_after":{after},' + text[end:])
    texts = [f["text"] for f in parse_stream(text).findings()
             if f["points"] == ["run"]]
    if found is None:
        assert texts == []
    else:
        assert len(texts) == 1 and found in texts[0]
        assert f"was {before} before the run and {after}" in texts[0]


def test_results_saved_with_a_sidecar_still_render(tmp_path: Path) -> None:
    """Streams saved before the target frame had a <name>.meta.json."""
    import json
    (tmp_path / "old.stream").write_text("")
    (tmp_path / "old.meta.json").write_text(json.dumps({
        "target": "debian:sid", "error": "never reached /init",
        "info": {"accel": "tcg"}, "expected_binaries": ["copy"]}))
    run = read_stream_file(tmp_path / "old.stream")
    assert (run.target, run.stream_state, run.cause) == (
        "debian:sid", "error", "never reached /init")
    assert run.info == {"accel": "tcg"} and statuses(run) == {"copy": "notrun"}
