# SPDX-License-Identifier: GPL-2.0
"""harness/json.c, the one JSON writer of the runner, uffd-probe and
uffd-bench, driven through build/tools/json_writer: commas whatever the
nesting, strings that are always valid JSON and UTF-8, numbers, and a
document that could not be written whole is reported, never half-printed."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest


def write(build_dir: Path, *calls: str) -> tuple[int, str]:
    res = subprocess.run([str(build_dir / "tools" / "json_writer")],
                         input="\n".join(calls) + "\n", capture_output=True,
                         text=True, errors="surrogateescape", timeout=10)
    return res.returncode, res.stdout.rstrip("\n")


def test_nesting_and_commas(build_dir: Path) -> None:
    rc, out = write(build_dir, "open - {", "int a -3", "open b [", "uint - 1",
                    "open - {", "close", "open - [", "close", "null -", "close",
                    "open c {", "close", "bool d 1", "strs e x y", "hex f 255",
                    "raw g {\"h\":[1]}")
    assert rc == 0
    assert out == ('{"a":-3,"b":[1,{},[],null],"c":{},"d":true,'
                   '"e":["x","y"],"f":"0xff","g":{"h":[1]}}')


def test_json_end_closes_what_is_open(build_dir: Path) -> None:
    assert write(build_dir, "open - {", "open a [", "open - {", "str k v") == \
        (0, '{"a":[{"k":"v"}]}')


@pytest.mark.parametrize("raw, encoded", [
    ('say "hi" \\x5c', '"say \\"hi\\" \\\\"'),
    ("tab\\x09nl\\x0adel\\x7f", '"tab\\u0009nl\\u000adel\\u007f"'),
    ("caf\\xc3\\xa9 \\xe2\\x82\\xac \\xf0\\x9f\\x98\\x80", '"café € 😀"'),
    # not UTF-8: a lone continuation byte, an overlong '/', a surrogate,
    # a cut sequence: each bad byte is U+FFFD
    ("a\\x80b\\xc0\\xafc\\xed\\xa0\\x80d\\xe2\\x82",
     '"a\\ufffdb\\ufffd\\ufffdc\\ufffd\\ufffd\\ufffdd\\ufffd\\ufffd"'),
])
def test_strings_are_valid_json(build_dir: Path, raw: str, encoded: str) -> None:
    rc, out = write(build_dir, f"str - {raw}")
    assert rc == 0 and out == encoded
    json.loads(out)


def test_numbers(build_dir: Path) -> None:
    assert write(build_dir, "open - [", "num - 0.1", "num - 1e300",
                 "num - inf", "num - nan", "num - 123456789.123") == \
        (0, "[0.1,1e+300,null,null,123456789.123]")
    # uffd-bench writes six significant digits
    assert write(build_dir, "digits 6", "open - [", "num - 123456789.123",
                 "num - 2.5") == (0, "[1.23457e+08,2.5]")


def test_too_deep_is_reported_not_printed(build_dir: Path) -> None:
    assert write(build_dir, *["open - ["] * 16) == (0, "[" * 16 + "]" * 16)
    assert write(build_dir, *["open - ["] * 17) == (1, "failed")


def test_empty_document(build_dir: Path) -> None:
    assert write(build_dir) == (0, "")
