# SPDX-License-Identifier: GPL-2.0
"""faultline-runner: the stream it writes (reports/STREAM.md), timeouts,
process clean-up, stderr and kernel log capture, options, PID 1 mode.

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

FRAME = "@@faultline "
FAKE_MODES = ("pass", "hang", "hang-noterm", "crash", "trunc", "stderr",
              "kmsg", "leak", "flood", "forge")


@dataclass
class Binary:
    begin: dict[str, Any]
    end: dict[str, Any] | None = None
    payload: list[str] = field(default_factory=list)
    kmsg: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Stream:
    run: dict[str, Any]
    probe_payload: list[str] | None = None
    probe_end: dict[str, Any] | None = None
    binaries: list[Binary] = field(default_factory=list)
    end: dict[str, Any] | None = None

    def binary(self, name: str) -> Binary:
        found = [b for b in self.binaries if b.begin["name"] == name]
        assert len(found) == 1, f"{name}: {len(found)} sections"
        return found[0]


def parse_stream(text: str, vm: bool = False) -> Stream:
    """Parse and check the framing strictly (a runner bug must fail here)."""
    assert text.endswith("\n"), "the stream must end with a newline"
    lines = text[:-1].split("\n")
    if vm:
        # PID 1 writes "\n" before each frame; nothing else is blank.
        lines = [ln for ln in lines if ln != ""]
    assert lines[0] == "@@faultline stream 1"
    kw, _, arg = lines[1].partition(" ")[2].partition(" ")
    assert lines[1].startswith(FRAME) and kw == "run"
    s = Stream(run=json.loads(arg))
    section: str | None = None
    cur: Binary | None = None
    for ln in lines[2:]:
        assert s.end is None, f"line after run-end: {ln!r}"
        if not ln.startswith(FRAME):
            if vm and not section:
                continue        # kernel messages on the console
            assert section, f"payload outside a section: {ln!r}"
            (cur.payload if section == "binary" else s.probe_payload).append(ln)
            continue
        kw, _, arg = ln[len(FRAME):].partition(" ")
        data = json.loads(arg) if arg else None
        if kw == "probe-begin":
            assert section is None and s.probe_payload is None and not s.binaries
            assert data is None
            section, s.probe_payload = "probe", []
        elif kw == "probe-end":
            assert section == "probe"
            section, s.probe_end = None, data
        elif kw == "binary-begin":
            assert section is None, "binary-begin inside a section"
            cur = Binary(begin=data)
            s.binaries.append(cur)
            section = "binary"
        elif kw == "kmsg":
            assert section == "binary" and isinstance(data["alert"], bool)
            cur.kmsg.append(data)
        elif kw == "binary-end":
            assert section == "binary" and data["name"] == cur.begin["name"]
            for key in ("exit", "signal", "timed_out", "duration_ms", "kmsg_alert"):
                assert key in data, f"binary-end lacks {key}"
            assert data["kmsg_alert"] == any(k["alert"] for k in cur.kmsg)
            cur.end, section = data, None
        elif kw == "run-end":
            assert section is None
            s.end = data
        else:
            raise AssertionError(f"unknown frame {kw!r}")
    assert s.end is not None, "no run-end"
    return s


@pytest.fixture(scope="session")
def runner(build_dir: Path) -> Path:
    return build_dir / "faultline-runner"


@pytest.fixture
def fakes(build_dir: Path, tmp_path: Path):
    """fakes(*modes) -> a directory of fake cases named after their mode."""
    def make(*modes: str, where: Path | None = None) -> Path:
        d = (where or tmp_path) / "cases"
        d.mkdir(parents=True, exist_ok=True)
        for m in modes:
            assert m in FAKE_MODES
            if where is None:
                (d / m).symlink_to(build_dir / "tools" / "fake_case")
            else:
                # A copy: the link target may be hidden by PID 1's mounts.
                shutil.copy2(build_dir / "tools" / "fake_case", d / m)
        return d
    return make


def run(runner: Path, *args: str, env: dict[str, str] | None = None,
        timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(runner), *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


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
    r = run(runner, "--probe", str(probe), str(fakes("pass")))
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


def test_hang_is_killed_with_its_group(runner: Path, fakes) -> None:
    d = fakes("hang", "pass")
    t0 = time.monotonic()
    r = run(runner, "--no-probe", "--timeout", "1", str(d))
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


def test_hang_ignoring_sigterm_gets_sigkill(runner: Path, fakes) -> None:
    d = fakes("hang-noterm")
    r = run(runner, "--no-probe", "--timeout", "1", "--term-grace", "0.3", str(d))
    b = parse_stream(r.stdout).binary("hang-noterm")
    assert b.end["timed_out"] is True and b.end["signal"] == signal.SIGKILL
    assert 1250 <= b.end["duration_ms"] < 2000
    assert_all_gone(b, "hang-noterm")


def test_no_grace_means_sigkill_at_once(runner: Path, fakes) -> None:
    d = fakes("hang")
    r = run(runner, "--no-probe", "--timeout", "1", "--term-grace", "0", str(d))
    b = parse_stream(r.stdout).binary("hang")
    assert b.end["timed_out"] is True and b.end["signal"] == signal.SIGKILL
    assert b.end["duration_ms"] < 1300
    assert_all_gone(b, "hang")


def test_crash_signal_recorded(runner: Path, fakes) -> None:
    d = fakes("crash")
    r = run(runner, "--no-probe", "--timeout", "2", str(d))
    assert r.returncode == 0
    b = parse_stream(r.stdout).binary("crash")
    assert b.end["signal"] == signal.SIGSEGV and b.end["exit"] is None
    assert b.end["timed_out"] is False
    assert "ok 1 before_crash" in b.payload


def test_truncated_tap_passed_verbatim(runner: Path, fakes) -> None:
    d = fakes("trunc")
    r = run(runner, "--no-probe", "--timeout", "2", str(d))
    b = parse_stream(r.stdout).binary("trunc")
    assert b.payload == ["TAP version 13", "1..3", "ok 1 first", "ok 2 seco"]
    assert b.end["exit"] == 1 and b.end["signal"] is None


def test_stderr_lines_prefixed(runner: Path, fakes) -> None:
    d = fakes("stderr")
    r = run(runner, "--no-probe", "--timeout", "2", str(d))
    b = parse_stream(r.stdout).binary("stderr")
    assert b.payload[:3] == ["TAP version 13", "1..1", "ok 1 stderr"]
    assert b.payload[3:] == ["# stderr: plain complaint", "# already a diagnostic",
                             "# stderr: last words"]


def test_leftover_processes_reaped(runner: Path, fakes) -> None:
    d = fakes("leak")
    r = run(runner, "--no-probe", "--timeout", "2", str(d))
    b = parse_stream(r.stdout).binary("leak")
    assert b.end["exit"] == 0 and b.end["leaked"] == 2
    assert_all_gone(b, "leak")


def test_flood_and_long_lines(runner: Path, fakes) -> None:
    d = fakes("flood")
    r = run(runner, "--no-probe", "--timeout", "5", str(d))
    b = parse_stream(r.stdout).binary("flood")
    assert sum(ln.startswith("# line ") for ln in b.payload) == 20000
    xs = [ln for ln in b.payload if ln.startswith("x")]
    mib = 1024 * 1024
    assert [len(x) for x in xs] == [mib, mib, mib // 2]
    assert b.payload[-1] == "ok 1 flood"


def test_forged_frame_is_defused(runner: Path, fakes) -> None:
    d = fakes("forge")
    r = run(runner, "--no-probe", "--timeout", "2", str(d))
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
    r = run(runner, "--no-probe", "--timeout", "2", *args, str(d), env=env)
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
    r = run(runner, "--no-probe", "--no-kmsg", "--kmsg-user-alerts", str(d))
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
    r = run(runner, "--no-probe", "--probe", str(tmp_path / "no-probe"),
            "--output", str(out), str(d / "pass"), str(bad))
    assert r.returncode == 1 and r.stdout == ""
    s = parse_stream(out.read_text())
    assert s.probe_end["exit"] is None and "error" in s.probe_end
    e = s.binary("zz-not-executable").end
    assert e["exit"] is None and "Permission denied" in e["error"]
    assert s.end["failed_to_start"] == 1 and s.end["binaries"] == 1


def test_sigterm_to_runner_stops_cleanly(runner: Path, fakes) -> None:
    d = fakes("hang", "pass")
    proc = subprocess.Popen([str(runner), "--no-probe", "--timeout", "20", str(d)],
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
    assert [x.begin["name"] for x in s.binaries] == ["hang"]
    assert s.end["status"] == "interrupted"
    assert_all_gone(b, "hang")


def can_unshare() -> bool:
    return os.geteuid() == 0 and shutil.which("unshare") is not None


@pytest.mark.skipif(not can_unshare(), reason="needs root and unshare(1)")
def test_pid1_mode_in_pid_namespace(runner: Path, fakes, build_dir: Path) -> None:
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
            "faultline.timeout=1 faultline.target=pidns"))
        r = subprocess.run(["unshare", "--pid", "--fork", "--mount",
                            "--propagation", "private", str(runner), "--bogus"],
                           capture_output=True, text=True, env=env, timeout=30)
        assert r.returncode == 0, r.stderr   # argv is ignored as PID 1
        assert "\n\n@@faultline binary-begin " in r.stdout
        s = parse_stream(r.stdout, vm=True)
        assert s.run["pid1"] is True and s.run["target"] == "pidns"
        assert "setup_error" not in s.run
        assert s.probe_end is None
        assert [b.begin["name"] for b in s.binaries] == ["crash", "hang", "leak", "pass"]
        assert s.binary("hang").end["timed_out"] is True
        assert s.binary("crash").end["signal"] == signal.SIGSEGV
        assert s.binary("leak").end["leaked"] == 2
        assert s.binary("leak").payload[2].startswith("# pids: ")
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
