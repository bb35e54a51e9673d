# SPDX-License-Identifier: GPL-2.0
"""report.html in headless Chromium at 1400 and 400 px (skipped when
Debian's chromium is not installed): problems come first, every failing
point is reachable from the heat map, the filters and count links work,
nothing overflows the page width, the status colours show."""
from __future__ import annotations

import base64
import struct
import zlib
from pathlib import Path
from typing import Any, Iterator

import pytest

from chromium_util import CHROMIUM, Browser
from reports_util import DATA

from reports import expectations as expect
from reports.heatmap import build_heatmap
from reports.model import FAILING, Run
from reports.pipeline import publish
from reports.stream import read_stream_file

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium not installed (apt-get install chromium)")

WIDTHS = (1400, 400)
# the status colours of the page's CSS
CSS_COLOUR = {"pass": (0xc8, 0xf0, 0xc8), "fail": (0xf4, 0xa6, 0xa6),
              "skip": (0xe6, 0xe6, 0xe6), "xfail": (0xf7, 0xe3, 0xa1),
              "xpass": (0xf5, 0xc2, 0x6b), "timeout": (0xe9, 0x8b, 0x8b),
              "error": (0xd4, 0x6a, 0x6a), "notrun": (0xbf, 0xc8, 0xd6)}
# crafted: a kernel WARNING and three real failures on 6.12, known bugs
# affected and expected on 6.1, a panic cut, a per-binary timeout;
# real: runner output recorded on this host and on a trixie VM
SETS = {"crafted": ("trixie-triage", "bugs-bookworm", "bugs-host", "truncated", "splat"),
        "real": ("trixie", "recorded-host", "host", "bookworm")}


def runs_of(names: tuple[str, ...]) -> list[Run]:
    runs = [read_stream_file(DATA / f"{n}.stream") for n in names]
    exps = expect.load(DATA / "expectations.yaml")
    for r in runs:
        expect.apply(r, exps)
    return runs


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with Browser() as b:
        yield b


@pytest.fixture(scope="module", params=sorted(SETS))
def page(request: pytest.FixtureRequest,
         tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Run]]:
    runs = runs_of(SETS[request.param])
    out = tmp_path_factory.mktemp(request.param)
    publish(runs, out)
    return out / "report.html", runs


def failing(runs: list[Run]) -> set[tuple[str, int]]:
    return {(p.id, col) for col, r in enumerate(runs) for p in r.points
            if p.status in FAILING}


LAYOUT_JS = """(function () {
  function top(id) { var e = document.getElementById(id);
    return e ? e.getBoundingClientRect().top + window.scrollY : null; }
  return {sections: ['problems', 'overview', 'bugs', 'findings', 'details', 'cases'].map(top),
          firstH2: document.querySelector('h2').textContent,
          height: window.innerHeight,
          problems: Array.prototype.map.call(document.querySelectorAll('#problems article'),
            function (a) { return [a.getAttribute('data-points'), a.getAttribute('data-cols')]; })};
})()"""

VISIBLE_JS = """(function () {
  var k = document.getElementById('fk').value;
  return Array.prototype.filter.call(document.querySelectorAll('tr.case'),
      function (tr) { return tr.getClientRects().length > 0; })
    .map(function (tr) { return [tr.getAttribute('data-id'), tr.getAttribute('data-st').split(' ')]; });
})()"""

HEAT_JS = """(function () {
  return Array.prototype.map.call(document.querySelectorAll('#heatmap td a[href]'), function (a) {
    var h = a.getAttribute('href');
    window.faultlineFilter(h.slice(1));
    return {href: h, k: document.getElementById('fk').value,
            points: (a.getAttribute('data-points') || '').split(' '), visible: %s};
  });
})()""" % VISIBLE_JS.strip()


def visible(browser: Browser, hash_: str) -> list[tuple[str, list[str]]]:
    browser.eval(f"window.faultlineFilter({hash_!r})")
    return [(i, st) for i, st in browser.eval(VISIBLE_JS)]


@pytest.mark.parametrize("width", WIDTHS)
def test_problems_come_first(browser: Browser, page: tuple[Path, list[Run]],
                             width: int) -> None:
    html, runs = page
    browser.open(html, width)
    got = browser.eval(LAYOUT_JS)
    tops = [t for t in got["sections"] if t is not None]
    assert tops == sorted(tops) and got["sections"][0] == tops[0]
    assert got["firstH2"].startswith("Problems")
    if width == 1400:       # the first problem is on the first screen
        assert got["sections"][0] < got["height"]
    # every failing point is one of the problems, on its kernel
    listed = {(pid, int(col)) for points, cols in got["problems"]
              for pid in points.split() for col in cols.split()}
    assert failing(runs) <= listed


@pytest.mark.parametrize("width", WIDTHS)
def test_every_failing_point_is_reachable_from_the_heat_map(
        browser: Browser, page: tuple[Path, list[Run]], width: int) -> None:
    html, runs = page
    browser.open(html, width)
    reached: set[tuple[str, int]] = set()
    for link in browser.eval(HEAT_JS):
        k = int(link["k"])
        ids = {pid for pid, _ in link["visible"]}
        assert ids == set(link["points"]), link["href"]     # its rows, only them
        reached |= {(pid, k) for pid, st in link["visible"] if st[k] in FAILING}
    assert failing(runs) and failing(runs) <= reached


@pytest.mark.parametrize("width", WIDTHS)
def test_nothing_overflows_the_page_width(browser: Browser, page: tuple[Path, list[Run]],
                                          width: int) -> None:
    html, _ = page
    browser.open(html, width)
    js = "[window.innerWidth, document.documentElement.scrollWidth]"
    inner, scroll = browser.eval(js)
    assert inner == width and scroll <= width
    # wide tables scroll inside their own box; open folds wrap
    browser.eval("document.querySelectorAll('details').forEach(function (d) { d.open = true; })")
    assert browser.eval(js)[1] <= width
    assert browser.eval("getComputedStyle(document.querySelector('#heatbox')).overflowX") == "auto"


def test_counts_and_filters_select_rows(browser: Browser,
                                        page: tuple[Path, list[Run]]) -> None:
    html, runs = page
    browser.open(html, 1400)
    # a count in the runs table: that kernel's points with that status
    for col, r in enumerate(runs):
        c = r.counts()
        for st in ("fail", "skip"):
            if not c[st]:
                continue
            href = browser.eval(f"document.querySelectorAll('#runs tr')[{col + 1}]"
                                f".querySelector('a[href*=\"st={st}\"]').getAttribute('href')")
            rows = visible(browser, href[1:])
            assert len(rows) == len({p.id for p in r.points if p.status == st})
            assert all(s[col] == st for _, s in rows)
    # status x kernel x area
    col, r = next((i, r) for i, r in enumerate(runs)
                  if any(p.status == "fail" for p in r.points))
    area = next(p.area for p in r.points if p.status == "fail")
    rows = visible(browser, f"area={area}&k={col}&st=fail")
    assert {i for i, _ in rows} == {p.id for p in r.points
                                    if p.area == area and p.status == "fail"}
    assert len(visible(browser, "q=")) == len({p.id for r in runs for p in r.points})


def png_pixels(data: bytes) -> set[tuple[int, int, int]]:
    """Distinct RGB colours of an 8-bit RGB/RGBA PNG (enough for a screenshot)."""
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


def test_heat_map_shows_the_status_colours(browser: Browser,
                                           page: tuple[Path, list[Run]]) -> None:
    html, runs = page
    browser.open(html, 1400)
    box: dict[str, Any] = browser.eval(
        "(function () { var r = document.getElementById('heatmap').getBoundingClientRect();"
        " return {x: r.left + scrollX, y: r.top + scrollY, width: r.width, height: r.height}; })()")
    shot = browser.call("Page.captureScreenshot", session=True, format="png",
                        captureBeyondViewport=True, clip={**box, "scale": 1})
    colours = png_pixels(base64.b64decode(shot["data"]))
    hm = build_heatmap(runs)
    shown = {c.status for row in hm.rows.values() for grp in row for c in grp} - {""}
    assert "pass" in shown and shown & FAILING
    for status in shown:
        assert CSS_COLOUR[status] in colours, f"{status} colour not in the heat map"
