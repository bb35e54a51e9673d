# SPDX-License-Identifier: GPL-2.0
"""make install: the installed faultline finds its binaries and data
through faultline_paths.py, writes results under the current directory (or
-o) and never into its install tree, and never runs make or apt; the
source checkout keeps its own layout.
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

import reports_util  # noqa: F401  (the tree on sys.path)
import faultline_paths
from conftest import BUILD, ROOT


@pytest.fixture(scope="module")
def prefix(build_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A working install under a private prefix (no DESTDIR: it runs)."""
    prefix = tmp_path_factory.mktemp("prefix")
    proc = subprocess.run(["make", "-s", "-C", str(ROOT), f"O={BUILD}", f"PREFIX={prefix}",
                           "STATIC_O=" + str(prefix / "no-static-build"), "install"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return prefix


def tree(root: Path) -> dict[str, float]:
    return {str(p.relative_to(root)): p.stat().st_mtime for p in root.rglob("*")}


def tripwires(bin_dir: Path) -> Path:
    """make, apt-get and scripts that would install: each leaves a note."""
    bin_dir.mkdir()
    for cmd in ("make", "apt-get", "apt", "dpkg"):
        (bin_dir / cmd).write_text(f"#!/bin/sh\necho {cmd} \"$@\" >> {bin_dir}/called\nexit 1\n")
        (bin_dir / cmd).chmod(0o755)
    return bin_dir / "called"


def test_layout(prefix: Path, build_dir: Path) -> None:
    lib = prefix / "libexec/faultline"
    assert sorted(p.name for p in (lib / "cases").iterdir()) == \
        sorted(p.name for p in (build_dir / "cases").iterdir())
    assert os.access(lib / "faultline-runner", os.X_OK)
    assert (prefix / "bin/uffd-probe").resolve() == lib / "uffd-probe"
    assert not (lib / "static").exists()
    share = prefix / "share/faultline"
    assert json.loads((share / "faultline-install.json").read_text()) == {"libexecdir": str(lib)}
    for page in ("faultline.1", "uffd-probe.1"):
        assert (prefix / "share/man/man1" / page).read_text().startswith(".\\\" DO NOT MODIFY")
    paths = faultline_paths.layout(share, cwd=Path("/somewhere"))
    assert paths == faultline_paths.Layout(
        installed=True, command="faultline", build_dir=lib, static_build_dir=lib / "static",
        expectations=share / "expectations", results=Path("/somewhere/results"))


def test_checkout_layout() -> None:
    assert faultline_paths.layout() == faultline_paths.Layout(
        installed=False, command="./run.py", build_dir=ROOT / "build",
        static_build_dir=ROOT / "build-static",
        expectations=ROOT / "expectations", results=ROOT / "results")


def test_a_broken_marker_is_named(tmp_path: Path) -> None:
    (tmp_path / faultline_paths.MARKER).write_text("{}")
    with pytest.raises(RuntimeError, match="faultline-install.json"):
        faultline_paths.layout(tmp_path)


@pytest.mark.skipif(os.geteuid() != 0, reason="the host suite needs root")
def test_installed_run_writes_under_cwd_only(prefix: Path, tmp_path: Path) -> None:
    called = tripwires(tmp_path / "bin")
    work = tmp_path / "work"
    work.mkdir()
    before = tree(prefix)
    env = {**os.environ, "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}"}
    proc = subprocess.run([str(prefix / "bin/faultline")], cwd=work, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    assert not called.exists(), called.read_text()
    (out,) = (work / "results").iterdir()
    assert {"report.json", "report.md", "report.html", "junit.xml", "host.stream"} <= \
        {p.name for p in out.iterdir()}
    report = json.loads((out / "report.json").read_text())
    assert report["totals"]["pass"] > 100, report["totals"]
    assert tree(prefix) == before, "the run wrote into its install tree"


def test_installed_report_subcommand(prefix: Path, tmp_path: Path) -> None:
    proc = subprocess.run([str(prefix / "bin/faultline"), "report", "-h"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "merge" in proc.stdout
    proc = subprocess.run([str(prefix / "bin/uffd-probe"), "--version"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    assert (ROOT / "VERSION").read_text().strip() in proc.stdout
