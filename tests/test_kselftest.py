# SPDX-License-Identifier: GPL-2.0
"""The kselftest collection: `make kselftest-install` and `make
kselftest-tar` give a tree that the kernel's own run_kselftest.sh (from
the linux-source package the harness headers came from, never from this
tree) runs as the collection "faultline"; probe.sh reports the probe's
facts as TAP with honest pass/skip/fail.
"""
from __future__ import annotations

import mmap
import os
import shutil
import subprocess
import tarfile
import time
from contextlib import contextmanager
from typing import Iterator
from pathlib import Path

import pytest

import ksft
from conftest import BUILD, ROOT
from runner_util import NR_HUGEPAGES, huge_free, pool_lock

PROBE_SH = ROOT / "dist/kselftest/probe.sh"


def make(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["make", "-s", "-C", str(ROOT), f"O={BUILD}", *args],
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def installed(build_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("kselftest")
    res = make("kselftest-install", f"INSTALL_PATH={dest}")
    assert res.returncode == 0, res.stderr
    return dest


def run_kselftest(tree: Path, *args: str, timeout: float = 600) -> tuple[int, str]:
    """The kernel's run_kselftest.sh, read through a pipe as CI systems do."""
    proc = subprocess.run([str(tree / "run_kselftest.sh"), *args],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=timeout)
    return proc.returncode, proc.stdout


def top_level(out: str) -> ksft.Stream:
    """run_kselftest.sh's own TAP: every line a test printed is '# '-prefixed."""
    return ksft.parse("\n".join(line for line in out.splitlines()
                                if not line.startswith("# ")))


def nested(out: str, test: str) -> ksft.Stream:
    """The TAP one test printed, unprefixed (between its header and result)."""
    lines = out.splitlines()
    start = lines.index(f"# selftests: faultline: {test}") + 1
    body = []
    for line in lines[start:]:
        if not line.startswith("# "):
            break
        body.append(line[2:])
    # The 6.12 runner says which timeout it applied before the test's TAP.
    while body and not body[0].startswith("TAP version"):
        body.pop(0)
    return ksft.parse("\n".join(body))


def test_tree_layout(installed: Path, build_dir: Path) -> None:
    cases = sorted(p.name for p in (build_dir / "cases").iterdir())
    coll = installed / "faultline"
    assert (coll / "settings").read_text() == "timeout=60\n"
    assert sorted(p.name for p in coll.iterdir()) == sorted(
        cases + ["probe.sh", "settings", "uffd-probe"])
    assert (installed / "kselftest-list.txt").read_text().splitlines() == \
        ["faultline:probe.sh"] + [f"faultline:{c}" for c in cases]
    # The kernel's runner, not ours: it says where it came from.
    runner = (installed / "kselftest/runner.sh").read_text()
    assert "kselftest_default_timeout" in runner
    rc, out = run_kselftest(installed, "-l")
    assert rc == 0 and out.split() == ["faultline:probe.sh"] + [f"faultline:{c}" for c in cases]


@pytest.mark.skipif(os.geteuid() != 0, reason="the suite and huge pages need root")
def test_run_kselftest_runs_the_collection(installed: Path, build_dir: Path) -> None:
    """The real runner, the whole collection: one top-level point per
    binary, each binary's own TAP intact under it, and the huge pages the
    binaries reserved for themselves given back."""
    cases = sorted(p.name for p in (build_dir / "cases").iterdir())
    # No faultline run may move the pool meanwhile (they take this lock).
    with pool_lock():
        before = NR_HUGEPAGES.read_text()
        rc, out = run_kselftest(installed, "-c", "faultline")
        after = NR_HUGEPAGES.read_text()
    assert rc == 0
    assert before == after, "a case binary did not give its huge pages back"
    top = top_level(out)
    assert not top.errors, top.errors
    assert [p.name for p in top.points] == \
        [f"selftests: faultline: {t}" for t in ["probe.sh"] + cases]
    failed = [p.name for p in top.points if not p.ok]
    assert not failed, out[-3000:]
    copy = nested(out, "copy")
    assert not copy.errors, copy.errors
    assert [p.name for p in copy.points] == ksft.listed_points(build_dir / "cases/copy")
    probe = nested(out, "probe.sh")
    assert not probe.errors and probe.points[0].name == "probe.run"


MAP_HUGETLB = 0x40000


@contextmanager
def no_free_huge_pages() -> Iterator[None]:
    """Promise every free huge page to a mapping of ours (a reservation,
    nothing touched): a case binary must then raise vm.nr_hugepages for
    itself. The pages are the pool's again when the mapping goes."""
    size = Path("/proc/meminfo").read_text().split("Hugepagesize:")[1].split()[0]
    n = huge_free()
    if n <= 0:
        yield
        return
    m = mmap.mmap(-1, n * int(size) * 1024,
                  flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | MAP_HUGETLB)
    try:
        assert huge_free() == 0
        yield
    finally:
        m.close()


@pytest.mark.skipif(os.geteuid() != 0, reason="huge pages need root")
def test_case_binaries_give_back_what_they_raised(installed: Path) -> None:
    """Under run_kselftest.sh each binary runs alone and raises the huge
    pages it needs itself: given back when it ends, and when the runner's
    timeout sends SIGTERM."""
    with pool_lock(), no_free_huge_pages():
        before = int(NR_HUGEPAGES.read_text())
        rc, out = run_kselftest(installed, "-t", "faultline:minor")
        assert rc == 0 and "ok 1 selftests: faultline: minor" in out.splitlines()
        assert int(NR_HUGEPAGES.read_text()) == before
        binary = subprocess.Popen([str(installed / "faultline/minor")],
                                  stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while int(NR_HUGEPAGES.read_text()) == before and binary.poll() is None \
                and time.monotonic() < deadline:
            time.sleep(0.005)
        raised = int(NR_HUGEPAGES.read_text()) - before
        binary.terminate()
        binary.wait(timeout=30)
        after = int(NR_HUGEPAGES.read_text())
    assert raised > 0, "the binary did not raise vm.nr_hugepages (finished first?)"
    assert binary.returncode == -15
    assert after == before


def fake_build(tmp: Path, build_dir: Path, *modes: str) -> Path:
    """A build directory whose cases are fake_case under the given modes."""
    (tmp / "cases").mkdir(parents=True)
    for m in modes:
        shutil.copy2(build_dir / "tools/fake_case", tmp / "cases" / m)
    shutil.copy2(build_dir / "uffd-probe", tmp / "uffd-probe")
    return tmp


def install(build: Path, dest: Path, timeout: int = 60) -> subprocess.CompletedProcess[str]:
    ksft_dir = os.environ.get("KSFT_DIR") or subprocess.run(
        ["make", "-s", "-C", str(ROOT), "--eval=print-ksft:; @echo $(KSFT_DIR)",
         "print-ksft"], capture_output=True, text=True, check=True).stdout.strip()
    return subprocess.run([str(ROOT / "dist/kselftest/install.sh"), str(build), ksft_dir,
                           str(timeout), str(dest)], capture_output=True, text=True)


def test_settings_timeout_is_what_the_runner_applies(build_dir: Path, tmp_path: Path,
                                                    installed: Path) -> None:
    build = fake_build(tmp_path / "build", build_dir, "pass")
    # Hangs in one process: the runner's timeout kills it, nothing lingers.
    (build / "cases/hang").write_text("#!/bin/sh\necho 'TAP version 13'\nexec sleep 30\n")
    (build / "cases/hang").chmod(0o755)
    res = install(build, tmp_path / "tree", timeout=1)
    assert res.returncode == 0, res.stderr
    rc, out = run_kselftest(tmp_path / "tree", "-t", "faultline:hang", "-t", "faultline:pass")
    top = top_level(out)
    assert [(p.name, p.ok, p.directive) for p in top.points] == [
        ("selftests: faultline: hang", False, "TIMEOUT 1 seconds"),
        ("selftests: faultline: pass", True, "")]


def test_install_into_an_existing_kselftest_tree(build_dir: Path, tmp_path: Path,
                                                 installed: Path) -> None:
    """Beside the kernel's own collections: their lines and their runner
    stay, ours are replaced (installing twice lists each test once)."""
    tree = tmp_path / "tree"
    (tree / "faultline").mkdir(parents=True)
    (tree / "faultline/stale").write_text("")
    (tree / "run_kselftest.sh").write_text("#!/bin/sh\n# the kernel's\n")
    (tree / "kselftest-list.txt").write_text("mm:uffd-unit-tests\nfaultline:stale\n")
    build = fake_build(tmp_path / "build", build_dir, "pass")
    for _ in range(2):
        res = install(build, tree)
        assert res.returncode == 0, res.stderr
    assert (tree / "kselftest-list.txt").read_text().splitlines() == [
        "mm:uffd-unit-tests", "faultline:probe.sh", "faultline:pass"]
    assert (tree / "run_kselftest.sh").read_text() == "#!/bin/sh\n# the kernel's\n"
    assert not (tree / "faultline/stale").exists()
    assert not (tree / "kselftest").exists()


def test_install_refuses_an_empty_build(tmp_path: Path) -> None:
    res = install(tmp_path, tmp_path / "tree")
    assert res.returncode == 2 and "run make first" in res.stderr
    assert not (tmp_path / "tree").exists()


def test_kselftest_tar_as_tuxrun_overlays_it(build_dir: Path, tmp_path: Path) -> None:
    """tuxmake's layout (the tree at the top, ./run_kselftest.sh), which
    tuxrun unpacks into /opt/kselftests/default-in-kernel/ and LKFT's
    kselftest.sh runs with run_kselftest.sh -c/-t."""
    tarball = tmp_path / "faultline-kselftest.tar.xz"
    res = make("kselftest-tar", f"KSELFTEST_TAR={tarball}")
    assert res.returncode == 0, res.stderr
    with tarfile.open(tarball) as tar:
        names = tar.getnames()
        assert {m.uid for m in tar.getmembers()} == {0}
    for member in ("./run_kselftest.sh", "./kselftest-list.txt", "./kselftest/runner.sh",
                   "./faultline/settings", "./faultline/probe.sh", "./faultline/copy"):
        assert member in names
    assert not (build_dir / "kselftest-tar").exists()
    # As LKFT's kselftest.sh unpacks it: tar guesses the compression.
    (tmp_path / "opt").mkdir()
    subprocess.run(["tar", "-xaf", str(tarball), "-C", str(tmp_path / "opt")], check=True)
    rc, out = run_kselftest(tmp_path / "opt", "-t", "faultline:probe.sh")
    top = top_level(out)
    assert [p.name for p in top.points] == ["selftests: faultline: probe.sh"]


# ---- probe.sh's verdicts, from canned uffd-probe answers ----

HEADER_OK = """\
/* Generated by uffd-probe 9.9 on Linux 6.1.0 x86_64. */
#ifndef UFFD_PROBE_GENERATED_H
#define UFFD_PROBE_GENERATED_H

#define UFFD_PROBE_API 0xaaULL
#define UFFD_PROBE_FEATURES 0x1ULL
#define UFFD_PROBE_IOCTLS 0x3ULL

#define UFFD_HAVE_SYSCALL 1
/* UFFD_HAVE_MOVE not available: kernel does not report UFFD_FEATURE_MOVE */
/* UFFD_HAVE_EVENT_FORK_ALLOWED unknown: no fd to ask */

#endif /* UFFD_PROBE_GENERATED_H */
"""


def fake_probe(tmp: Path, header: str, rc: int = 0, profiles: dict[str, int] | None = None) -> Path:
    """A uffd-probe stand-in: --header prints @header, --list names the
    @profiles, --profile NAME exits with the profile's code."""
    profiles = profiles or {}
    (tmp / "header").write_text(header)
    script = tmp / "uffd-probe"
    cases = "".join(f'\t"--profile {name}") echo "{name}: no (needs X)"; exit {code} ;;\n'
                    for name, code in profiles.items())
    script.write_text(f"""#!/bin/sh
case "$*" in
"--header") cat {tmp}/header; exit {rc} ;;
"--list") echo "facts (--require):"; echo "  SYSCALL MOVE"
	echo "profiles (--profile):"; echo "  {' '.join(profiles)}" ;;
{cases}*) exit 2 ;;
esac
""")
    script.chmod(0o755)
    return script


def probe_sh(probe: Path) -> tuple[int, ksft.Stream, str]:
    proc = subprocess.run(["sh", str(PROBE_SH)], capture_output=True, text=True,
                          env={**os.environ, "UFFD_PROBE": str(probe)}, timeout=30)
    return proc.returncode, ksft.parse(proc.stdout), proc.stdout


def test_probe_sh_facts_and_profiles(tmp_path: Path) -> None:
    rc, tap, out = probe_sh(fake_probe(tmp_path, HEADER_OK,
                                       profiles={"qemu-postcopy": 0, "firecracker": 1}))
    assert rc == 0 and not tap.errors, out
    assert [(p.name, p.ok, p.directive) for p in tap.points] == [
        ("probe.run", True, ""),
        ("probe.api", True, ""),
        ("probe.fact.SYSCALL", True, ""),
        ("probe.fact.MOVE", True, "SKIP kernel does not report UFFD_FEATURE_MOVE"),
        ("probe.fact.EVENT_FORK_ALLOWED", True, "SKIP undetermined here: no fd to ask"),
        ("probe.profile.qemu-postcopy", True, ""),
        ("probe.profile.firecracker", True, "SKIP no (needs X)")]
    assert "# uffd-probe 9.9 on Linux 6.1.0 x86_64" in out


def test_probe_sh_skips_without_userfaultfd(tmp_path: Path) -> None:
    header = HEADER_OK.replace("#define UFFD_HAVE_SYSCALL 1",
                               "/* UFFD_HAVE_SYSCALL not available: ENOSYS: kernel built "
                               "without CONFIG_USERFAULTFD */")
    rc, tap, out = probe_sh(fake_probe(tmp_path, header))
    assert rc == 4, out
    assert "1..0 # SKIP userfaultfd unavailable: ENOSYS: kernel built without " \
        "CONFIG_USERFAULTFD" in out


@pytest.mark.parametrize("header,rc,failing", [
    (HEADER_OK, 2, "probe.run"),                                   # usage error
    (HEADER_OK.split("#endif")[0], 0, "probe.run"),                # cut short
    ("/* Generated */\n#endif /* UFFD_PROBE_GENERATED_H */\n", 0, "probe.run"),  # no facts
    ("\n".join(ln for ln in HEADER_OK.splitlines() if "UFFD_PROBE_" not in ln
               or "GENERATED" in ln) + "\n", 0, "probe.api"),      # fd, no handshake
])
def test_probe_sh_fails_when_the_answer_is_wrong(tmp_path: Path, header: str, rc: int,
                                                failing: str) -> None:
    code, tap, out = probe_sh(fake_probe(tmp_path, header, rc=rc))
    assert code == 1, out
    assert [p.name for p in tap.points if not p.ok] == [failing], out


def test_probe_sh_on_this_host(build_dir: Path) -> None:
    """The real probe: every fact it names is a point, no failure."""
    rc, tap, out = probe_sh(build_dir / "uffd-probe")
    facts = [ln.split("=")[0].removeprefix("UFFD_HAVE_") for ln in subprocess.run(
        [str(build_dir / "uffd-probe"), "--shell"], capture_output=True, text=True
    ).stdout.splitlines() if ln.startswith("UFFD_HAVE_")]
    if rc == 4:
        pytest.skip("no userfaultfd on this host: " + out)
    assert rc == 0 and not tap.errors, out
    assert [p.name for p in tap.points if p.name.startswith("probe.fact.")] == \
        [f"probe.fact.{f}" for f in facts]
    assert all(p.ok for p in tap.points)
