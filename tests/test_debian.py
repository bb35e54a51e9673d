# SPDX-License-Identifier: GPL-2.0
"""The Debian package: dpkg-buildpackage -b builds it from a copy of the
tree without the network (the harness headers come from the linux-source
Build-Depends), it holds exactly what make install puts under /usr, and
lintian finds no error in it.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT

ARCH = subprocess.run(["dpkg", "--print-architecture"], capture_output=True,
                      text=True).stdout.strip()
DEB = f"faultline_{(ROOT / 'VERSION').read_text().strip()}_{ARCH}.deb"


def source_files() -> list[str]:
    """The tree as a commit would have it: tracked and new, not ignored."""
    out = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others",
                          "--exclude-standard"], capture_output=True, check=True).stdout
    return [f for f in out.decode().split("\0") if f and (ROOT / f).exists()]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The directory holding the built .deb and .changes."""
    if shutil.which("dpkg-buildpackage") is None:
        pytest.fail("dpkg-buildpackage missing: scripts/deps.sh package installs it")
    top = tmp_path_factory.mktemp("deb")
    src = top / "faultline"
    for f in source_files():
        (src / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / f, src / f, follow_symlinks=False)
    # No network: a download attempt would fail instead of being hidden.
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C.UTF-8",
           "HOME": str(top), "http_proxy": "http://127.0.0.1:9", "https_proxy":
           "http://127.0.0.1:9"}
    proc = subprocess.run(["dpkg-buildpackage", "-us", "-uc", "-b", "-j2"], cwd=src, env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    assert "linux-source" in proc.stderr + proc.stdout   # where the headers came from
    return top


def contents(deb: Path) -> dict[str, str]:
    """path -> mode string ('-rwxr-xr-x') or 'link:<target>'."""
    out = subprocess.run(["dpkg-deb", "-c", str(deb)], capture_output=True, text=True,
                         check=True).stdout
    files = {}
    for line in out.splitlines():
        mode, rest = line.split()[0], line.split(None, 5)[5]
        if mode.startswith("d"):
            continue
        name, _, target = rest.partition(" -> ")
        files[name.removeprefix(".")] = f"link:{target}" if target else mode
    return files


def expected_files() -> dict[str, str]:
    exe, data = "-rwxr-xr-x", "-rw-r--r--"
    want = {"/usr/bin/faultline": exe,
            "/usr/bin/uffd-probe": "link:../libexec/faultline/uffd-probe",
            "/usr/libexec/faultline/uffd-probe": exe,
            "/usr/libexec/faultline/faultline-runner": exe,
            "/usr/libexec/faultline/uffd-bench": exe,
            "/usr/share/faultline/faultline-install.json": data,
            "/usr/share/man/man1/faultline.1.gz": data,
            "/usr/share/man/man1/uffd-probe.1.gz": data,
            "/usr/share/python3/runtime.d/faultline.rtupdate": exe}
    for c in (ROOT / "cases").glob("*.c"):
        want[f"/usr/libexec/faultline/cases/{c.stem}"] = exe
    py = ["run.py", "faultline_paths.py", "VERSION"] + [
        str(p.relative_to(ROOT)) for pat in ("reports/*.py", "kernels/*.py",
                                             "reports/templates/*", "reports/schema/*",
                                             "expectations/*.yaml")
        for p in ROOT.glob(pat)]
    for f in py:
        want[f"/usr/share/faultline/{f}"] = data
    for doc in ("README.md.gz", "uffd-probe.md.gz", "uffd-probe-json.md.gz", "reports.md.gz",
                "report-json.md.gz", "stream.md.gz", "changelog.gz", "copyright"):
        want[f"/usr/share/doc/faultline/{doc}"] = data
    return want


def test_package_holds_what_make_install_installs(built: Path) -> None:
    def docs_plain(files: dict[str, str]) -> dict[str, str]:
        # dh_compress leaves small documents as they are.
        return {re.sub(r"^(/usr/share/doc/.*)\.gz$", r"\1", k): v for k, v in files.items()}
    assert docs_plain(contents(built / DEB)) == docs_plain(expected_files())


def test_package_metadata(built: Path) -> None:
    fields = subprocess.run(["dpkg-deb", "-f", str(built / DEB), "Depends", "Architecture"],
                            capture_output=True, text=True, check=True).stdout
    depends = {re.split(r"[ (]", d.strip())[0]
               for d in fields.split("\n")[0].removeprefix("Depends:").split(",")}
    # Python libraries the reports import, and the C binaries' libraries.
    assert {"python3-yaml", "python3-jinja2", "python3-tap", "python3-pytest",
            "libcap2", "libseccomp2", "zlib1g", "libc6"} <= depends
    assert f"Architecture: {ARCH}" in fields


def test_installed_marker_names_libexec(built: Path, tmp_path: Path) -> None:
    subprocess.run(["dpkg-deb", "-x", str(built / DEB), str(tmp_path)], check=True)
    marker = tmp_path / "usr/share/faultline/faultline-install.json"
    assert json.loads(marker.read_text()) == {"libexecdir": "/usr/libexec/faultline"}
    launcher = (tmp_path / "usr/bin/faultline").read_text()
    assert 'sys.path.insert(0, "/usr/share/faultline")' in launcher
    # The probe links zlib as a shared library: no embedded copy.
    ldd = subprocess.run(["ldd", str(tmp_path / "usr/libexec/faultline/uffd-probe")],
                         capture_output=True, text=True).stdout
    assert "libz.so" in ldd


def test_lintian_finds_no_error(built: Path) -> None:
    changes = next(built.glob("faultline_*.changes"))
    proc = subprocess.run(["lintian", "--pedantic", str(changes)], capture_output=True,
                          text=True, timeout=300)
    tags = proc.stdout.splitlines()
    assert not [t for t in tags if t.startswith("E:")], proc.stdout
    # Warnings fixed so far stay fixed.
    assert not [t for t in tags if t.startswith("W:")], proc.stdout


def test_autopkgtest_declaration() -> None:
    """The host suite as an autopkgtest: root, a machine of its own (huge
    pages, sysctls), skippable (exit 77) when the kernel has no uffd."""
    control = (ROOT / "debian/tests/control").read_text()
    assert re.search(r"^Tests: host-suite$", control, re.M)
    restrictions = re.search(r"^Restrictions: (.*)$", control, re.M)
    assert restrictions and {"needs-root", "isolation-machine", "skippable"} <= {
        r.strip() for r in restrictions.group(1).split(",")}


def fake_commands(bin_dir: Path, uffd: bool, faultline_rc: int) -> None:
    """uffd-probe and faultline stand-ins: the probe answers --require
    according to @uffd; faultline records its arguments and exits."""
    bin_dir.mkdir()
    (bin_dir / "uffd-probe").write_text(
        "#!/bin/sh\ncase \"$*\" in --require*) exit %d ;; esac\necho probed\n"
        % (0 if uffd else 1))
    (bin_dir / "faultline").write_text(
        f"#!/bin/sh\necho \"$@\" > {bin_dir}/faultline.args\nexit {faultline_rc}\n")
    for f in bin_dir.iterdir():
        f.chmod(0o755)


@pytest.mark.parametrize("uffd,faultline_rc,rc", [
    (True, 0, 0), (True, 1, 1), (False, 0, 77)])
def test_autopkgtest_host_suite(tmp_path: Path, uffd: bool, faultline_rc: int,
                                rc: int) -> None:
    fake_commands(tmp_path / "bin", uffd, faultline_rc)
    artifacts = tmp_path / "artifacts"
    env = {"PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin",
           "AUTOPKGTEST_ARTIFACTS": str(artifacts), "AUTOPKGTEST_TMP": str(tmp_path)}
    proc = subprocess.run([str(ROOT / "debian/tests/host-suite")], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == rc, proc.stdout + proc.stderr
    assert (artifacts / "faultline/probe.txt").read_text() == "probed\n"
    args = tmp_path / "bin/faultline.args"
    if uffd:
        assert args.read_text().split() == ["-o", str(artifacts / "faultline")]
    else:
        assert not args.exists() and "skipped" in proc.stdout
