# SPDX-License-Identifier: GPL-2.0
"""The TAP checker behind test_cases.py must reject what it is there to catch."""
from __future__ import annotations

from ksft import failures, parse

GOOD = """TAP version 13
1..3
# Starting 3 tests from 1 test cases.
#  RUN           copy.anon.a ...
#            OK  copy.anon.a
ok 1 copy.anon.a
#  RUN           copy.anon.b ...
#      SKIP      kernel does not report UFFD_FEATURE_MOVE
ok 2 # SKIP kernel does not report UFFD_FEATURE_MOVE
#  RUN           copy.anon.c ...
# copy.c:10:c:Expected 0 (0) == ret (-17)
not ok 3 copy.anon.c
"""


def test_good_stream_parses_with_names_from_run_lines() -> None:
    s = parse(GOOD)
    assert not s.errors
    assert [p.name for p in s.points] == ["copy.anon.a", "copy.anon.b", "copy.anon.c"]
    assert s.points[1].skipped and "UFFD_FEATURE_MOVE" in s.points[1].directive
    assert "copy.anon.c" in failures(s) and "Expected 0" in failures(s)


def test_truncated_stream_is_an_error() -> None:
    cut = GOOD[:GOOD.index("#  RUN           copy.anon.c")]
    assert any("plan says 3" in e for e in parse(cut).errors)


def test_missing_header_garbage_and_misnumbering_are_errors() -> None:
    assert parse("1..0\n").errors
    assert parse(GOOD.replace("ok 2", "ok 7")).errors
    assert parse(GOOD + "Segmentation fault\n").errors
    assert parse("").errors
