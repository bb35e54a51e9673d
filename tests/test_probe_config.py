# SPDX-License-Identifier: GPL-2.0
"""uffd-probe's kernel config reader and its in-process gzip decoder, fed
with files Python's zlib writes in every block type (stored, fixed and
dynamic Huffman), damaged files, and plain text."""
from __future__ import annotations

import gzip
import json
import random
import zlib
from pathlib import Path
from typing import Any

import pytest

from test_probe_util import run

# What the synthetic config says, and what the probe must read back.
WANT = {
    "CONFIG_USERFAULTFD": "y",
    "CONFIG_HAVE_ARCH_USERFAULTFD_WP": "y",
    "CONFIG_HAVE_ARCH_USERFAULTFD_MINOR": "n",
    "CONFIG_PTE_MARKER_UFFD_WP": None,
    "CONFIG_SHMEM": "m",
    "CONFIG_HUGETLBFS": "n",
    "CONFIG_TRANSPARENT_HUGEPAGE": "y",
}


def config_text(seed: int = 1, filler: int = 4000) -> bytes:
    """A config-shaped file: the wanted lines spread among filler."""
    rng = random.Random(seed)
    lines = ["#", "# Automatically generated file; DO NOT EDIT.", "#"]
    wanted = []
    for name, value in WANT.items():
        if value == "n":
            wanted.append(f"# {name} is not set")
        elif value is not None:
            wanted.append(f"{name}={value}")
    # Near-miss names must not match (prefixes and suffixes).
    wanted += ["CONFIG_USERFAULTFD_EXTRA=n", "CONFIG_SHMEMX=y",
               "# CONFIG_HUGETLBFS_FOO is not set"]
    for i in range(filler):
        kind = rng.randrange(4)
        word = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ_")
                       for _ in range(rng.randrange(4, 30)))
        if kind == 0:
            lines.append(f"CONFIG_{word}_{i}=y")
        elif kind == 1:
            lines.append(f"# CONFIG_{word}_{i} is not set")
        elif kind == 2:
            lines.append(f'CONFIG_{word}_{i}="{rng.getrandbits(64):x}"')
        else:
            lines.append(f"CONFIG_{word}_{i}={rng.randrange(1 << 20)}")
        if wanted and rng.randrange(filler // 8 + 1) == 0:
            lines.append(wanted.pop())
    lines += wanted
    return ("\n".join(lines) + "\n").encode()


def gz(data: bytes, level: int = 6, strategy: int = zlib.Z_DEFAULT_STRATEGY,
       name: bool = False) -> bytes:
    if name:            # FNAME header field, as gzip(1) writes it
        return gzip.compress(data, compresslevel=level)
    c = zlib.compressobj(level, zlib.DEFLATED, 31, 9, strategy)
    return c.compress(data) + c.flush()


def read_config(build_dir: Path, path: Path) -> dict[str, Any]:
    res = run([str(build_dir / "uffd-probe"), "--json", "--config", str(path)])
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)["config"]


def check(cfg: dict[str, Any], path: Path) -> None:
    assert cfg["status"] == "yes", cfg
    assert cfg["source"] == str(path)
    for name, value in WANT.items():
        assert cfg["options"][name] == value, name


@pytest.mark.parametrize("kind", ["plain", "stored", "fixed", "dynamic-1",
                                  "dynamic-9", "huffman-only", "rle",
                                  "fname-header", "tiny-filler"])
def test_config_decoding(build_dir: Path, tmp_path: Path, kind: str) -> None:
    text = config_text(filler=40 if kind == "tiny-filler" else 4000)
    data = {
        "plain": lambda: text,
        "stored": lambda: gz(text, level=0),
        "fixed": lambda: gz(text, strategy=zlib.Z_FIXED),
        "dynamic-1": lambda: gz(text, level=1),
        "dynamic-9": lambda: gz(text, level=9),
        "huffman-only": lambda: gz(text, strategy=zlib.Z_HUFFMAN_ONLY),
        "rle": lambda: gz(text, strategy=zlib.Z_RLE),
        "fname-header": lambda: gz(text, name=True),
        "tiny-filler": lambda: gz(text),
    }[kind]()
    path = tmp_path / f"config-{kind}"
    path.write_bytes(data)
    check(read_config(build_dir, path), path)


def test_matches_zlib_on_the_host_config(build_dir: Path) -> None:
    proc = Path("/proc/config.gz")
    if not proc.exists():
        pytest.skip("no /proc/config.gz on this kernel")
    text = gzip.decompress(proc.read_bytes()).decode()
    cfg = read_config(build_dir, proc)
    for name, value in cfg["options"].items():
        if f"\n{name}=" in text:
            assert value == text.split(f"\n{name}=", 1)[1].split("\n", 1)[0]
        elif f"\n# {name} is not set" in text:
            assert value == "n"
        else:
            assert value is None


def test_truncated_and_damaged(build_dir: Path, tmp_path: Path) -> None:
    """Never crash; a damaged file is 'unknown' with a reason, or (for a
    flipped literal the format cannot detect) still read."""
    good = gz(config_text(seed=2, filler=800))
    path = tmp_path / "bad.gz"
    rng = random.Random(7)
    cases = [good[:n] for n in (3, 10, 20, len(good) // 2, len(good) - 5)]
    for _ in range(25):
        b = bytearray(good)
        b[rng.randrange(10, len(b) - 8)] ^= 1 << rng.randrange(8)
        cases.append(bytes(b))
    for data in cases:
        path.write_bytes(data)
        cfg = read_config(build_dir, path)
        assert cfg["status"] in ("yes", "unknown")
        if cfg["status"] == "unknown":
            assert cfg["cause"] == "corrupt" and cfg["reason"]


def test_unreadable_config_is_unknown(build_dir: Path, tmp_path: Path) -> None:
    # A directory opens but cannot be read: that is not an empty config.
    cfg = read_config(build_dir, tmp_path)
    assert (cfg["status"], cfg["errno"], cfg["cause"]) == \
        ("unknown", "EISDIR", "unreadable")
    assert all(v is None for v in cfg["options"].values())
    other = tmp_path / "passwd"
    other.write_text("root:x:0:0:root:/root:/bin/bash\n")
    cfg = read_config(build_dir, other)
    assert (cfg["status"], cfg["cause"]) == ("unknown", "not_a_config")


def test_missing_config_path_is_a_usage_error(build_dir: Path, tmp_path: Path) -> None:
    res = run([str(build_dir / "uffd-probe"), "--config", str(tmp_path / "missing")])
    assert res.returncode == 2
    assert "--config" in res.stderr and "No such file" in res.stderr
