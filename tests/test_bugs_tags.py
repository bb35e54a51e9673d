# SPDX-License-Identifier: GPL-2.0
"""The known-bugs battery (cases/bugs.c): every point carries exactly one
well-formed `# faultline-bug {...}` tag line before its result (the report's
"Known kernel bugs" section reads it), and cases/COVERAGE.md lists every bug.
"""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from ksft import parse

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "# faultline-bug "
KEYS = ["id", "fix", "title", "introduced", "cve", "symptom"]
SHA = re.compile(r"^[0-9a-f]{12,40}$")
RELEASE = re.compile(r"^\d+\.\d+(\.\d+)?$")
CVE = re.compile(r"^CVE-\d{4}-\d{4,}$")
ID = re.compile(r"^[a-z0-9_]+$")


@pytest.fixture(scope="module")
def points(cases_dir: Path):
    proc = subprocess.run([str(cases_dir / "bugs")], capture_output=True,
                          text=True, timeout=300)
    stream = parse(proc.stdout)
    assert not stream.errors, "\n".join(stream.errors)
    return stream.points


def tags_of(diagnostics: list[str]) -> list[list[tuple]]:
    # object_pairs_hook keeps the key order the report may rely on.
    return [json.loads(d[len(PREFIX):], object_pairs_hook=lambda kv: kv)
            for d in diagnostics if d.startswith(PREFIX)]


def tag_problems(name: str, diagnostics: list[str]) -> list[str]:
    """What is wrong with the tag line(s) of point @name."""
    area, bug, case = (name.split(".") + ["", "", ""])[:3]
    if (area, case) != ("bugs", "check") or not ID.match(bug):
        return [f"{name}: not bugs.<id>.check"]
    tags = tags_of(diagnostics)
    if len(tags) != 1:
        return [f"{name}: {len(tags)} tag lines"]
    if [k for k, _ in tags[0]] != KEYS:
        return [f"{name}: keys {[k for k, _ in tags[0]]}"]
    tag = dict(tags[0])
    intro = tag["introduced"]
    checks = {
        "id": tag["id"] == bug,
        "fix": isinstance(tag["fix"], str) and bool(SHA.match(tag["fix"])),
        "title": bool(tag["title"]),
        "symptom": bool(tag["symptom"]),
        "introduced": intro is None or bool(SHA.match(intro) or
                                            RELEASE.match(intro)),
        "cve": tag["cve"] is None or bool(CVE.match(tag["cve"])),
    }
    return [f"{name}: bad {k} {tag[k]!r}" for k, ok in checks.items() if not ok]


def test_every_point_has_one_well_formed_tag_line(points) -> None:
    assert len(points) >= 12
    problems = [x for p in points for x in tag_problems(p.name, p.diagnostics)]
    assert not problems, problems
    ids = [p.name.split(".")[1] for p in points]
    assert len(ids) == len(set(ids))


GOOD = ('# faultline-bug {"id":"x","fix":"0123456789ab","title":"t",'
        '"introduced":"6.1","cve":null,"symptom":"s"}')


@pytest.mark.parametrize("name,lines,why", [
    ("bugs.x.check", [GOOD, GOOD], "2 tag lines"),
    ("bugs.x.check", [], "0 tag lines"),
    ("bugs.y.check", [GOOD], "bad id"),
    ("bugs.x.check", [GOOD.replace("0123456789ab", "0123")], "bad fix"),
    ("bugs.x.check", [GOOD.replace('"6.1"', '"v6.1"')], "bad introduced"),
    ("bugs.x.check", [GOOD.replace("null", '"CVE-2024"')], "bad cve"),
    ("bugs.x.check", [GOOD.replace('"cve":null,', "")], "keys"),
    ("errnos.x.check", [GOOD], "not bugs"),
])
def test_checker_rejects_bad_tag_lines(name: str, lines: list[str], why: str) -> None:
    assert not tag_problems("bugs.x.check", [GOOD])
    problems = tag_problems(name, lines)
    assert problems and why in problems[0], problems


def test_coverage_lists_every_bug(points) -> None:
    coverage = (ROOT / "cases" / "COVERAGE.md").read_text()
    for p in points:
        bug = p.name.split(".")[1]
        fix = dict(tags_of(p.diagnostics)[0])["fix"][:12]
        row = next((line for line in coverage.splitlines()
                    if line.startswith(f"| `{bug}` |")), None)
        assert row, f"{bug} has no row in cases/COVERAGE.md"
        assert fix in row, f"{bug}: COVERAGE.md row does not name fix {fix}"
