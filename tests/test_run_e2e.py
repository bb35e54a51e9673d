# SPDX-License-Identifier: GPL-2.0
"""End to end: ./run.py on the host kernel with the real runner and cases."""
from __future__ import annotations

import json
import os
import re
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from reports_util import ROOT, validate

RESULT_RE = re.compile(r"^(ok|not ok) \d+")


def tap_counts(stream: str) -> dict[str, int]:
    """Result lines inside binary sections by kind, counted independently
    of reports/ (and of python3-tap)."""
    inside = False
    n = {"results": 0, "skip": 0, "fail": 0}
    for line in stream.splitlines():
        if line.startswith("@@faultline binary-begin"):
            inside = True
        elif line.startswith("@@faultline binary-end"):
            inside = False
        elif inside and RESULT_RE.match(line):
            n["results"] += 1
            if re.search(r"#\s*SKIP", line, re.I):
                n["skip"] += 1
            elif line.startswith("not ok"):
                n["fail"] += 1
    return n


def test_run_py_on_host(build_dir: Path, tmp_path: Path) -> None:
    if not os.access(build_dir / "faultline-runner", os.X_OK):
        pytest.skip("build/faultline-runner is not built (runner/ "
                    "not in this tree)")
    out = tmp_path / "out"
    t0 = time.monotonic()
    none = tmp_path / "none.yaml"       # no expectations: counts must agree
    none.write_text("expectations: []\n")
    res = subprocess.run(["/usr/bin/python3", str(ROOT / "run.py"), "-o", str(out),
                          "--build-dir", str(build_dir), "--expectations",
                          str(none)],
                         text=True, capture_output=True, timeout=300)
    took = time.monotonic() - t0
    print(f"e2e ./run.py took {took:.1f} s\n{res.stdout}")
    assert res.returncode in (0, 1), res.stdout + res.stderr
    doc = json.loads((out / "report.json").read_text())
    validate(doc)
    assert doc["exit_code"] == res.returncode
    (run,) = doc["runs"]
    assert run["stream_state"] == "complete"
    assert run["kernel"]["release"] == os.uname().release
    names = sorted(p.name for p in (build_dir / "cases").iterdir())
    assert sorted(b["name"] for b in run["binaries"]) == names

    tap = tap_counts((out / "host.stream").read_text())
    points = [p for b in run["binaries"] for p in b["points"]]
    assert tap["results"] > 0 and len(points) == tap["results"]
    junit = ET.parse(out / "junit.xml").getroot()
    assert int(junit.get("tests")) == len(junit.findall(".//testcase")) \
        == tap["results"]
    assert int(junit.get("skipped")) == tap["skip"]
    failed = int(junit.get("failures")) + int(junit.get("errors"))
    if not any(b["kmsg_alert"] for b in run["binaries"]):
        assert failed == tap["fail"]
    assert (failed == 0) == (res.returncode == 0)
    assert "faultline: " in res.stdout
    html = (out / "report.html").read_text()
    assert html.count('<tr class="case"') == tap["results"]
