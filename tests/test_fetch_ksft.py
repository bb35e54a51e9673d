# SPDX-License-Identifier: GPL-2.0
"""scripts/fetch-ksft.sh KSFT_NEED=uffd-unit-tests: the kernel's own
uffd-unit-tests extracted as a partial tree of the package's source (the
yardstick of bench/suite.sh), from a small synthetic linux-source tarball
so that nothing is downloaded."""
from __future__ import annotations

import os
import subprocess
import tarfile
from pathlib import Path

from reports_util import ROOT

SELFTESTS = "tools/testing/selftests"
KUT_MM = ("uffd-unit-tests.c", "uffd-common.c", "uffd-common.h", "vm_util.c",
          "vm_util.h")
KERNEL = ("mm/gup_test.h", "include/uapi/linux/userfaultfd.h",
          "include/uapi/linux/fs.h")


def tarball(tmp_path: Path, leave_out: str = "") -> Path:
    """A linux-source-9.9 tarball (xz) holding only what the script reads."""
    top = tmp_path / "src" / "linux-source-9.9"
    files = [f"{SELFTESTS}/{f}" for f in ("kselftest.h", "kselftest_harness.h",
                                           "run_kselftest.sh",
                                           "kselftest/runner.sh")]
    files += [f"{SELFTESTS}/mm/{f}" for f in KUT_MM] + list(KERNEL)
    for f in files:
        if f == leave_out:
            continue
        (top / f).parent.mkdir(parents=True, exist_ok=True)
        (top / f).write_text(f"/* {f} */\n")
    out = tmp_path / "linux-source-9.9.tar.xz"
    with tarfile.open(out, "w:xz") as tar:
        tar.add(top, arcname="linux-source-9.9")
    return out


def fetch(tmp_path: Path, tar: Path) -> subprocess.CompletedProcess[str]:
    # KSFT_OFFLINE: only the tarball, never another cache on this machine.
    return subprocess.run([str(ROOT / "scripts/fetch-ksft.sh"),
                           str(tmp_path / "ksft")], capture_output=True,
                          text=True, timeout=120,
                          env={**os.environ, "KSFT_OFFLINE": "1",
                               "KSFT_TARBALL": str(tar),
                               "KSFT_NEED": "uffd-unit-tests"})


def test_uffd_unit_tests_extracted_as_a_partial_tree(tmp_path: Path) -> None:
    res = fetch(tmp_path, tarball(tmp_path))
    assert res.returncode == 0, res.stderr
    tree = tmp_path / "ksft" / "uffd-unit-tests"
    for f in KUT_MM:
        path = tree / SELFTESTS / "mm" / f
        assert path.read_text() == f"/* {SELFTESTS}/mm/{f} */\n"
    for f in KERNEL:
        assert (tree / f).read_text() == f"/* {f} */\n"
    # Its sources include "../kselftest.h": the package's, beside mm/.
    assert (tree / SELFTESTS / "kselftest.h").is_file()
    # The harness headers and the runner came with it, from the same source.
    assert (tmp_path / "ksft" / "kselftest_harness.h").is_file()
    assert (tmp_path / "ksft" / "run_kselftest.sh").is_file()
    assert not (tmp_path / "ksft" / "uffd-unit-tests.tmp").exists()


def test_a_source_without_uffd_unit_tests_is_named(tmp_path: Path) -> None:
    """A kernel older than 6.4 has no uffd-unit-tests: exit 2, the file
    named, no half tree left."""
    res = fetch(tmp_path, tarball(tmp_path, f"{SELFTESTS}/mm/uffd-unit-tests.c"))
    assert res.returncode == 2
    assert "mm/uffd-unit-tests.c not in" in res.stderr
    assert not (tmp_path / "ksft" / "uffd-unit-tests").exists()
