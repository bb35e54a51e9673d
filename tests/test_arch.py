# SPDX-License-Identifier: GPL-2.0
"""Other architectures without booting anything: the architecture table,
boot Images, QEMU command lines, what the archive has, cross builds."""
from __future__ import annotations

import contextlib
import gzip
import struct
import subprocess
from pathlib import Path
from typing import Iterator

import pytest

from reports_util import ROOT

from kernels import arch, available, qemu
from kernels.image import ImageError, boot_image_bytes, image_arch, raw_image_arch
from kernels.spec import SpecError, parse_spec


def raw_image(magic_at: int, magic: bytes, size: int = 4096) -> bytes:
    data = bytearray(size)
    data[magic_at:magic_at + len(magic)] = magic
    data[200:230] = b"Linux version 9.9.9-test (x@y)"
    return bytes(data)


ARM64_IMAGE = raw_image(56, b"ARM\x64")
RISCV_IMAGE = raw_image(56, b"RSC\x05")


def test_flavour_names_the_architecture() -> None:
    assert arch.of_flavour("cloud-arm64").name == "arm64"
    assert arch.of_flavour("rt-amd64").name == "amd64"
    assert arch.of_flavour("riscv64").name == "riscv64"
    assert arch.of_flavour("arm64-16k").name == "arm64"
    assert arch.of_flavour("686-pae") is None and arch.of_flavour("armmp") is None


def test_static_build_dir_per_architecture() -> None:
    base = Path("/x/build-static")
    assert arch.static_build_dir(base, arch.host_arch()) == base
    other = "arm64" if arch.host_arch() != "arm64" else "riscv64"
    assert arch.static_build_dir(base, other) == Path(f"/x/build-static-{other}")


@pytest.mark.parametrize("data,want", [
    (ARM64_IMAGE, "arm64"), (RISCV_IMAGE, "riscv64"),
    (raw_image(48, b"RISCV\0\0\0"), "riscv64"),
    (gzip.compress(ARM64_IMAGE), "arm64"),
    (b"\x7fELF\x02\x01\x01" + bytes(11) + struct.pack("<H", 183) + bytes(40), "arm64"),
    (b"\x7fELF\x02\x01\x01" + bytes(11) + struct.pack("<H", 62) + bytes(40), "amd64"),
    (b"\x7fELF\x02\x01\x01" + bytes(11) + struct.pack("<H", 21) + bytes(40),
     "ELF machine 21"),
    (bytes(4096), None),
])
def test_image_arch(data: bytes, want: str | None) -> None:
    assert image_arch(data) == want


def test_boot_image_raw_gzip_and_wrong_arch() -> None:
    assert boot_image_bytes(ARM64_IMAGE, "arm64") == (ARM64_IMAGE, "none")
    # An EFI zboot or Image.gz: the compressed Image somewhere inside.
    wrapped = b"MZ\0\0zimg" + bytes(100) + gzip.compress(RISCV_IMAGE) + bytes(64)
    assert boot_image_bytes(wrapped, "riscv64") == (RISCV_IMAGE, "gzip")
    with pytest.raises(ImageError, match="no arm64 boot Image"):
        boot_image_bytes(RISCV_IMAGE, "arm64")
    assert raw_image_arch(bytes(64)) is None


def test_qemu_argv_per_architecture() -> None:
    k, i = Path("/k"), Path("/i")
    x86 = qemu.qemu_argv("q", k, i, "tcg")
    assert "isa-debug-exit,iobase=0xf4,iosize=0x04" in x86 and "-bios" not in x86
    assert x86[x86.index("-append") + 1].startswith("console=ttyS0 ")
    a64 = qemu.qemu_argv("q", k, i, "tcg", arch="arm64")
    assert a64[1:5] == ["-machine", "virt", "-cpu", "cortex-a57"]
    assert "isa-debug-exit,iobase=0xf4,iosize=0x04" not in a64
    cmd = a64[a64.index("-append") + 1]
    assert "console=ttyAMA0" in cmd and "nokaslr" in cmd and "i8042" not in cmd
    rv = qemu.qemu_argv("q", k, i, "tcg", arch="riscv64")
    assert rv[rv.index("-bios") + 1].endswith("fw_dynamic.bin")
    assert "console=ttyS0" in rv[rv.index("-append") + 1]


def test_foreign_architecture_is_never_kvm(tmp_path: Path) -> None:
    other = "riscv64" if arch.host_arch() != "riscv64" else "arm64"
    accel, why = qemu.pick_accel(tmp_path, "qemu", other)
    assert accel == "tcg" and "emulated" in why


# ---- what the archive has (a stand-in apt: no network) -----------------------

class FakeApt:
    def __init__(self, root: Path, names: list[str], arches: str):
        self.root = root
        (root / "lists").mkdir(parents=True)
        (root / "lists" / "m_debian_dists_bookworm_InRelease").write_text(
            f"Origin: Debian\nArchitectures: {arches}\n")
        self.names = names

    def run(self, tool: str, *args: str) -> str:
        assert (tool, args) == ("apt-cache", ("pkgnames", "linux-image-"))
        return "\n".join(self.names) + "\n"


ARCHIVE = {
    ("bookworm", "riscv64"): [],
    ("bookworm", "arm64"): ["linux-image-arm64", "linux-image-cloud-arm64",
                            "linux-image-cloud-arm64-dbg", "linux-image-rt-arm64",
                            "linux-image-6.1.0-28-cloud-arm64",
                            "linux-image-6.1.0-28-cloud-arm64-unsigned",
                            "linux-image-arm64-signed-template"],
    ("trixie", "riscv64"): ["linux-image-riscv64", "linux-image-6.12.9-riscv64"],
    ("sid", "riscv64"): ["linux-image-riscv64"],
}


@pytest.fixture
def fake_archive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    asked: list[tuple] = []

    @contextlib.contextmanager
    def suite_apt(cache_dir: Path, suite: str, a: str, archive: object, log: object,
                  who: str) -> Iterator[FakeApt]:
        asked.append((suite, a))
        yield FakeApt(tmp_path / "apt" / f"{suite}-{a}", ARCHIVE.get((suite, a), []),
                      "all amd64 arm64" if suite == "bookworm" else "all amd64 riscv64")
    monkeypatch.setattr(available, "suite_apt", suite_apt)
    etc = tmp_path / "etc"
    (etc / "sources.list.d").mkdir(parents=True)
    (etc / "sources.list").write_text("deb http://archive.example/debian bookworm main\n")
    monkeypatch.setattr(available, "_cached", lambda spec, cache: spec.suite == "bullseye")
    return asked


def check(tmp_path: Path, *texts: str) -> None:
    available.check([parse_spec(t) for t in texts], tmp_path, lambda m: None,
                    apt_etc=tmp_path / "etc")


def test_archive_flavours(fake_archive: list, tmp_path: Path) -> None:
    check(tmp_path, "debian:bookworm:cloud-arm64", "debian:trixie:riscv64")
    assert fake_archive == [("bookworm", "arm64"), ("trixie", "riscv64")]


def test_archive_refuses_suite_without_the_architecture(fake_archive: list,
                                                         tmp_path: Path) -> None:
    with pytest.raises(SpecError) as e:
        check(tmp_path, "debian:bookworm:riscv64")
    msg = str(e.value)
    assert "no linux-image-riscv64 in bookworm" in msg
    assert "bookworm carries no riscv64 packages, only amd64, arm64" in msg
    assert "Available: debian:trixie:riscv64, debian:sid:riscv64" in msg


def test_archive_refuses_unknown_flavour_listing_the_real_ones(fake_archive: list,
                                                                tmp_path: Path) -> None:
    with pytest.raises(SpecError) as e:
        check(tmp_path, "debian:bookworm:arm64-16k")
    assert "bookworm's arm64 flavours: arm64, cloud-arm64, rt-arm64)" in str(e.value)


def test_archive_not_asked_for_cached_kernels(fake_archive: list, tmp_path: Path) -> None:
    check(tmp_path, "debian:bullseye:riscv64")      # "cached" by the fixture
    assert fake_archive == []


def test_unknown_architecture_is_a_spec_error() -> None:
    with pytest.raises(SpecError, match="names no architecture"):
        parse_spec("debian:sid:s390x")


# ---- cross builds -------------------------------------------------------------

def test_make_refuses_an_unknown_arch() -> None:
    r = subprocess.run(["make", "-s", "-C", str(ROOT), "-n", "ARCH=sparc64"],
                       capture_output=True, text=True)
    assert r.returncode != 0 and "cross-builds for amd64, arm64, riscv64" in r.stderr


@pytest.mark.parametrize("name,cc", [("arm64", "aarch64-linux-gnu-gcc"),
                                     ("aarch64", "aarch64-linux-gnu-gcc"),
                                     ("riscv", "riscv64-linux-gnu-gcc")])
def test_make_cross_uses_the_target_compiler(name: str, cc: str) -> None:
    """Debian's names and the kernel's (an ARCH exported for kernel builds)."""
    r = subprocess.run(["make", "-s", "-C", str(ROOT), "-n", "-B", f"ARCH={name}",
                        "O=/nonexistent-fl-cross", "/nonexistent-fl-cross/harness/mem.o"],
                       capture_output=True, text=True)
    assert cc in r.stdout, r.stdout + r.stderr


def test_deps_groups_for_architectures() -> None:
    r = subprocess.run([str(ROOT / "scripts/deps.sh"), "mips"], capture_output=True,
                       text=True)
    assert r.returncode == 2 and "arm64, riscv64" in r.stderr


# ---- expectations scoped by architecture ---------------------------------------

def test_expectation_arch_key(tmp_path: Path) -> None:
    from reports import expectations as expect
    from reports.model import Point, Run, Binary
    f = tmp_path / "e.yaml"
    f.write_text('expectations:\n'
                 '  - id: "wp.*"\n    arch: arm64\n    kernel: "<6.10"\n'
                 '    reason: "no uffd-wp on arm64 before 6.10"\n')
    [e] = expect.load(f)
    assert e.as_dict()["arch"] == "arm64"

    def run(machine: str | None, release: str = "6.1.0-28-cloud-arm64") -> Run:
        r = Run(target="debian:bookworm:cloud-arm64",
                kernel={"release": release, "machine": machine})
        r.binaries = [Binary(name="wp", points=[Point(id="wp.anon.x", status="fail",
                                                      reason="EINVAL")])]
        return r
    assert e.matches(run("aarch64"), "wp.anon.x")
    assert not e.matches(run("x86_64"), "wp.anon.x")
    assert not e.matches(run(None), "wp.anon.x")        # unknown machine
    assert not e.matches(run("aarch64", "6.12.0"), "wp.anon.x")
    r = run("aarch64")
    assert expect.apply(r, [e]) == 1 and r.points[0].status == "xfail"
    f.write_text('expectations:\n  - id: x\n    arch: [1]\n    reason: r\n')
    with pytest.raises(expect.ExpectationError, match="'arch' must be"):
        expect.load(f)


def test_matrix_of_several_architectures_names_them() -> None:
    from reports.document import build_document, build_matrix
    from reports.render_markdown import render_markdown
    from reports.stream import parse_stream
    from reports_util import DATA
    text = (DATA / "bookworm.stream").read_text()
    x86 = parse_stream(text)
    arm = parse_stream(text.replace('"machine":"x86_64"', '"machine":"aarch64"'))
    arm.target = "debian:bookworm:cloud-arm64"
    doc = build_document([x86, arm])
    assert x86.label.endswith("[x86_64]") and arm.label.endswith("[aarch64]")
    m = build_matrix([x86, arm])
    seen = [v for v in m.first_seen.values() if v]
    assert seen and all(v.startswith("x86_64: ") and ", aarch64: " in v for v in seen)
    assert "[aarch64]" in render_markdown(doc, [x86, arm])
    build_document([x86])
    assert "[" not in x86.label          # one architecture: labels as before


def test_user_image_of_another_architecture_is_refused(tmp_path: Path) -> None:
    from kernels.boot import local_kernel
    ppc = tmp_path / "vmlinux"
    ppc.write_bytes(b"\x7fELF\x02\x01\x01" + bytes(11) + struct.pack("<H", 21) + bytes(40))
    with pytest.raises(ImageError, match="ELF machine 21 kernel; faultline boots"):
        local_kernel(parse_spec(str(ppc)), tmp_path / "cache")
    mine = tmp_path / "Image"
    mine.write_bytes(ARM64_IMAGE)
    meta = local_kernel(parse_spec(str(mine)), tmp_path / "cache")
    assert meta["arch"] == "arm64" and Path(meta["vmlinux"]).read_bytes() == ARM64_IMAGE


def test_spec_arches(tmp_path: Path) -> None:
    from kernels import spec_arches
    mine, ppc = tmp_path / "Image", tmp_path / "vmlinux"
    mine.write_bytes(gzip.compress(RISCV_IMAGE))
    ppc.write_bytes(b"\x7fELF\x02\x01\x01" + bytes(11) + struct.pack("<H", 21) + bytes(40))
    assert spec_arches(["debian:sid", "debian:trixie:cloud-arm64", str(mine), str(ppc)]) == {
        "debian:sid": "amd64", "debian:trixie:cloud-arm64": "arm64", str(mine): "riscv64"}
