# SPDX-License-Identifier: GPL-2.0
"""faultline-runner: the stream it writes (reports/STREAM.md), timeouts,
process clean-up, stderr and kernel log capture, options, PID 1 mode,
several binaries at once (--jobs) and the run's huge pages.

The misbehaving programs are build/tools/fake_case under different names
(see tools/fake_case.c); their leftovers die by themselves after 30 s.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from runner_util import (NR_HUGEPAGES, Binary, Stream, hugetlb_writable,
                         more_than_there_are, parse_stream, pool_lock, run,
                         run_frame, run_pooled)


def pids_of(b: Binary) -> list[int]:
    line = next(ln for ln in b.payload if ln.startswith("# pids: "))
    return [int(p) for p in line.split()[2:]]


def alive(pid: int, name: str) -> bool:
    """The fake process @pid still exists (and is not a zombie)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    comm, state = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2]
    return comm == name and state != "Z"


def group_exists(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def assert_all_gone(b: Binary, name: str) -> None:
    pids = pids_of(b)
    assert len(pids) == 3
    assert not [p for p in pids if alive(p, name)], "leftover processes"
    for pgid in (pids[0], pids[2]):   # the case's group and the one it made
        if group_exists(pgid):
            members = [p for p in pids if alive(p, name)]
            assert not members, f"group {pgid} still has {members}"


def test_probe_json_stays_whole(runner: Path, build_dir: Path, fakes) -> None:
    """The probe's JSON is one long line: it must reach the stream intact."""
    probe = build_dir / "uffd-probe"
    if not probe.exists():
        pytest.skip("uffd-probe not built yet")
    r = run(runner, "--hugepages", "0", "--probe", str(probe), str(fakes("pass")))
    s = parse_stream(r.stdout)
    assert s.probe_end["exit"] == 0
    assert isinstance(json.loads("\n".join(s.probe_payload)), dict)


def test_real_cases_stream(runner: Path, cases_dir: Path) -> None:
    names = sorted(p.name for p in cases_dir.iterdir()
                   if p.is_file() and os.access(p, os.X_OK))
    assert names, "no case binaries built"
    r = run(runner, "--timeout", "30", timeout=300)
    assert r.returncode == 0, r.stderr
    s = parse_stream(r.stdout)
    assert s.run["target"] == "host" and s.run["pid1"] is False
    assert s.run["release"] == os.uname().release
    assert s.run["binaries"] == len(names)
    assert s.run["jobs"] == (os.cpu_count() or 1)   # the host default
    assert s.probe_end is not None
    probe = runner.parent / "uffd-probe"
    if probe.exists():
        assert s.probe_end["exit"] == 0
        assert isinstance(json.loads("\n".join(s.probe_payload)), dict)
    else:
        assert s.probe_end["exit"] is None and "error" in s.probe_end
    assert [b.begin["name"] for b in s.binaries] == names
    for b in s.binaries:
        assert b.end["timed_out"] is False, b.begin["name"]
        assert any(ln.startswith("TAP version") for ln in b.payload)
        assert any(ln.startswith("1..") for ln in b.payload)
    assert s.end["status"] == "complete" and s.end["binaries"] == len(names)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_hang_is_killed_with_its_group(runner: Path, fakes, jobs: str) -> None:
    d = fakes("hang", "pass")
    t0 = time.monotonic()
    r = run(runner, "--no-probe", "--hugepages", "0", "--timeout", "1",
            "-j", jobs, str(d))
    took = time.monotonic() - t0
    assert r.returncode == 0, r.stderr
    s = parse_stream(r.stdout)
    b = s.binary("hang")
    assert b.end["timed_out"] is True and b.end["exit"] is None
    assert b.end["signal"] == signal.SIGTERM   # it honoured the SIGTERM
    assert 950 <= b.end["duration_ms"] < 1600
    assert b.end["leaked"] == 2
    assert_all_gone(b, "hang")
    # The run went on with the next binary.
    assert s.binary("pass").end["exit"] == 0
    assert s.end["timed_out"] == 1
    assert took < 4


@pytest.mark.parametrize("mode,grace,least_ms,most_ms", [
    ("hang-noterm", "0.3", 1250, 2000),     # SIGTERM ignored: the grace, then SIGKILL
    ("hang", "0", 0, 1300),                 # no grace: SIGKILL at once
], ids=["ignoring_sigterm", "no_grace"])
def test_sigkill_after_the_grace(runner: Path, fakes, mode: str, grace: str,
                                 least_ms: int, most_ms: int) -> None:
    d = fakes(mode)
    r = run(runner, "--no-probe", "--hugepages", "0", "--timeout", "1",
            "--term-grace", grace, str(d))
    b = parse_stream(r.stdout).binary(mode)
    assert b.end["timed_out"] is True and b.end["signal"] == signal.SIGKILL
    assert least_ms <= b.end["duration_ms"] < most_ms
    assert_all_gone(b, mode)


def test_crash_signal_recorded(runner: Path, fakes) -> None:
    d = fakes("crash")
    r = run(runner, "--no-probe", "--hugepages", "0", "--timeout", "2", str(d))
    assert r.returncode == 0
    b = parse_stream(r.stdout).binary("crash")
    assert b.end["signal"] == signal.SIGSEGV and b.end["exit"] is None
    assert b.end["timed_out"] is False
    assert "ok 1 before_crash" in b.payload


def test_truncated_tap_passed_verbatim(runner: Path, fakes) -> None:
    d = fakes("trunc")
    r = run(runner, "--no-probe", "--hugepages", "0", "--timeout", "2", str(d))
    b = parse_stream(r.stdout).binary("trunc")
    assert b.payload == ["TAP version 13", "1..3", "ok 1 first", "ok 2 seco"]
    assert b.end["exit"] == 1 and b.end["signal"] is None


def test_stderr_lines_prefixed(runner: Path, fakes) -> None:
    d = fakes("stderr")
    r = run(runner, "--no-probe", "--hugepages", "0", "--timeout", "2", str(d))
    b = parse_stream(r.stdout).binary("stderr")
    assert b.payload[:3] == ["TAP version 13", "1..1", "ok 1 stderr"]
    assert b.payload[3:] == ["# stderr: plain complaint", "# already a diagnostic",
                             "# stderr: last words"]


def test_leftover_processes_reaped(runner: Path, fakes) -> None:
    d = fakes("leak")
    r = run(runner, "--no-probe", "--hugepages", "0", "--timeout", "2", str(d))
    b = parse_stream(r.stdout).binary("leak")
    assert b.end["exit"] == 0 and b.end["leaked"] == 2
    assert_all_gone(b, "leak")


def test_flood_and_long_lines(runner: Path, fakes) -> None:
    d = fakes("flood")
    r = run(runner, "--no-probe", "--hugepages", "0", "--timeout", "5", str(d))
    b = parse_stream(r.stdout).binary("flood")
    assert sum(ln.startswith("# line ") for ln in b.payload) == 20000
    xs = [ln for ln in b.payload if ln.startswith("x")]
    mib = 1024 * 1024
    assert [len(x) for x in xs] == [mib, mib, mib // 2]
    assert b.payload[-1] == "ok 1 flood"


def test_forged_frame_is_defused(runner: Path, fakes) -> None:
    d = fakes("forge")
    r = run(runner, "--no-probe", "--hugepages", "0", "--timeout", "2", str(d))
    b = parse_stream(r.stdout).binary("forge")
    assert '# stdout: @@faultline binary-end {"name":"forged"}' in b.payload


def kmsg_usable() -> bool:
    return os.geteuid() == 0 and os.access("/dev/kmsg", os.R_OK | os.W_OK)


@pytest.mark.skipif(not kmsg_usable(), reason="needs root and /dev/kmsg")
@pytest.mark.parametrize("user_alerts", [True, False])
def test_kmsg_injection(runner: Path, fakes, user_alerts: bool) -> None:
    d = fakes("kmsg", "pass")
    token = uuid.uuid4().hex
    env = dict(os.environ, FAULTLINE_FAKE_TOKEN=token)
    args = ["--kmsg-user-alerts"] if user_alerts else []
    # One at a time: with --jobs, a record goes to every binary running.
    r = run(runner, "--no-probe", "--hugepages", "0", "-j", "1", "--timeout", "2",
            *args, str(d), env=env)
    assert r.returncode == 0
    s = parse_stream(r.stdout)
    assert s.run["kmsg"] is True
    b = s.binary("kmsg")
    mine = [k for k in b.kmsg if token in k["line"]]
    assert len(mine) == 1
    assert mine[0]["line"] == f"faultline-test: WARNING: injected {token}"
    assert mine[0]["facility"] != 0          # written by user space
    assert mine[0]["alert"] is user_alerts
    if user_alerts:
        assert b.end["kmsg_alert"] is True
    # The record belongs to the binary that wrote it, not the next one.
    assert not [k for k in s.binary("pass").kmsg if token in k["line"]]


@pytest.mark.skipif(not kmsg_usable(), reason="needs root and /dev/kmsg")
def test_no_kmsg(runner: Path, fakes) -> None:
    d = fakes("kmsg")
    r = run(runner, "--no-probe", "--hugepages", "0", "--no-kmsg",
            "--kmsg-user-alerts", str(d))
    s = parse_stream(r.stdout)
    assert s.run["kmsg"] is False and not s.binary("kmsg").kmsg


@pytest.mark.parametrize("args", [
    ["--bogus"], ["--timeout", "0"], ["--timeout", "abc"], ["--timeout"],
    ["--term-grace", "-1"], ["/nonexistent/faultline-case"],
])
def test_bad_usage_exits_2(runner: Path, args: list[str]) -> None:
    r = run(runner, "--no-probe", *args)
    assert r.returncode == 2
    assert r.stderr.strip() and r.stdout == ""


def test_nothing_to_run_exits_2(runner: Path, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    r = run(runner, "--no-probe", str(tmp_path / "empty"))
    assert r.returncode == 2 and "no case binaries" in r.stderr
    s = parse_stream(r.stdout)
    assert s.end["status"] == "empty" and s.end["binaries"] == 0


def test_help(runner: Path) -> None:
    r = run(runner, "--help")
    assert r.returncode == 0 and "--timeout" in r.stdout


def test_unstartable_binary_and_output_file(runner: Path, fakes,
                                            tmp_path: Path) -> None:
    d = fakes("pass")
    bad = d / "zz-not-executable"
    bad.write_text("#!/bin/sh\n")
    bad.chmod(0o644)
    out = tmp_path / "stream.txt"
    r = run(runner, "--no-probe", "--hugepages", "0",
            "--probe", str(tmp_path / "no-probe"),
            "--output", str(out), str(d / "pass"), str(bad))
    assert r.returncode == 1 and r.stdout == ""
    s = parse_stream(out.read_text())
    assert s.probe_end["exit"] is None and "error" in s.probe_end
    e = s.binary("zz-not-executable").end
    assert e["exit"] is None and "Permission denied" in e["error"]
    assert s.end["failed_to_start"] == 1 and s.end["binaries"] == 1


@pytest.mark.parametrize("jobs", [1, 2])
def test_sigterm_to_runner_stops_cleanly(runner: Path, fakes, jobs: int) -> None:
    d = fakes("hang", "pass")
    proc = subprocess.Popen([str(runner), "--no-probe", "--hugepages", "0",
                             "--timeout", "20", "-j", str(jobs), str(d)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    lines = []
    for ln in proc.stdout:
        lines.append(ln)
        if ln.startswith("# pids: "):
            break
    proc.send_signal(signal.SIGTERM)
    lines += proc.stdout.readlines()
    assert proc.wait(timeout=10) == 128 + signal.SIGTERM
    s = parse_stream("".join(lines))
    b = s.binary("hang")
    # The SIGTERM is passed on to the case (it may restore what it changed).
    assert b.end["interrupted"] == signal.SIGTERM and b.end["signal"] == signal.SIGTERM
    assert b.end["timed_out"] is False
    if jobs == 1:
        # Nothing starts after the signal.
        assert [x.begin["name"] for x in s.binaries] == ["hang"]
    else:
        # "pass" was started beside "hang": its block is there, whole. It
        # has exited normally, or the signal reached it first and stopped
        # it the same way (its worker may also have been cleaning up).
        assert [x.begin["name"] for x in s.binaries] == ["hang", "pass"]
        p = s.binary("pass").end
        assert not p["timed_out"]
        assert (p["exit"] == 0 and p["signal"] is None) or (
            p["interrupted"] == signal.SIGTERM and p["exit"] is None)
    assert s.end["status"] == "interrupted"
    assert_all_gone(b, "hang")


# ---- several binaries at once (--jobs) ----

PAR_MODES = ("crash", "forge", "leak", "pass", "stderr", "trunc")


def normalized(s: Stream) -> list[tuple[str, list[str], dict[str, Any]]]:
    """Each block without what differs from run to run (pids, durations)."""
    out = []
    for b in s.binaries:
        payload = ["# pids: N" if ln.startswith("# pids: ") else ln
                   for ln in b.payload]
        end = {k: v for k, v in b.end.items()
               if k not in ("duration_ms", "kmsg_lines", "kmsg_alert")}
        begin = {k: v for k, v in b.begin.items() if k != "time_us"}
        out.append((json.dumps(begin, sort_keys=True), payload, end))
    return out


def test_jobs_stream_equals_sequential(runner: Path, fakes) -> None:
    """Blocks whole and in name order whatever the number of jobs."""
    d = fakes(*PAR_MODES)
    streams = {}
    for jobs in (1, 2, 4):
        r = run(runner, "--no-probe", "--hugepages", "0", "--timeout", "5",
                "-j", str(jobs), str(d))
        assert r.returncode == 0, r.stderr
        s = parse_stream(r.stdout)     # a block cut by another fails here
        assert s.run["jobs"] == jobs
        assert [b.begin["name"] for b in s.binaries] == sorted(PAR_MODES)
        assert [b.begin["index"] for b in s.binaries] == list(range(1, 7))
        assert s.end["status"] == "complete" and s.end["binaries"] == 6
        streams[jobs] = normalized(s)
    assert streams[2] == streams[1] and streams[4] == streams[1]
    assert len(streams[1]) == len(PAR_MODES)


def test_jobs_flood_held_back_whole(runner: Path, fakes) -> None:
    """A later binary's long output waits, whole, behind a slower one."""
    d = fakes("flood", "hang")
    # Arguments keep their order: hang's turn comes first, flood ends first.
    r = run(runner, "--no-probe", "--hugepages", "0", "--timeout", "1", "-j", "2",
            str(d / "hang"), str(d / "flood"))
    s = parse_stream(r.stdout)
    assert [b.begin["name"] for b in s.binaries] == ["hang", "flood"]
    assert s.binary("hang").end["timed_out"] is True
    b = s.binary("flood")
    assert sum(ln.startswith("# line ") for ln in b.payload) == 20000
    assert [len(x) for x in b.payload if x.startswith("x")] == [
        1024 * 1024, 1024 * 1024, 512 * 1024]
    assert b.end["exit"] == 0 and b.end["duration_ms"] < 900


def test_jobs_hang_does_not_hold_up_the_others(runner: Path, fakes) -> None:
    d = fakes("hang", *PAR_MODES)
    t0 = time.monotonic()
    r = run(runner, "--no-probe", "--hugepages", "0", "--timeout", "1", "-j", "2",
            str(d))
    took = time.monotonic() - t0
    assert r.returncode == 0, r.stderr
    s = parse_stream(r.stdout)
    h = s.binary("hang")
    assert h.end["timed_out"] is True and h.end["signal"] == signal.SIGTERM
    assert 950 <= h.end["duration_ms"] < 1600 and h.end["leaked"] == 2
    assert_all_gone(h, "hang")
    for m in PAR_MODES:
        assert s.binary(m).end["timed_out"] is False, m
    assert s.binary("leak").end["leaked"] == 2
    assert_all_gone(s.binary("leak"), "leak")
    # The others ran beside it: the run took about one timeout, not more.
    assert s.end["duration_ms"] < 1900 and took < 3
    assert s.end["timed_out"] == 1


@pytest.mark.skipif(not kmsg_usable(), reason="needs root and /dev/kmsg")
def test_jobs_kmsg_goes_to_every_running_binary(runner: Path, fakes) -> None:
    d = fakes("hang", "kmsg")
    token = uuid.uuid4().hex
    env = dict(os.environ, FAULTLINE_FAKE_TOKEN=token)
    r = run(runner, "--no-probe", "--hugepages", "0", "--timeout", "1", "-j", "2",
            "--kmsg-user-alerts", str(d), env=env)
    s = parse_stream(r.stdout)
    for name in ("hang", "kmsg"):       # hang was running when kmsg wrote it
        mine = [k for k in s.binary(name).kmsg if token in k["line"]]
        assert len(mine) == 1, name
        assert s.binary(name).end["kmsg_alert"] is True


@pytest.mark.parametrize("args", [["-j", "0"], ["--jobs", "x"], ["-j", "257"],
                                  ["--hugepages", "-1"], ["--hugepages", "y"]])
def test_bad_jobs_or_hugepages(runner: Path, args: list[str]) -> None:
    r = run(runner, "--no-probe", *args)
    assert r.returncode == 2 and r.stderr.strip() and r.stdout == ""


# ---- huge pages held by the runner ----

@pytest.mark.skipif(not hugetlb_writable(), reason="needs root and hugetlb")
def test_hugepages_raised_then_restored(runner: Path, fakes) -> None:
    d = fakes("hang", "leak", "pass")
    want = more_than_there_are()
    r = run_pooled(runner, "--no-probe", "--timeout", "1", "-j", "2",
                   "--hugepages", str(want), str(d))
    assert r.returncode == 0, r.stderr
    s = parse_stream(r.stdout)
    h = s.run["hugepages"]
    before = h["before"]            # once the pool was the run's
    assert s.run["nr_hugepages"] == before
    assert h["wanted"] == want
    assert h["reserved"] >= 4 and h["free"] >= want and "error" not in h
    assert "hugepages_error" not in s.end
    with pool_lock():               # other runs on the host move it too
        assert int(NR_HUGEPAGES.read_text()) == before


@pytest.mark.skipif(not hugetlb_writable(), reason="needs root and hugetlb")
def test_hugepages_restored_on_sigterm(runner: Path, fakes) -> None:
    d = fakes("hang", "pass")
    want = more_than_there_are()
    proc = subprocess.Popen([str(runner), "--no-probe", "--timeout", "20",
                             "--hugepages", str(want), str(d)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    try:
        head = []
        for ln in proc.stdout:
            head.append(ln)
            if ln.startswith("# pids: "):
                break
        held = run_frame(head)["hugepages"]
        before = held["before"]
        # Held while the binaries run.
        assert held["reserved"] >= 4
        assert int(NR_HUGEPAGES.read_text()) == before + held["reserved"]
        proc.send_signal(signal.SIGTERM)
        rest = proc.stdout.read()
        assert proc.wait(timeout=10) == 128 + signal.SIGTERM
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert '"status":"interrupted"' in rest
    with pool_lock():
        assert int(NR_HUGEPAGES.read_text()) == before


SHOW_ENV_CASE = """#!/bin/sh
echo "TAP version 13"
echo "1..1"
echo "# jobs=${FAULTLINE_JOBS:-unset}"
awk '/^HugePages_(Free|Rsvd)/ {v[$1] = $2} END {
    print "# free=" v["HugePages_Free:"] - v["HugePages_Rsvd:"] }' /proc/meminfo
echo "ok 1 env"
"""


def write_show_env(d: Path, *names: str) -> None:
    d.mkdir(parents=True, exist_ok=True)
    for n in names:
        (d / n).write_text(SHOW_ENV_CASE)
        (d / n).chmod(0o755)


def payload_value(b: Binary, key: str) -> str:
    return next(ln for ln in b.payload if ln.startswith(f"# {key}="))[len(key) + 3:]


def test_binaries_told_the_jobs(runner: Path, tmp_path: Path) -> None:
    write_show_env(tmp_path / "c", "a", "b", "c")
    for jobs, told in ((1, "1"), (2, "2"), (8, "3")):   # at most the binaries
        r = run(runner, "--no-probe", "--hugepages", "0", "-j", str(jobs),
                str(tmp_path / "c"))
        s = parse_stream(r.stdout)
        assert [payload_value(b, "jobs") for b in s.binaries] == [told] * 3


@pytest.mark.skipif(not hugetlb_writable(), reason="needs root and hugetlb")
def test_binaries_find_the_pages_free(runner: Path, tmp_path: Path) -> None:
    """What the runner holds is there for every binary, before it starts."""
    write_show_env(tmp_path / "c", "a", "b", "c", "d")
    want = more_than_there_are()
    r = run_pooled(runner, "--no-probe", "-j", "2", "--hugepages", str(want),
                   str(tmp_path / "c"))
    s = parse_stream(r.stdout)
    assert s.run["hugepages"]["reserved"] >= 4
    for b in s.binaries:
        assert int(payload_value(b, "free")) >= want, b.begin["name"]
    with pool_lock():
        assert int(NR_HUGEPAGES.read_text()) == s.run["hugepages"]["before"]


@pytest.mark.skipif(not hugetlb_writable(), reason="needs root and hugetlb")
def test_hugepages_zero_leaves_the_sysctl(runner: Path, fakes) -> None:
    d = fakes("pass")
    r = run(runner, "--no-probe", "--hugepages", "0", str(d))
    s = parse_stream(r.stdout)
    assert "hugepages" not in s.run and s.end["status"] == "complete"


def can_unshare() -> bool:
    return os.geteuid() == 0 and shutil.which("unshare") is not None


@pytest.mark.skipif(not can_unshare(), reason="needs root and unshare(1)")
@pytest.mark.parametrize("jobs", [1, 2])
def test_pid1_mode_in_pid_namespace(runner: Path, fakes, build_dir: Path,
                                    jobs: int) -> None:
    # Not under /tmp: PID 1 mounts a tmpfs there (in its own mount ns), and
    # a checkout, so its build_dir, may itself live under /tmp.
    base = build_dir / "test-pid1"
    if str(build_dir.resolve()).startswith("/tmp/"):
        base = Path("/var/tmp/faultline-test-pid1")
    where = base / uuid.uuid4().hex
    try:
        d = fakes("pass", "hang", "leak", "crash", where=where)
        env = dict(os.environ, FAULTLINE_CMDLINE=(
            f"quiet faultline.cases={d} faultline.probe=none "
            f"faultline.timeout=1 faultline.target=pidns faultline.jobs={jobs} "
            "faultline.hugepages=0"))
        r = subprocess.run(["unshare", "--pid", "--fork", "--mount",
                            "--propagation", "private", str(runner), "--bogus"],
                           capture_output=True, text=True, env=env, timeout=30)
        assert r.returncode == 0, r.stderr   # argv is ignored as PID 1
        assert "\n\n@@faultline binary-begin " in r.stdout
        s = parse_stream(r.stdout, vm=True)
        assert s.run["pid1"] is True and s.run["target"] == "pidns"
        assert s.run["jobs"] == jobs and "hugepages" not in s.run
        assert "setup_error" not in s.run
        assert s.probe_end is None
        assert [b.begin["name"] for b in s.binaries] == ["crash", "hang", "leak", "pass"]
        assert s.binary("hang").end["timed_out"] is True
        assert s.binary("crash").end["signal"] == signal.SIGSEGV
        assert s.binary("leak").end["leaked"] == 2
        assert s.binary("leak").payload[2].startswith("# pids: ")
        # A worker's sweep must not have killed its neighbour's binary.
        assert s.binary("pass").end["exit"] == 0
        assert s.end["status"] == "complete"

        env["FAULTLINE_CMDLINE"] = "faultline.cases=/nonexistent faultline.probe=none"
        r = subprocess.run(["unshare", "--pid", "--fork", "--mount",
                            "--propagation", "private", str(runner)],
                           capture_output=True, text=True, env=env, timeout=30)
        assert r.returncode == 1
        s = parse_stream(r.stdout, vm=True)
        assert s.end["status"] == "error" and "/nonexistent" in s.end["error"]
    finally:
        shutil.rmtree(base, ignore_errors=True)


def cached_kernel() -> Path | None:
    """An uncompressed kernel that kernels/ downloaded before, if any."""
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    found = sorted((cache / "faultline" / "kernels").glob("bookworm-*/*/vmlinux"))
    found = found or sorted((cache / "faultline" / "kernels").glob("*/*/vmlinux"))
    return found[0] if found else None


@pytest.mark.skipif(shutil.which("qemu-system-x86_64") is None
                    or shutil.which("cpio") is None or cached_kernel() is None,
                    reason="needs qemu-system-x86_64, cpio and a cached kernel")
def test_pid1_in_a_vm(build_dir: Path, tmp_path: Path) -> None:
    """The static runner as /init of a real kernel: mounts, the stream on the
    serial console, kmsg, timeouts, and the exit through isa-debug-exit."""
    root = build_dir.parent
    static = root / "build-static"
    subprocess.run(["make", "-s", "-C", str(root), "STATIC=1", f"O={static}",
                    f"{static}/faultline-runner", f"{static}/tools/fake_case"],
                   check=True)
    initrd = tmp_path / "root"
    (initrd / "cases").mkdir(parents=True)
    shutil.copy(static / "faultline-runner", initrd / "init")
    shutil.copy(static / "tools" / "fake_case", initrd / "fake_case")
    for m in ("crash", "hang", "kmsg", "leak", "pass"):
        (initrd / "cases" / m).symlink_to("../fake_case")
    files = subprocess.run(["find", "."], cwd=initrd, capture_output=True,
                           check=True).stdout
    with open(tmp_path / "initrd.cpio", "wb") as out:
        subprocess.run(["cpio", "-o", "-H", "newc", "--quiet"], cwd=initrd,
                       input=files, stdout=out, check=True)
    # TCG: the KVM here fails on these guests (KVM internal error).
    cmd = ["qemu-system-x86_64", "-machine", "microvm,acpi=off", "-cpu", "qemu64",
           "-accel", "tcg", "-m", "256", "-smp", "1", "-nodefaults", "-nographic",
           "-no-reboot", "-serial", "stdio",
           "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
           "-kernel", str(cached_kernel()), "-initrd", str(tmp_path / "initrd.cpio"),
           "-append", "console=ttyS0 panic=-1 oops=panic reboot=t quiet "
                      "faultline.timeout=1 faultline.probe=none faultline.target=t1"]
    r = subprocess.run(cmd, capture_output=True, timeout=60)
    console = r.stdout.decode("utf-8", "replace").replace("\r\n", "\n")
    assert r.returncode == 1, (r.returncode, console[-2000:])   # (0 << 1) | 1
    stream = console[console.index("@@faultline stream 1"):]
    s = parse_stream(stream, vm=True)
    assert s.run["pid1"] is True and s.run["target"] == "t1"
    assert "setup_error" not in s.run and s.run["kmsg"] is True
    assert s.binary("hang").end["timed_out"] is True
    assert s.binary("crash").end["signal"] == signal.SIGSEGV
    assert s.binary("leak").end["leaked"] == 2
    assert "faultline-test: WARNING: injected " in [
        k["line"] for k in s.binary("kmsg").kmsg]
    assert s.end["status"] == "complete" and s.end["binaries"] == 5


@pytest.mark.skipif(not hugetlb_writable(), reason="needs root and hugetlb")
def test_second_run_waits_for_the_huge_page_pool(runner: Path, fakes) -> None:
    d = fakes("hang", "pass")
    want = more_than_there_are()
    args = ["--no-probe", "--timeout", "1", "--hugepages", str(want), str(d)]
    first = subprocess.Popen([str(runner), *args], stdout=subprocess.PIPE,
                             text=True)
    assert first.stdout is not None
    try:
        head = []
        for ln in first.stdout:
            head.append(ln)
            if ln.startswith("# pids: "):     # the first run holds the pool
                break
        before = run_frame(head)["hugepages"]["before"]
        second = run_pooled(runner, *args)
        out, _ = first.communicate(timeout=30)
    finally:
        first.kill()
        first.wait()
    assert (f"waiting for run PID {first.pid} (/run/faultline-hugepages.lock)"
            in second.stderr)
    h = parse_stream(second.stdout).run["hugepages"]
    assert h.get("waited_for_other_run") is True and h["before"] == before
    assert h["waited_for_pid"] == first.pid
    with pool_lock():
        assert int(NR_HUGEPAGES.read_text()) == before
