# SPDX-License-Identifier: GPL-2.0
"""run.py with several kernels: the kernels package is replaced by a
stand-in returning recorded streams, so only the orchestration is tested."""
from __future__ import annotations

import importlib.util
import json
import sys
import types
from pathlib import Path
from typing import Any, Callable

import pytest

from reports_util import DATA, ROOT, validate

from test_run import fake_build

from kernels import KernelResult


def load_run_py() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("faultline_run", ROOT / "run.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def stand_in_kernels(monkeypatch: pytest.MonkeyPatch,
                     run_kernels: Callable[..., list[KernelResult]],
                     parse_spec: Callable[[str], Any] = lambda text: text,
                     check_available: Callable[..., None] = lambda *a: None,
                     stop: Callable[[], Any] = lambda: None) -> None:
    """A kernels package for run.py with the given run_kernels(): the rest
    of its interface (spec checks, the archive check, stop()) as given or
    doing nothing."""
    mod = types.ModuleType("kernels")
    mod.run_kernels = run_kernels           # type: ignore[attr-defined]
    mod.parse_spec = parse_spec             # type: ignore[attr-defined]
    mod.check_available = check_available   # type: ignore[attr-defined]
    mod.stop = stop                         # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "kernels", mod)


@pytest.fixture
def fake_kernels(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    calls: dict[str, Any] = {}
    streams = {"debian:bookworm": ("bookworm", None),
               "debian:trixie": ("truncated", "kernel panic after 3.2 s; last "
                                 "console lines: Kernel panic - not syncing"),
               "debian:sid": ("empty", "never reached /init (2 attempts)")}

    def parse_spec(text: str) -> str:
        if text not in streams:
            raise ValueError(f"bad kernel spec {text!r}")
        return text

    def run_kernels(specs: list[str], *, static_build_dir: Path,
                    cache_dir: Path, jobs: int, timeout_s: int,
                    log: Callable[[str], None],
                    runner_options: list[tuple[str, str]],
                    console: Callable[[str], Callable[[bytes], None]] | None = None
                    ) -> list[KernelResult]:
        calls.update(specs=specs, jobs=jobs, timeout_s=timeout_s,
                     static=static_build_dir, runner_options=runner_options)
        log("booting " + " ".join(specs))
        out = []
        for s in specs:
            name, err = streams[s]
            text = (DATA / f"{name}.stream").read_text()
            if console is not None:     # as QEMU gives it: cut anywhere
                feed = console(s)
                data = text.encode()
                for i in range(0, len(data), 97):
                    feed(data[i:i + 97])
            out.append(KernelResult(s, text, err,
                                  {"package": f"linux-image-{s}", "accel": "kvm",
                                   "image": Path("/cache/vmlinux")}))
        return out
    def check_available(specs: list[str], cache_dir: Path,
                        log: Callable[[str], None]) -> None:
        for s in specs:
            if s.endswith(":riscv64"):
                raise ValueError(f"kernel spec {s!r}: the archive has no "
                                 f"linux-image-riscv64 in bookworm")
    stand_in_kernels(monkeypatch, run_kernels, parse_spec, check_available,
                     stop=lambda: calls.setdefault("stopped", True))
    streams["debian:bookworm:riscv64"] = ("bookworm", None)
    return calls


def test_matrix_of_host_and_kernels(tmp_path: Path, fake_kernels: dict[str, Any],
                                    capsys: pytest.CaptureFixture[str]) -> None:
    build = fake_build(tmp_path, "host")
    out = tmp_path / "out"
    rc = load_run_py().main(["--no-build", "--build-dir", str(build), "-o", str(out),
                             "--static-build-dir", str(build), "--timeout", "7",
                             "-j", "2", "--kernel-timeout", "90",
                             "--expectations", str(DATA / "expectations.yaml"),
                             "--kernel", "debian:bookworm", "--kernel", "host",
                             "--kernel", "debian:trixie", "--kernel", "debian:sid"])
    text = capsys.readouterr().out
    assert rc == 2, text        # sid never booted: the run could not be done
    assert fake_kernels["specs"] == ["debian:bookworm", "debian:trixie", "debian:sid"]
    assert fake_kernels["jobs"] == 2 and fake_kernels["timeout_s"] == 90
    assert fake_kernels["static"] == build
    # The same option builder as the host's runner argv (--timeout=7).
    assert fake_kernels["runner_options"] == [("timeout", "7")]
    doc = json.loads((out / "report.json").read_text())
    validate(doc)
    runs = doc["runs"]
    assert [r["target"] for r in runs] == ["debian:bookworm", "host",
                                          "debian:trixie", "debian:sid"]
    assert [r["stream_state"] for r in runs] == ["complete", "complete",
                                                "truncated", "error"]
    assert runs[0]["info"]["accel"] == "kvm" and runs[0]["info"]["image"] == "/cache/vmlinux"
    assert runs[2]["cause"].startswith("kernel panic after 3.2 s")
    assert runs[3]["cause"] == "never reached /init (2 attempts)"
    sid = {p["id"]: p["status"] for b in runs[3]["binaries"] for p in b["points"]}
    assert sid == {"copy": "notrun", "errno": "notrun"}
    for f in ("debian_bookworm.stream", "debian_trixie.stream", "host.stream"):
        assert (out / f).is_file()
    assert not list(out.glob("*.meta.json"))
    # The saved streams carry everything: rendering them gives the same runs.
    from reports.cli import report_main
    streams = [out / f"{n}.stream" for n in ("debian_bookworm", "host",
                                              "debian_trixie", "debian_sid")]
    assert report_main(["render", *map(str, streams), "-o", str(tmp_path / "again"),
                        "--expectations", str(DATA / "expectations.yaml")]) == 2
    again = json.loads((tmp_path / "again" / "report.json").read_text())
    assert again["runs"] == runs
    md = (out / "report.md").read_text()
    assert "| feature | 6.1 | 6.18 | 6.12 | debian:sid | first seen |" in md
    assert "6.1 = 6.1.0-28-cloud-amd64 (debian:bookworm); 6.18 = 6.18.44-amd64;" in md
    assert "never reached /init" in text and "booting debian:bookworm" in text
    # Each VM's progress, binary by binary, from its console as it arrives.
    vm = [ln for ln in text.splitlines() if ln.startswith("debian:bookworm [")]
    # (this recorded stream's run frame does not say how many binaries)
    assert vm[0].startswith("debian:bookworm [1/? binaries, 6 points so far] copy: ")
    assert vm[1].startswith("debian:bookworm [2/? binaries, ") and len(vm) == 2


def test_bad_spec_fails_before_any_work(tmp_path: Path, fake_kernels: dict[str, Any],
                                        capsys: pytest.CaptureFixture[str]) -> None:
    build = fake_build(tmp_path, "host")
    rc = load_run_py().main(["--no-build", "--build-dir", str(build), "-o",
                             str(tmp_path / "out"), "--kernel", "debian:hurd"])
    assert rc == 2 and "bad kernel spec 'debian:hurd'" in capsys.readouterr().err
    assert not fake_kernels and not (tmp_path / "out").exists()


def test_kernel_the_archive_lacks_fails_before_any_work(
        tmp_path: Path, fake_kernels: dict[str, Any],
        capsys: pytest.CaptureFixture[str]) -> None:
    build = fake_build(tmp_path, "host")
    rc = load_run_py().main(["--no-build", "--build-dir", str(build), "-o",
                             str(tmp_path / "out"), "--kernel", "host",
                             "--kernel", "debian:bookworm:riscv64"])
    assert rc == 2 and "no linux-image-riscv64 in bookworm" in capsys.readouterr().err
    assert not fake_kernels and not (tmp_path / "out").exists()
