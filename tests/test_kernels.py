# SPDX-License-Identifier: GPL-2.0
"""kernels/: spec parsing, apt sources derivation, newc writer, vmlinux
extraction (offline, on synthetic images)."""
from __future__ import annotations

import bz2
import gzip
import lzma
import shutil
import stat
import struct
import subprocess
from pathlib import Path

import pytest

from kernels import aptsrc
from kernels.image import ImageError, config_facts, vmlinux_bytes
from kernels.initramfs import (Entry, build_initramfs, newc_bytes, read_newc,
                               with_extra_files)
from kernels.spec import SpecError, parse_spec

ROOT = Path(__file__).resolve().parent.parent


# ---- specs -------------------------------------------------------------------

@pytest.mark.parametrize("text,suite,flavour,arch", [
    ("debian:bullseye", "bullseye", "cloud-amd64", "amd64"),
    ("debian:bookworm", "bookworm", "cloud-amd64", "amd64"),
    ("debian:trixie:amd64", "trixie", "amd64", "amd64"),
    ("debian:sid:rt-amd64", "sid", "rt-amd64", "amd64"),
    ("debian:unstable", "sid", "cloud-amd64", "amd64"),
    ("debian:bookworm:cloud-arm64", "bookworm", "cloud-arm64", "arm64"),
    ("debian:trixie:arm64", "trixie", "arm64", "arm64"),
    ("debian:sid:arm64-16k", "sid", "arm64-16k", "arm64"),
    ("debian:stable:riscv64", "trixie", "riscv64", "riscv64"),
    ("debian:sid:riscv64", "sid", "riscv64", "riscv64"),
])
def test_debian_specs(text: str, suite: str, flavour: str, arch: str) -> None:
    s = parse_spec(text)
    assert (s.kind, s.suite, s.flavour, s.text) == ("debian", suite, flavour, text)
    assert s.slug == f"{suite}-{flavour}"
    assert s.arch == arch


@pytest.mark.parametrize("text,needle", [
    ("", "empty"),
    ("host", "running kernel"),
    ("debian:", "expected debian:<suite>"),
    ("debian:jessie", "unknown Debian suite 'jessie'"),
    ("debian:bookworm:cloud-amd64:x", "expected debian:<suite>"),
    ("debian:bookworm:Bad Flavour", "bad flavour"),
    ("debian:bookworm:i386", "names no architecture faultline boots"),
    ("debian:sid:cloud-arm", "names no architecture faultline boots"),
    ("debian:trixie:riscv", "names no architecture faultline boots"),
    ("debian:sid:ppc64el", "amd64, arm64, riscv64"),
    ("debianbookworm", "expected debian:<suite>"),
    ("/nonexistent/bzImage", "no such kernel image"),
])
def test_bad_specs(text: str, needle: str) -> None:
    with pytest.raises(SpecError) as e:
        parse_spec(text)
    assert needle in str(e.value)


def test_path_spec_with_config(tmp_path: Path) -> None:
    img, cfg = tmp_path / "bzImage", tmp_path / "my.config"
    img.write_bytes(b"x")
    cfg.write_text("CONFIG_USERFAULTFD=y\n")
    s = parse_spec(f"{img}:config={cfg}")
    assert (s.kind, s.image, s.config) == ("path", img, cfg)
    assert parse_spec(str(img)).config is None
    other = tmp_path / "other"
    other.mkdir()
    (other / "bzImage").write_bytes(b"y")
    assert parse_spec(str(img)).slug != parse_spec(str(other / "bzImage")).slug
    with pytest.raises(SpecError, match="no such config"):
        parse_spec(f"{img}:config={tmp_path}/missing")
    assert config_facts(cfg)["USERFAULTFD"] == "y"
    assert config_facts(cfg)["HUGETLBFS"] == "n"


# ---- apt sources -------------------------------------------------------------

DEB822 = """\
Types: deb
# a comment
URIs: http://mirror.example.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://security.example.org/debian-security
Suites: bookworm-security
Components: main

Types: deb
Enabled: no
URIs: http://disabled.example.org/debian
Suites: bookworm
Components: main
"""

ONE_LINE = """\
# deb http://commented.example/debian bookworm main
deb [arch=amd64 signed-by=/etc/keys/k.gpg] https://m2.example.net/debian/ trixie main contrib
deb https://m2.example.net/debian-security trixie-security main
deb https://vendor.example/apt stable-vendor main
"""


def test_sources_from_deb822(tmp_path: Path) -> None:
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "debian.sources").write_text(DEB822)
    (tmp_path / "sources.list.d" / "x.list.disabled").write_text(
        "deb http://other.example/debian sid main\n")
    arch = aptsrc.find_archive(aptsrc.machine_entries(tmp_path))
    assert arch.uri == "http://mirror.example.org/debian"
    assert arch.security_uri == "http://security.example.org/debian-security"
    text = aptsrc.sources_for(arch, "bullseye")
    assert text.splitlines() == [
        f"deb [arch=amd64 signed-by={aptsrc.DEFAULT_KEYRING}] "
        "http://mirror.example.org/debian bullseye main",
        f"deb [arch=amd64 signed-by={aptsrc.DEFAULT_KEYRING}] "
        "http://mirror.example.org/debian bullseye-updates main",
        f"deb [arch=amd64 signed-by={aptsrc.DEFAULT_KEYRING}] "
        "http://security.example.org/debian-security bullseye-security main",
    ]
    # sid has no -updates or -security suites.
    assert aptsrc.sources_for(arch, "sid").count("\n") == 1
    assert "disabled.example" not in text and "other.example" not in text


def test_sources_from_one_line(tmp_path: Path) -> None:
    (tmp_path / "sources.list").write_text(ONE_LINE)
    arch = aptsrc.find_archive(aptsrc.machine_entries(tmp_path))
    assert arch.uri == "https://m2.example.net/debian"
    assert arch.security_uri == "https://m2.example.net/debian-security"
    assert arch.keyring == "/etc/keys/k.gpg"
    assert " https://m2.example.net/debian sid main" in aptsrc.sources_for(arch, "sid")


def test_sources_without_debian(tmp_path: Path) -> None:
    (tmp_path / "sources.list").write_text("deb https://vendor.example/apt stable-v main\n")
    with pytest.raises(aptsrc.AptConfigError, match="no Debian archive"):
        aptsrc.find_archive(aptsrc.machine_entries(tmp_path))


def test_no_mirror_host_in_code() -> None:
    """The mirror comes from the machine's apt config, never from our code."""
    for f in list((ROOT / "kernels").glob("*.py")) + [ROOT / "scripts" / "deps.sh"]:
        text = f.read_text()
        assert "debian.org" not in text, f


# ---- newc --------------------------------------------------------------------

def test_newc_round_trip(tmp_path: Path) -> None:
    init = tmp_path / "init"
    init.write_bytes(b"\x7fELF" + bytes(range(256)) * 3 + b"odd")
    dummy = tmp_path / "dummy"
    dummy.write_bytes(b"dummy")
    dummy.chmod(0o755)
    out = build_initramfs(tmp_path / "i.cpio", init, {"uffd-probe": dummy,
                                                      "cases/copy": dummy})
    entries = {e.name: e for e in read_newc(out.read_bytes())}
    assert entries["init"].data == init.read_bytes()
    assert stat.S_IMODE(entries["init"].mode) == 0o755
    assert entries["cases/copy"].data == b"dummy"
    assert stat.S_ISDIR(entries["cases"].mode)
    assert stat.S_ISCHR(entries["dev/console"].mode)
    assert entries["dev/console"].rdev == (5, 1)
    # Parents come before children (the kernel creates entries in order).
    names = list(entries)
    assert names.index("cases") < names.index("cases/copy")
    assert len(out.read_bytes()) % 4 == 0
    gz = build_initramfs(tmp_path / "i.cpio.gz", init, {}, compress=True)
    assert gz.read_bytes()[:2] == b"\x1f\x8b"
    assert read_newc(gz.read_bytes())[-1].data == init.read_bytes()


def test_newc_concatenated(tmp_path: Path) -> None:
    init = tmp_path / "init"
    init.write_bytes(b"init")
    base = build_initramfs(tmp_path / "base.cpio", init, {})
    out = with_extra_files(base, tmp_path / "k.cpio", {"boot/config-6.1.0-x": b"CONFIG_X=y\n"})
    assert out.read_bytes().startswith(base.read_bytes())
    entries = {e.name: e for e in read_newc(out.read_bytes())}
    assert entries["init"].data == b"init"
    assert entries["boot/config-6.1.0-x"].data == b"CONFIG_X=y\n"
    assert stat.S_ISDIR(entries["boot"].mode)


@pytest.mark.skipif(not shutil.which("cpio"), reason="cpio not installed")
def test_newc_readable_by_cpio(tmp_path: Path) -> None:
    blob = newc_bytes([Entry("a/b/c.txt", stat.S_IFREG | 0o644, b"hello\n"),
                       Entry("x", stat.S_IFREG | 0o600, b"")])
    p = subprocess.run(["cpio", "-t"], input=blob, capture_output=True, check=True)
    assert p.stdout.decode().split() == ["a", "a/b", "a/b/c.txt", "x"]
    dest = tmp_path / "x"
    dest.mkdir()
    subprocess.run(["cpio", "-id", "--quiet"], input=blob, cwd=dest, check=True)
    assert (dest / "a/b/c.txt").read_text() == "hello\n"


def test_newc_bad_magic() -> None:
    with pytest.raises(ValueError, match="magic"):
        read_newc(b"070707" + b"0" * 200)


# ---- vmlinux extraction (synthetic bzImage) ------------------------------------

def fake_bzimage(payload: bytes, setup_sects: int = 4) -> bytes:
    setup = bytearray((setup_sects + 1) * 512)
    setup[0x1f1] = setup_sects
    setup[0x202:0x206] = b"HdrS"
    struct.pack_into("<H", setup, 0x206, 0x20f)
    pm = b"\x90" * 64        # decompressor code stand-in
    struct.pack_into("<II", setup, 0x248, len(pm), len(payload))
    return bytes(setup) + pm + payload + b"\0" * 32


ELF = b"\x7fELF\x02\x01\x01" + b"kernel" * 2000


@pytest.mark.parametrize("kind,compress", [
    ("gzip", lambda b: gzip.compress(b) + struct.pack("<I", len(b))),
    ("xz", lambda b: lzma.compress(b, check=lzma.CHECK_CRC32) + struct.pack("<I", len(b))),
    ("bzip2", lambda b: bz2.compress(b) + struct.pack("<I", len(b))),
    ("lzma", lambda b: lzma.compress(b, format=lzma.FORMAT_ALONE) + struct.pack("<I", len(b))),
])
def test_vmlinux_from_bzimage(kind: str, compress) -> None:
    data, got = vmlinux_bytes(fake_bzimage(compress(ELF)))
    assert (data, got) == (ELF, kind)


@pytest.mark.skipif(not shutil.which("zstd"), reason="zstd not installed")
def test_vmlinux_from_zstd_bzimage() -> None:
    z = subprocess.run(["zstd", "-q", "-c"], input=ELF, capture_output=True, check=True)
    data, got = vmlinux_bytes(fake_bzimage(z.stdout + struct.pack("<I", len(ELF))))
    assert (data, got) == (ELF, "zstd")


def test_vmlinux_passthrough_and_garbage() -> None:
    assert vmlinux_bytes(ELF) == (ELF, "none")
    # A payload whose magic is right but whose data is not a kernel.
    with pytest.raises(ImageError, match="no compressed ELF kernel"):
        vmlinux_bytes(fake_bzimage(gzip.compress(b"not an elf")))


def test_machine_acquire_options() -> None:
    """Proxies and date checks of the machine's apt reach our private apt;
    nothing else of its configuration does."""
    from kernels.debian import machine_acquire_options
    dump = ('Acquire::http::Proxy "http://proxy.example:3128";\n'
            'Acquire::https::Proxy::archive.example "DIRECT";\n'
            'Acquire::Check-Valid-Until "false";\n'
            'APT::Update::Post-Invoke-Success "";\n'
            'Acquire::IndexTargets::deb::DEP-11::MetaKey "x";\n'
            'Dir::Etc::SourceList "/etc/apt/sources.list";\n')
    assert machine_acquire_options(dump) == [
        "-oAcquire::http::Proxy=http://proxy.example:3128",
        "-oAcquire::https::Proxy::archive.example=DIRECT",
        "-oAcquire::Check-Valid-Until=false",
    ]


def test_judge_classifies_endings() -> None:
    """How a boot ended -> the error a report shows (None: the run completed)."""
    from kernels.boot import judge
    from kernels.qemu import Boot
    ok = "@@faultline stream 1\n@@faultline run {}\n@@faultline run-end {}\n"
    assert judge(Boot(console=ok, reached_init=True, complete=True, exit_code=1), 60) is None
    early = "[ 0.1] Kernel panic - not syncing: VFS: Unable to mount root fs\n"
    e = judge(Boot(console=early, exit_code=0), 60)
    assert e and e.startswith("kernel panic before /init: Kernel panic - not syncing: VFS")
    assert "Unable to mount root fs" in e.splitlines()[-1]      # last console lines
    e = judge(Boot(console="[ 0.1] booting\n", timed_out=True, boot_timed_out=True), 60)
    assert e and e.startswith("never reached /init") and "hang" in e
    mid = "@@faultline run {}\n@@faultline binary-begin {}\nok 1 x\n" \
          "[ 3.0] BUG: unable to handle page fault\n[ 3.1] Kernel panic - not syncing: Fatal exception\n"
    e = judge(Boot(console=mid, reached_init=True, exit_code=0), 60)
    assert e and e.startswith("kernel panic during the run: Kernel panic - not syncing: Fatal")
    e = judge(Boot(console="@@faultline run {}\nok 1 x\n", reached_init=True, timed_out=True), 60)
    assert e and e.startswith("timeout: the run did not finish within 60 s")
    # The runner gives up with a run-end saying why: the stream tells, not us.
    fatal = '@@faultline run {}\n@@faultline run-end {"status":"error","error":"x"}\n'
    assert judge(Boot(console=fatal, reached_init=True, complete=True, exit_code=3),
                 60) is None
    e = judge(Boot(console="@@faultline run {}\n", reached_init=True, exit_code=3,
                   stderr="qemu: oops\n"), 60)
    assert e and e.startswith("run cut short") and "qemu stderr: qemu: oops" in e


def test_cli_bad_spec_exit_2() -> None:
    p = subprocess.run(["/usr/bin/python3", "-m", "kernels", "debian:bookworm", "debian:jessie"],
                       cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert p.returncode == 2
    assert "unknown Debian suite 'jessie'" in p.stderr


def test_runner_options_go_on_the_kernel_command_line() -> None:
    """run.py's runner options reach PID 1 as faultline.<option>=<value>."""
    from kernels.qemu import CMDLINE, kernel_cmdline
    assert kernel_cmdline([]) == CMDLINE
    line = kernel_cmdline([("timeout", "5"), ("jobs", "2")])
    assert line == CMDLINE + " faultline.timeout=5 faultline.jobs=2"
    for bad in (("timeout", "5 6"), ("time out", "5"), ("", "1")):
        with pytest.raises(ValueError, match="kernel command line"):
            kernel_cmdline([bad])
