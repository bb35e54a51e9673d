# SPDX-License-Identifier: GPL-2.0
"""report.html in headless Chromium: the matrix renders, colours show, the
filters work (skipped when Debian's chromium is not installed)."""
from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from reports_util import DATA

from reports import expectations as expect
from reports.pipeline import publish
from reports.stream import read_stream_file

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium not installed (apt-get install chromium)")


def chromium(*args: str) -> str:
    assert CHROMIUM is not None
    res = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                          "--hide-scrollbars", *args], capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    return res.stdout


def png_pixels(path: Path) -> set[tuple[int, int, int]]:
    """Distinct RGB colours of an 8-bit RGB/RGBA PNG (enough for a screenshot)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height, ctype = 8, b"", 0, 0, 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, ctype = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and ctype in (2, 6)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    bpp = 3 if ctype == 2 else 4
    raw, stride = zlib.decompress(idat), width * bpp
    prev, colours = bytearray(stride), set()
    for y in range(height):
        row = raw[y * (stride + 1):(y + 1) * (stride + 1)]
        f, line = row[0], bytearray(row[1:])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pred) & 255
        colours.update(tuple(line[i:i + 3]) for i in range(0, stride, bpp))
        prev = line
    return colours


@pytest.fixture(scope="module")
def html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    runs = [read_stream_file(DATA / f"{n}.stream")
            for n in ("host", "bookworm", "truncated")]
    exps = expect.load(DATA / "expectations.yaml")
    for r in runs:
        expect.apply(r, exps)
    out = tmp_path_factory.mktemp("html")
    publish(runs, out)
    return out / "report.html"


def test_screenshot_shows_the_coloured_matrix(html: Path, tmp_path: Path) -> None:
    shot = tmp_path / "shot.png"
    chromium(f"--screenshot={shot}", "--window-size=1400,1600", html.as_uri())
    colours = png_pixels(shot)
    # pass green, fail red, skip grey, not-run blue: the CSS status colours
    for rgb in ((0xc8, 0xf0, 0xc8), (0xf4, 0xa6, 0xa6), (0xe6, 0xe6, 0xe6),
                (0xbf, 0xc8, 0xd6)):
        assert rgb in colours, f"colour {rgb} not on the screenshot"


def test_dom_has_the_rows_and_filters_work(html: Path) -> None:
    dom = chromium("--dump-dom", html.as_uri())
    assert dom.count('<tr class="case"') == 12
    assert dom.count('<tr class="area"') == 2
    dom = chromium("--dump-dom", html.as_uri() + "#q=shmem")
    assert dom.count('<tr class="case"') == 3       # the others are hidden
    assert dom.count('<tr class="case hidden"') == 9
    dom = chromium("--dump-dom", html.as_uri() + "#bad")
    shown = dom.count('<tr class="case"')
    # unregister_foreign, register_busy, errno.#3, #4, two hugetlb xpass
    assert shown == 6
