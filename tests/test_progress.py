# SPDX-License-Identifier: GPL-2.0
"""Progress lines: `[n/N binaries, P points so far]` from the stream as it
is read (host) or from a VM's console bytes as they arrive; colour only on
a terminal without NO_COLOR."""
from __future__ import annotations

import io
import re

import pytest

from reports_util import DATA
from reports.progress import ConsoleProgress, Progress, use_colour
from reports.stream import parse_stream
from reports.tapparse import classify_line

LINE_RE = re.compile(r"^debian:trixie \[(\d+)/17 binaries, (\d+) points so far\] "
                     r"(\S+): ")


def result_lines(text: str) -> int:
    return sum(classify_line(ln)[0] in ("pass", "fail", "skip")
               for ln in text.splitlines())


@pytest.mark.parametrize("chunk", [1, 7, 4096, 10 ** 7])
def test_console_bytes_cut_anywhere(chunk: int) -> None:
    """The same lines whatever way QEMU cuts the console."""
    text = (DATA / "trixie.stream").read_text()
    data = text.encode()
    out = io.StringIO()
    feed = ConsoleProgress(out, "debian:trixie ")
    for i in range(0, len(data), chunk):
        feed(data[i:i + chunk])
    lines = out.getvalue().splitlines()
    found = [LINE_RE.match(ln) for ln in lines]
    assert all(found) and len(found) == 17, lines
    assert [int(m.group(1)) for m in found] == list(range(1, 18))
    points = [int(m.group(2)) for m in found]
    assert points == sorted(points) and points[-1] == result_lines(text)
    assert "\033" not in out.getvalue()


def test_colour_only_where_wanted() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert use_colour(Tty(), {}) and use_colour(Tty(), {"NO_COLOR": ""})
    assert not use_colour(Tty(), {"NO_COLOR": "1"})
    assert not use_colour(io.StringIO(), {})


def test_colours_name_the_results() -> None:
    out = io.StringIO()
    parse_stream((DATA / "host.stream").read_text(),
                 Progress(out, live=False, prefix="host ", colour=True))
    text = out.getvalue()
    assert "\033[32mpass 4\033[0m" in text and "\033[31mfail 2\033[0m" in text
    # a zero stays plain: nothing to look at
    assert "fail 0" in text and "\033[31mfail 0" not in text


def test_a_closed_output_stops_the_progress_not_the_run() -> None:
    """A reader that went away (`./run.py | head -1`) makes the next write
    raise BrokenPipeError: the progress stops, the stream is still read."""
    class Gone(io.StringIO):
        writes = 0

        def write(self, text: str) -> int:
            Gone.writes += 1
            raise BrokenPipeError(32, "Broken pipe")

    text = (DATA / "trixie.stream").read_text()
    feed = ConsoleProgress(Gone(), "debian:trixie ")
    feed(text.encode())
    assert Gone.writes == 1
    run = feed.reader.finish()
    assert run.counts()["pass"] == result_lines(text)
