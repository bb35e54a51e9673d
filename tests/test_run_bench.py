# SPDX-License-Identifier: GPL-2.0
"""./run.py --bench: the runner is asked for the benchmark (host and VM
alike), the VM carries it, the report shows it, and a benchmark that hung,
crashed or failed leaves every verdict and the exit code as they were. An
amd64 TCG guest is told the host's TSC rate (kernels/qemu.py)."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from reports_util import ROOT, validate
from test_reports_perf import stream

RUN = ["/usr/bin/python3", str(ROOT / "run.py")]


def run_with(tmp: Path, text: str, *extra: str) -> tuple[subprocess.CompletedProcess[str],
                                                          dict, str]:
    """run.py on the host with a fake runner that prints @text."""
    build = tmp / "build"
    (build / "cases").mkdir(parents=True)
    case = build / "cases" / "copy"
    case.write_text("#!/bin/sh\nexit 0\n")
    case.chmod(0o755)
    (tmp / "stream").write_text(text)
    runner = build / "faultline-runner"
    runner.write_text(f"#!/bin/sh\necho \"$@\" > {tmp}/argv\ncat {tmp}/stream\n")
    runner.chmod(0o755)
    res = subprocess.run([*RUN, "--no-build", "--build-dir", str(build),
                          "-o", str(tmp / "out"), *extra],
                         text=True, capture_output=True, timeout=120)
    doc = json.loads((tmp / "out" / "report.json").read_text())
    validate(doc)
    return res, doc, (tmp / "argv").read_text()


def verdicts(doc: dict) -> tuple:
    return (doc["exit_code"], doc["status"], doc["totals"],
            [(p["id"], p["status"]) for r in doc["runs"] for b in r["binaries"]
             for p in b["points"]])


def test_bench_option_reaches_the_runner_and_the_report(tmp_path: Path) -> None:
    res, doc, argv = run_with(tmp_path, stream(), "--bench")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "--bench=uffd-bench" in argv.split()
    assert doc["runs"][0]["performance"]["state"] == "measured"
    assert "bench: measured: 61 measured" in res.stdout
    md = (tmp_path / "out" / "report.md").read_text()
    assert "## Fault-path performance" in md
    assert "bench" not in (tmp_path / "out" / "junit.xml").read_text()


@pytest.mark.parametrize("end", [
    {"exit": None, "signal": 9, "timed_out": True},    # hung: the runner's limit
    {"exit": None, "signal": 11},                      # crashed
    {"exit": 1},                                       # a measurement failed
])
def test_bad_benchmark_leaves_the_verdicts(tmp_path: Path, end: dict) -> None:
    res_bad, bad, _ = run_with(tmp_path / "bad", stream(end=end), "--bench")
    plain = stream().replace(', "bench": "/b/uffd-bench"', "")
    plain = "\n".join(ln for ln in plain.splitlines()
                      if not ln.startswith(("@@faultline bench", "{"))) + "\n"
    res_ok, ok, argv = run_with(tmp_path / "ok", plain)
    assert "--bench" not in argv
    assert res_bad.returncode == res_ok.returncode
    assert verdicts(bad) == verdicts(ok)
    assert bad["runs"][0]["notes"] == ok["runs"][0]["notes"]
    assert bad["runs"][0]["performance"]["state"] != "measured"
    assert "performance" not in ok["runs"][0]


def test_vm_carries_the_benchmark(tmp_path: Path) -> None:
    from kernels import initramfs_files, qemu
    static = tmp_path / "build-static"
    (static / "cases").mkdir(parents=True)
    for name in ("faultline-runner", "uffd-probe", "uffd-bench", "cases/copy"):
        (static / name).write_text("x")
        (static / name).chmod(0o755)
    _, files = initramfs_files(static)
    assert {"uffd-bench", "uffd-probe", "cases/copy"} <= set(files)
    line = qemu.kernel_cmdline([("bench", "uffd-bench")])
    assert line.endswith(" faultline.bench=uffd-bench")


def cpuinfo(tmp: Path, flags: str, mhz: str = "2596.136") -> Path:
    p = tmp / "cpuinfo"
    p.write_text(f"processor\t: 0\ncpu MHz\t\t: {mhz}\nflags\t\t: fpu {flags} sse\n\n"
                 f"processor\t: 1\ncpu MHz\t\t: 1.0\n")
    return p


def test_host_tsc_rate(tmp_path: Path) -> None:
    from kernels.qemu import host_tsc_khz
    none = str(tmp_path / "no-cpufreq")
    good = cpuinfo(tmp_path, "tsc constant_tsc nonstop_tsc")
    assert host_tsc_khz(str(good), none) == 2596136
    # frequency scaling: cpu MHz is the current clock, not the TSC's
    (tmp_path / "cpufreq").mkdir()
    assert host_tsc_khz(str(good), str(tmp_path / "cpufreq")) is None
    assert host_tsc_khz(str(cpuinfo(tmp_path, "tsc constant_tsc")), none) is None
    assert host_tsc_khz(str(tmp_path / "missing"), none) is None


def test_guest_clock_words(monkeypatch: pytest.MonkeyPatch) -> None:
    from kernels import qemu
    monkeypatch.setattr(qemu, "host_tsc_khz", lambda: 2596136)
    monkeypatch.setattr(qemu.archmod, "host_arch", lambda: "amd64")
    assert qemu.guest_clock_words("amd64", "tcg") == ["tsc_early_khz=2596136"]
    assert qemu.guest_clock_words("amd64", "kvm") == []      # kvm-clock
    assert qemu.guest_clock_words("arm64", "tcg") == []
    monkeypatch.setattr(qemu, "host_tsc_khz", lambda: None)
    assert qemu.guest_clock_words("amd64", "tcg") == []
    line = qemu.kernel_cmdline([("timeout", "5")], "amd64", ["tsc_early_khz=1"])
    assert line == qemu.CMDLINE + " tsc_early_khz=1 faultline.timeout=5"
