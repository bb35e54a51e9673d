# SPDX-License-Identifier: GPL-2.0
"""An arm64 kernel from the archive booted under QEMU's `virt`, with the
cross-built static runner: the other-architecture path end to end. Skipped
(like tests/test_kernels_vm.py) when the archive cannot be reached."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from kernels import KernelResult, run_kernels
from kernels.boot import boot_kernel
from kernels.debian import FetchError, fetch_debian
from kernels.initramfs import build_initramfs
from kernels.spec import parse_spec

from test_kernels_vm import CACHE, ROOT, qemu_children

SPEC = "debian:bookworm:cloud-arm64"


@pytest.fixture(scope="module")
def arm64_tools() -> None:
    """Cross compiler, arm64 libraries and QEMU, installed the project's way."""
    if not (shutil.which("qemu-system-aarch64") and shutil.which("aarch64-linux-gnu-gcc")):
        subprocess.run([str(ROOT / "scripts/deps.sh"), "arm64"], check=False)
    if not shutil.which("qemu-system-aarch64"):
        pytest.skip("qemu-system-aarch64 not installed (scripts/deps.sh arm64, as root)")


@pytest.fixture(scope="module")
def arm64_kernel(arm64_tools: None) -> dict:
    try:
        return fetch_debian(parse_spec(SPEC), CACHE / "kernels", lambda m: None)
    except FetchError as e:
        pytest.skip(f"Debian archive unreachable: {e}")


@pytest.fixture(scope="module")
def arm64_static(arm64_tools: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The cross-built runner and probe with two cases: api, and wp (whose
    points must all skip on 6.1 arm64, which has no write-protect)."""
    built = ROOT / "build-static-arm64"
    subprocess.run(["make", "-s", "-C", str(ROOT), "ARCH=arm64", "STATIC=1",
                    f"O={built}"], check=True)
    d = tmp_path_factory.mktemp("static-arm64")
    (d / "cases").mkdir()
    for name in ("faultline-runner", "uffd-probe", "cases/api", "cases/wp"):
        (d / name).symlink_to(built / name)
    return d


def test_arm64_kernel_is_a_raw_image(arm64_kernel: dict) -> None:
    image = Path(arm64_kernel["vmlinux"]).read_bytes()
    assert image[56:60] == b"ARM\x64" and arm64_kernel["arch"] == "arm64"
    assert arm64_kernel["package"].startswith("linux-image-6.1.")


def test_boot_arm64(arm64_kernel: dict, arm64_static: Path, tmp_path: Path) -> None:
    # run_kernels takes the host's static dir and finds arm64's beside it.
    host_static = tmp_path / "build-static"
    (tmp_path / "build-static-arm64").symlink_to(arm64_static)
    [r] = run_kernels([SPEC], static_build_dir=host_static,
                      cache_dir=CACHE, jobs=1, timeout_s=300, log=lambda m: None)
    assert r.error is None, r.error
    assert r.info["arch"] == "arm64" and r.info["accel"] == "tcg"
    assert r.info["machine"] == "virt" and r.info["attempts"] == 1
    # PSCI power-off: QEMU exits 0 whatever the run's status; the stream
    # carries the status.
    assert r.info["qemu_exit"] == 0 and "@@faultline run-end" in r.stream
    lines = r.stream.splitlines()
    start = lines.index("@@faultline probe-begin") + 1
    probe = json.loads(next(ln for ln in lines[start:] if ln.strip()))
    assert probe["kernel"]["machine"] == "aarch64"
    # 6.1 arm64: everything up to EXACT_ADDRESS except write-protect.
    assert probe["api"]["features"] == 0xffe
    anon_wp = next(e for e in probe["register"] if e["mem"] == "anon" and e["mode"] == "WP")
    assert (anon_wp["status"], anon_wp["errno"]) == ("no", "EINVAL")
    # Why, from the kernel's own config (/boot/config-<release> in the VM).
    assert anon_wp["reason"].startswith("kernel does not report "
                                        "UFFD_FEATURE_PAGEFAULT_FLAG_WP"), anon_wp
    assert "built without CONFIG_HAVE_ARCH_USERFAULTFD_WP" in anon_wp["reason"]
    wp = [ln for ln in lines if ln.startswith(("ok ", "not ok ")) and " wp." in ln]
    assert wp and all("# SKIP kernel does not report UFFD_FEATURE_PAGEFAULT_FLAG_WP" in ln
                      for ln in wp), wp[:3]
    assert any(ln.startswith("ok ") and " api." in ln and "SKIP" not in ln for ln in lines)


def test_arm64_panic_before_init_is_retried_and_reaped(arm64_kernel: dict,
                                                       arm64_static: Path,
                                                       tmp_path: Path) -> None:
    init = arm64_static / "faultline-runner"
    noinit = build_initramfs(tmp_path / "n.cpio", init, {})
    noinit.write_bytes(noinit.read_bytes().replace(b"init\0", b"tini\0"))
    r = KernelResult(SPEC)
    boot_kernel(parse_spec(SPEC), r, initrd=lambda arch: noinit, cache_dir=CACHE,
                timeout_s=60, log=lambda m: None)
    assert r.error and r.error.startswith("kernel panic before /init"), r.error
    assert r.info["attempts"] == 3 and len(r.error.splitlines()) > 2
    assert qemu_children() == []


def test_archive_refuses_bookworm_riscv64() -> None:
    """The real archive: bookworm carries no riscv64, trixie and sid do."""
    from kernels import aptsrc, available
    from kernels.spec import SpecError
    try:
        archive = aptsrc.find_archive(aptsrc.machine_entries())
    except aptsrc.AptConfigError as e:
        pytest.skip(str(e))
    lookup = available._Lookup(CACHE / "kernels", archive, lambda m: None)
    if lookup.flavours("trixie", "riscv64") is None:
        pytest.skip("Debian archive unreachable")
    with pytest.raises(SpecError) as e:
        available.check([parse_spec("debian:bookworm:riscv64")], CACHE / "kernels",
                        lambda m: None)
    msg = str(e.value)
    assert "bookworm carries no riscv64 packages" in msg, msg
    assert "debian:trixie:riscv64" in msg and "debian:sid:riscv64" in msg
