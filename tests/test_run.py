# SPDX-License-Identifier: GPL-2.0
"""run.py orchestration with a stand-in runner that replays recorded
streams: exit codes, saved files, pytest passthrough, progress, bad specs."""
from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from reports_util import DATA, ROOT, validate

RUN = [str(ROOT / "run.py")]


def fake_build(tmp: Path, stream: str, rc: int = 0,
               cases: tuple[str, ...] = ("copy", "errno")) -> Path:
    """A build dir whose runner prints tests/data/<stream>.stream."""
    build = tmp / "build"
    (build / "cases").mkdir(parents=True)
    for name in cases:
        case = build / "cases" / name
        case.write_text("#!/bin/sh\nexit 0\n")
        case.chmod(0o755)
    runner = build / "faultline-runner"
    runner.write_text(f"#!/bin/sh\necho \"$@\" > {tmp}/argv\n"
                      f"cat {DATA / (stream + '.stream')}\nexit {rc}\n")
    runner.chmod(0o755)
    return build


def run_py(tmp: Path, stream: str, *extra: str, rc: int = 0,
           cases: tuple[str, ...] = ("copy", "errno"),
           expectations: Path = DATA / "expectations.yaml"
           ) -> subprocess.CompletedProcess[str]:
    build = fake_build(tmp, stream, rc, cases)
    return subprocess.run(
        ["/usr/bin/python3", *RUN, "--no-build", "--build-dir", str(build),
         "-o", str(tmp / "out"), "--expectations", str(expectations), *extra],
        text=True, capture_output=True, timeout=120)


def report(tmp: Path) -> dict:
    doc = json.loads((tmp / "out" / "report.json").read_text())
    validate(doc)
    return doc


@pytest.mark.parametrize("stream,code,state", [
    ("bookworm", 0, "complete"),     # fail -> xfail, pass -> xpass: green
    ("host", 1, "complete"), ("splat", 1, "complete"),
    ("truncated", 1, "truncated"), ("empty", 2, "empty"),
    ("garbage", 2, "garbage")])
def test_exit_codes(tmp_path: Path, stream: str, code: int, state: str) -> None:
    res = run_py(tmp_path, stream)
    assert res.returncode == code, res.stdout + res.stderr
    doc = report(tmp_path)
    assert doc["exit_code"] == code and doc["runs"][0]["stream_state"] == state
    out = tmp_path / "out"
    for f in ("host.stream", "report.md", "report.html", "junit.xml"):
        assert (out / f).is_file(), f
    assert not list(out.glob("*.meta.json"))
    # The runner's bytes, then run.py's target frame.
    saved = (out / "host.stream").read_bytes()
    runner = (DATA / f"{stream}.stream").read_bytes()
    assert saved.startswith(runner)
    assert saved[len(runner):].lstrip(b"\n").startswith(b"@@faultline target {")
    verdict = {0: "faultline: PASS", 1: "faultline: FAIL", 2: "faultline: ERROR"}
    assert verdict[code] in res.stdout
    argv = (tmp_path / "argv").read_text().split()
    assert argv[0] == "--timeout=60" and argv[-1].endswith("cases/errno")
    # `report render` of the saved stream is the report run.py wrote.
    again = subprocess.run(["/usr/bin/python3", *RUN, "report", "render",
                            str(out / "host.stream"), "-o", str(tmp_path / "again"),
                            "--expectations", str(DATA / "expectations.yaml")],
                           text=True, capture_output=True, timeout=60)
    assert again.returncode == code, again.stderr
    first = json.loads((out / "report.json").read_text())
    second = json.loads((tmp_path / "again" / "report.json").read_text())
    assert first["runs"] == second["runs"]


def test_binaries_never_started_are_not_run(tmp_path: Path) -> None:
    res = run_py(tmp_path, "truncated", cases=("copy", "errno", "wp"))
    doc = report(tmp_path)
    ids = {p["id"]: p for b in doc["runs"][0]["binaries"] for p in b["points"]}
    assert ids["wp"]["status"] == "notrun" and "Kernel panic" in ids["wp"]["reason"]
    assert "Kernel panic" in res.stdout


def test_pytest_arguments_pass_through(tmp_path: Path) -> None:
    res = run_py(tmp_path, "host", "--", "-k", "shmem",
                 "--junitxml", str(tmp_path / "pytest-junit.xml"))
    assert res.returncode == 0, res.stdout + res.stderr
    doc = report(tmp_path)
    ids = [p["id"] for b in doc["runs"][0]["binaries"] for p in b["points"]]
    assert ids == ["copy.shmem.fault_round_trip", "copy.shmem.eexist",
                   "errno.shmem.zeropage_eexist"]
    root = ET.parse(tmp_path / "pytest-junit.xml").getroot()
    assert len(root.findall(".//testcase")) == 3


def test_pytest_exitfirst_still_reports(tmp_path: Path) -> None:
    res = run_py(tmp_path, "host", "--", "-x")
    assert res.returncode == 1
    assert "errno.anon.unregister_foreign" in res.stdout


def test_progress_plain_lines(tmp_path: Path) -> None:
    res = run_py(tmp_path, "host")
    lines = [ln.split() for ln in res.stdout.splitlines() if ln.startswith("host ")]
    # host.stream's run frame does not say how many binaries: n/?
    assert lines[0][:13] == ["host", "[1/?", "binaries,", "6", "points", "so",
                             "far]", "copy:", "6/6", "points", "pass", "4", "fail"]
    assert lines[1][:8] == ["host", "[2/?", "binaries,", "10", "points", "so",
                            "far]", "errno:"]
    assert "\r" not in res.stdout and "\033" not in res.stdout


def test_runner_failure_is_reported(tmp_path: Path) -> None:
    res = run_py(tmp_path, "empty", rc=3)
    assert res.returncode == 2
    (run,) = report(tmp_path)["runs"]
    assert run["stream_state"] == "error"
    assert run["cause"].startswith("runner exited 3")
    assert {b["name"]: b["points"][0]["status"] for b in run["binaries"]} == \
        {"copy": "notrun", "errno": "notrun"}
    assert "runner exited 3" in res.stdout


def test_missing_runner_and_usage_errors(tmp_path: Path) -> None:
    build = tmp_path / "empty-build"
    build.mkdir()
    res = subprocess.run(["/usr/bin/python3", *RUN, "--no-build", "--build-dir",
                          str(build), "-o", str(tmp_path / "o")],
                         text=True, capture_output=True, timeout=60)
    assert res.returncode == 2 and "faultline-runner is missing" in res.stderr
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("expectations: [{id: x}]\n")
    for bad in (["--bogus"], ["-j", "0"], ["--expectations", "/nonexistent"],
                ["--expectations", str(bad_yaml), "--no-build"],
                ["--kernel", "debian:nosuchsuite", "--no-build"]):
        res = subprocess.run(["/usr/bin/python3", *RUN, *bad], text=True,
                             capture_output=True, timeout=60)
        assert res.returncode == 2, (bad, res.stderr)
        assert res.stderr.strip()
    assert not (tmp_path / "o").exists()


def test_report_subcommand_from_run_py(tmp_path: Path) -> None:
    run_py(tmp_path, "host")
    rep = str(tmp_path / "out" / "report.json")
    res = subprocess.run(["/usr/bin/python3", *RUN, "report", "diff", rep, rep],
                         text=True, capture_output=True, timeout=60)
    assert res.returncode == 0 and "No regressions." in res.stdout
    res = subprocess.run(["/usr/bin/python3", *RUN, "report", "render",
                          str(DATA / "splat.stream"), "-o", str(tmp_path / "r")],
                         text=True, capture_output=True, timeout=60)
    assert res.returncode == 1 and (tmp_path / "r" / "report.html").is_file()


def test_plugin_direct_pytest(tmp_path: Path) -> None:
    """The plugin works without run.py: pytest -p reports.plugin x.stream."""
    stream = tmp_path / "h.stream"
    stream.write_text((DATA / "host.stream").read_text())
    res = subprocess.run(["/usr/bin/python3", "-m", "pytest", "-p", "reports.plugin",
                          "-p", "no:cacheprovider", "--rootdir", str(tmp_path),
                          str(stream), "--faultline-report", str(tmp_path / "o"),
                          "-q"], cwd=ROOT, text=True, capture_output=True,
                         timeout=60)
    assert res.returncode == 1, res.stdout + res.stderr
    assert "2 failed, 6 passed, 2 skipped" in res.stdout
    doc = json.loads((tmp_path / "o" / "report.json").read_text())
    assert doc["totals"]["pass"] == 6 and doc["totals"]["timeout"] == 1


def test_progress_live_line_on_a_tty() -> None:
    import io

    from reports.progress import Progress
    from reports.stream import parse_stream
    buf = io.StringIO()
    parse_stream((DATA / "splat.stream").read_text(),
                 Progress(buf, live=True, colour=False))
    out = buf.getvalue()
    frames = out.split("\r\033[K")
    assert frames[0] == "" and len(frames) == 1 + (1 + 3 + 1) + (1 + 1 + 1)
    assert frames[4] == "[1/? binaries, 3 points so far] wp: 3/3 points  pass 2  fail 0  skip 1"
    assert frames[5].endswith("skip 1  KERNEL ALERT  (300 ms)\n")
    assert "TIMED OUT" in frames[-1] and frames[-1].endswith("\n")


def test_ctrl_c_reports_what_was_collected(tmp_path: Path) -> None:
    """^C reaches run.py only (the runner has its own session); run.py stops
    the runner with SIGTERM, still writes the reports and exits 130."""
    import signal
    import time
    build = fake_build(tmp_path, "host")
    runner = build / "faultline-runner"
    # a runner that streams one binary, then waits to be stopped
    runner.write_text(
        "#!/bin/sh\n"
        f"head -n 33 {DATA / 'host.stream'}\n"
        "trap 'echo \"@@faultline run-end {\\\"status\\\":\\\"interrupted\\\"}\"; "
        "exit 143' TERM\n"
        "while :; do sleep 0.1; done\n")
    proc = subprocess.Popen(
        ["/usr/bin/python3", *RUN, "--no-build", "--build-dir", str(build),
         "-o", str(tmp_path / "out")], stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(1.5)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130, out
    assert "got SIGINT: stopping the build, the runner" in out
    doc = report(tmp_path)
    run = doc["runs"][0]
    assert run["stream_state"] == "truncated"
    assert "interrupted: run.py got SIGINT; the runner was stopped" in run["cause"]
    assert run["info"]["interrupted"] == "SIGINT"
    st = {p["id"]: p["status"] for b in run["binaries"] for p in b["points"]}
    assert st["copy.anon.eexist"] == "pass" and st["errno"] == "notrun"


def test_unwritable_output_is_a_usage_error(tmp_path: Path) -> None:
    build = fake_build(tmp_path, "host")
    blocker = tmp_path / "file"
    blocker.write_text("")
    res = subprocess.run(["/usr/bin/python3", *RUN, "--no-build", "--build-dir",
                          str(build), "-o", str(blocker / "sub")],
                         text=True, capture_output=True, timeout=60)
    assert res.returncode == 2, res.stderr
    assert "cannot write the output directory" in res.stderr
    assert not (tmp_path / "argv").exists()     # nothing was run
