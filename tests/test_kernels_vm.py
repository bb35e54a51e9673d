# SPDX-License-Identifier: GPL-2.0
"""kernels/ against the real thing: a Debian kernel from the archive (cached
in ~/.cache/faultline), its vmlinux, and boots under QEMU."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from test_access_util import descendants

from kernels import KernelResult, run_kernels
from kernels.boot import boot_kernel
from kernels.debian import FetchError, fetch_debian
from kernels.image import has_pvh_note, vmlinux_bytes
from kernels.initramfs import build_initramfs
from kernels.spec import parse_spec

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("FAULTLINE_CACHE",
                            Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
                            / "faultline"))


@pytest.fixture(scope="session")
def vm_deps() -> None:
    """QEMU, zstd, lz4, installed the project's way (as make check does for
    its own dependencies): scripts/deps.sh vm, which installs as root."""
    if not all(shutil.which(p) for p in ("qemu-system-x86_64", "zstd", "lz4")):
        subprocess.run([str(ROOT / "scripts/deps.sh"), "vm"], check=False)


@pytest.fixture(scope="session")
def qemu_ready(vm_deps: None) -> None:
    if not shutil.which("qemu-system-x86_64"):
        pytest.skip("qemu-system-x86_64 not installed (scripts/deps.sh vm, as root)")


needs_qemu = pytest.mark.usefixtures("qemu_ready")


@pytest.fixture(scope="module")
def bookworm(vm_deps: None) -> dict:
    try:
        return fetch_debian(parse_spec("debian:bookworm"), CACHE / "kernels", lambda m: None)
    except FetchError as e:
        pytest.skip(f"Debian archive unreachable: {e}")


@pytest.fixture(scope="module")
def fake_static(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A static dir whose 'runner' is the tiny stand-in /init."""
    d = tmp_path_factory.mktemp("static")
    subprocess.run(["gcc", "-static", "-O2", "-Wall", "-Wextra", "-Werror", "-o",
                    str(d / "faultline-runner"), str(ROOT / "tests/fixtures/fake_init.c")],
                   check=True)
    return d


def test_real_image_extraction(bookworm: dict) -> None:
    vmlinuz, vmlinux = Path(bookworm["vmlinuz"]), Path(bookworm["vmlinux"])
    assert bookworm["package"].startswith("linux-image-6.1.")
    assert bookworm["version"].startswith("6.1.")
    data, kind = vmlinux_bytes(vmlinuz.read_bytes())
    assert kind == bookworm["compression"] and kind != "none"
    assert data[:4] == b"\x7fELF" and data == vmlinux.read_bytes()
    assert len(data) > 3 * vmlinuz.stat().st_size
    assert has_pvh_note(vmlinux)
    assert bookworm["config_facts"]["USERFAULTFD"] == "y"


def test_cache_hit_needs_no_network(bookworm: dict, tmp_path: Path) -> None:
    # An empty apt configuration: any attempt to reach the archive fails.
    meta = fetch_debian(parse_spec("debian:bookworm"), CACHE / "kernels",
                        lambda m: None, apt_etc=tmp_path)
    assert meta["cached"] and meta["version"] == bookworm["version"]


def real_static(tmp: Path) -> Path | None:
    """The real static runner, probe and two quick cases (the whole suite
    under TCG takes ~40 s; bench/kernels.sh times that)."""
    if not (ROOT / "runner/main.c").is_file():
        return None
    built = ROOT / "build-static"
    subprocess.run(["make", "-s", "-C", str(ROOT), "STATIC=1", f"O={built}"], check=True)
    (tmp / "cases").mkdir()
    for name in ("faultline-runner", "uffd-probe", "cases/api", "cases/seccomp"):
        if (built / name).is_file():
            (tmp / name).symlink_to(built / name)
    return tmp


@needs_qemu
def test_boot_bookworm_stream(bookworm: dict, fake_static: Path, tmp_path: Path) -> None:
    """One real boot end to end: the real static runner and probe when the
    tree has them (make STATIC=1), else the stand-in /init."""
    static = real_static(tmp_path) or fake_static
    logs: list[str] = []
    [r] = run_kernels(["debian:bookworm"], static_build_dir=static,
                      cache_dir=CACHE, jobs=1, timeout_s=300, log=logs.append)
    assert r.error is None, r.error
    lines = r.stream.splitlines()
    frames = [ln.split()[1] for ln in lines if ln.startswith("@@faultline ")]
    for kw in ("run", "probe-begin", "probe-end", "binary-begin", "binary-end", "run-end"):
        assert kw in frames, (kw, frames)
    run_line = next(ln for ln in lines if ln.startswith("@@faultline run "))
    assert '"6.1.0-' in run_line
    assert r.info["version"] == bookworm["version"] and r.info["attempts"] == 1
    assert r.info["accel"] in ("kvm", "tcg") and r.info["qemu_version"]
    start = lines.index("@@faultline probe-begin") + 1
    probe_line = next(ln for ln in lines[start:] if ln.strip())
    if static == fake_static:   # the stand-in prints the raw UFFDIO_API answer
        assert probe_line == '{"features":"0x1fff"}'
    else:                       # 6.1: every feature up to WP_HUGETLBFS_SHMEM
        assert json.loads(probe_line)["api"]["features"] == 0x1fff
        assert "@@faultline binary-begin" in r.stream and "\nok " in r.stream
        # The kernel's own config reached the probe (/boot/config-<release>).
        assert json.loads(probe_line)["config"], probe_line[:300]


@needs_qemu
def test_panic_and_missing_init(bookworm: dict, fake_static: Path, tmp_path: Path) -> None:
    init = fake_static / "faultline-runner"
    marker = tmp_path / "marker"
    marker.write_text("")
    # /init exits before run-end: PID 1 dies, the kernel panics mid-run.
    panics = build_initramfs(tmp_path / "p.cpio", init, {"fake-panic": marker})
    r = KernelResult("debian:bookworm")
    boot_kernel(parse_spec("debian:bookworm"), r, initrd=panics, cache_dir=CACHE,
                timeout_s=60, log=lambda m: None)
    assert r.error and r.error.startswith("kernel panic during the run"), r.error
    assert "Attempted to kill init" in r.error and r.info["attempts"] == 1
    assert "@@faultline binary-end" in r.stream    # what was collected is kept
    # No /init at all: never reached, retried twice.
    noinit = build_initramfs(tmp_path / "n.cpio", init, {})
    blob = noinit.read_bytes().replace(b"init\0", b"tini\0")
    noinit.write_bytes(blob)
    r = KernelResult("debian:bookworm")
    boot_kernel(parse_spec("debian:bookworm"), r, initrd=noinit, cache_dir=CACHE,
                timeout_s=60, log=lambda m: None)
    assert r.error and "before /init" in r.error, r.error
    assert r.info["attempts"] == 3
    assert len(r.error.splitlines()) > 2     # last console lines attached


@needs_qemu
def test_bad_kernel_does_not_hide_others(bookworm: dict, fake_static: Path,
                                          tmp_path: Path) -> None:
    junk = tmp_path / "bzImage"
    junk.write_bytes(b"\0" * 4096)
    # The same kernel given as a user's own image (vmlinuz + config).
    mine = f"{bookworm['vmlinuz']}:config={bookworm['config']}"
    specs = [str(junk), "debian:bookworm", mine]
    rs = run_kernels(specs, static_build_dir=fake_static,
                     cache_dir=CACHE, jobs=2, timeout_s=120, log=lambda m: None)
    assert [r.spec for r in rs] == specs
    assert rs[0].error and "could not get the kernel" in rs[0].error
    assert rs[1].error is None and "@@faultline run-end" in rs[1].stream
    assert rs[2].error is None and "@@faultline run-end" in rs[2].stream
    assert rs[2].info["config_facts"]["USERFAULTFD"] == "y"
    assert rs[2].info["compression"] in (bookworm["compression"], "cached")


def qemu_children() -> list[int]:
    """PIDs of qemu-system processes started by this process."""
    found = []
    for pid in descendants(os.getpid()):
        try:
            comm = Path(f"/proc/{pid}/comm").read_text()
        except OSError:
            continue
        if comm.startswith("qemu-system"):
            found.append(pid)
    return found


@needs_qemu
def test_hang_times_out_and_qemu_is_reaped(bookworm: dict, fake_static: Path,
                                           tmp_path: Path) -> None:
    static = tmp_path / "static"
    (static / "cases").mkdir(parents=True)
    (static / "faultline-runner").symlink_to(fake_static / "faultline-runner")
    hang = static / "cases" / "hang"
    hang.write_text("")
    hang.chmod(0o755)
    [r] = run_kernels(["debian:bookworm"], static_build_dir=static,
                      cache_dir=CACHE, jobs=1, timeout_s=8, log=lambda m: None)
    assert r.error and r.error.startswith("timeout: the run did not finish"), r.error
    assert r.info["attempts"] == 1          # reached /init: never retried
    assert "ok 1 fake.boot" in r.stream     # what was collected is kept
    assert qemu_children() == []


def test_unknown_flavour_is_explained(bookworm: dict) -> None:
    """A flavour the suite does not have: the error names the package."""
    with pytest.raises(FetchError, match="no kernel package linux-image-nosuch-amd64"):
        fetch_debian(parse_spec("debian:bookworm:nosuch-amd64"), CACHE / "kernels",
                     lambda m: None)


@needs_qemu
def test_one_kernel_panics_the_other_completes(bookworm: dict, fake_static: Path,
                                               tmp_path: Path) -> None:
    try:
        bullseye = fetch_debian(parse_spec("debian:bullseye"), CACHE / "kernels",
                                lambda m: None)
    except FetchError as e:
        pytest.skip(f"Debian archive unreachable: {e}")
    static = tmp_path / "static"
    (static / "cases").mkdir(parents=True)
    (static / "faultline-runner").symlink_to(fake_static / "faultline-runner")
    marker = static / "cases" / f"panic-on-{bookworm['release']}"
    marker.write_text("")
    marker.chmod(0o755)
    rs = run_kernels(["debian:bookworm", "debian:bullseye"],
                     static_build_dir=static, cache_dir=CACHE, jobs=2,
                     timeout_s=120, log=lambda m: None)
    assert rs[0].error and rs[0].error.startswith("kernel panic during the run")
    assert rs[0].info["attempts"] == 1
    assert rs[1].error is None, rs[1].error
    assert f'"release":"{bullseye["release"]}"' in rs[1].stream
    assert '{"features":"0x1ff"}' in rs[1].stream      # 5.10: up to THREAD_ID


@needs_qemu
def test_run_py_timeout_reaches_the_runner_in_a_vm(bookworm: dict,
                                                   tmp_path: Path) -> None:
    """./run.py --timeout 3 on a VM: the option goes through the kernel
    command line to the runner (PID 1), which ends a case binary sleeping
    20 s after about 3 s; the report calls the running point a timeout."""
    (tmp_path / "static").mkdir()
    static = real_static(tmp_path / "static")
    if static is None:
        pytest.skip("no runner in this tree")
    subprocess.run(["gcc", "-static", "-O2", "-Wall", "-Wextra", "-Werror", "-o",
                    str(static / "cases" / "sleepy"),
                    str(ROOT / "tests/fixtures/sleepy_case.c")], check=True)
    for name in ("api", "seccomp"):
        (static / "cases" / name).unlink()
    out = tmp_path / "out"
    res = subprocess.run(["/usr/bin/python3", str(ROOT / "run.py"), "--no-build",
                          "--kernel", "debian:bookworm", "--static-build-dir",
                          str(static), "--timeout", "3", "--kernel-timeout", "90",
                          "-o", str(out)], text=True, capture_output=True, timeout=200)
    assert res.returncode == 1, res.stdout + res.stderr
    (run,) = json.loads((out / "report.json").read_text())["runs"]
    assert run["target"] == "debian:bookworm" and run["stream_state"] == "complete"
    assert "faultline.timeout=3" in run["cmdline"] and run["header"]["timeout_s"] == 3
    (binary,) = run["binaries"]
    (point,) = binary["points"]
    assert (point["id"], point["status"]) == ("sleepy.none.sleeps", "timeout")
    assert binary["timed_out"] and 2900 <= binary["duration_ms"] <= 8000, binary
