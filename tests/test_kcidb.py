# SPDX-License-Identifier: GPL-2.0
"""`run.py report kcidb`: KCIDB I/O v5.3 export of a report.json.

The schema is our transcription of kcidb-io's v05_03.py
(reports/schema/kcidb-5.3.schema.json); check_kcidb() adds what that
jsonschema cannot check here (date-time and uri formats, paths matched
whole, links between objects, no nulls)."""
from __future__ import annotations

import itertools
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest

from reports_util import DATA, ROOT

from reports import expectations as expect
from reports import kcidb
from reports.cli import report_main
from reports.document import load_runs
from reports.model import Binary, Point, Run
from reports.pipeline import apply_expectations, publish, read_streams

SCHEMA = json.loads((ROOT / "reports/schema/kcidb-5.3.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
# RFC 3339 section 5.6 date-time: the offset is required.
RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")
PATH = re.compile(r"([a-zA-Z0-9_-]+(\.[a-zA-Z0-9_-]+)*)?")
# Six kernel columns: a host with a failure and a timeout, bookworm with an
# xfail and xpasses, a cut trixie stream (error, notrun), a real 770-point
# trixie run, the host's kernel again later (splat), garbage (no kernel).
MATRIX = ("host", "bookworm", "truncated", "trixie", "splat", "garbage")


def check_kcidb(doc: dict[str, Any], origin: str = "faultline") -> None:
    """Raise if doc is not v5.3 data, or not what the export promises."""
    errors = sorted(VALIDATOR.iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])

    def walk(node: Any, key: str = "") -> None:
        assert node is not None, f"null at {key}"
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, k)
        elif isinstance(node, list):
            for v in node:
                walk(v, key)
        elif key.endswith("time") and isinstance(node, str):
            assert RFC3339.fullmatch(node), f"{key}: {node!r} is not RFC 3339"
        elif key.endswith("url") and isinstance(node, str):
            assert urlsplit(node).scheme and urlsplit(node).netloc, node
    walk(doc)
    ids = {}
    for kind in ("checkouts", "builds", "tests", "issues", "incidents"):
        objs = doc.get(kind, [])
        ids[kind] = {o["id"] for o in objs}
        assert len(ids[kind]) == len(objs), f"duplicate {kind} ids"
        for o in objs:
            assert o["origin"] == origin and o["id"].startswith(origin + ":")
    for b in doc.get("builds", []):
        assert b["checkout_id"] in ids["checkouts"] or \
            not b["checkout_id"].startswith(origin + ":")
    for t in doc.get("tests", []):
        assert PATH.fullmatch(t["path"]), t["path"]   # the schema's `$` allows "\n"
        assert t["build_id"] in ids["builds"] or not t["build_id"].startswith(origin + ":")
    versions = {i["id"]: i["version"] for i in doc.get("issues", [])}
    for i in doc.get("incidents", []):
        assert versions[i["issue_id"]] == i["issue_version"]
        assert i["test_id"] in ids["tests"]


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """report.json of the six-column matrix, written by the current code."""
    out = tmp_path_factory.mktemp("matrix")
    runs = read_streams([DATA / f"{n}.stream" for n in MATRIX])
    apply_expectations(runs, expect.load(DATA / "expectations.yaml"))
    publish(runs, out)
    return out / "report.json"


def export(report: Path, *opts: str) -> dict[str, Any]:
    out = report.parent / "kcidb.json"
    assert report_main(["kcidb", str(report), "--origin", "faultline",
                        *opts, "-o", str(out)]) == 0
    return json.loads(out.read_text())


def test_matrix_export_is_valid_v53(matrix: Path) -> None:
    doc = export(matrix)
    check_kcidb(doc)
    assert doc["version"] == {"major": 5, "minor": 3}
    runs = load_runs(matrix)
    points = sum(len(r.points) for r in runs)
    incomplete = sum(r.stream_state != "complete" for r in runs)
    assert len(doc["tests"]) == points + incomplete
    # one checkout and build per kernel: host and splat share a release,
    # not a kernel (their `uname -v` differ)
    assert len(doc["checkouts"]) == len(doc["builds"]) == len(runs)
    paths = {t["path"] for t in doc["tests"]}
    assert {"faultline.copy.anon.eexist", "faultline.errno.-n3", "faultline"} <= paths


def test_statuses_fields_and_waived_xfail(matrix: Path) -> None:
    doc = export(matrix)
    tests = doc["tests"]
    by_status: dict[str, list[dict[str, Any]]] = {}
    for t in tests:
        if t["path"] != "faultline":
            by_status.setdefault(t["misc"]["faultline_status"], []).append(t)
    assert set(by_status) == set(kcidb.STATUS)      # every status is exercised
    for status, ts in by_status.items():
        assert {t["status"] for t in ts} == {kcidb.STATUS[status]}
        for t in ts:
            assert ("log_excerpt" in t) == (status in ("fail", "timeout", "xfail", "error"))
            assert t["environment"]["misc"]["target"]
            assert t["start_time"].endswith("+00:00")
    xfail = by_status["xfail"][0]
    assert xfail["misc"]["waived"] is True and "waived" not in xfail
    assert xfail["comment"] == xfail["misc"]["expectation"]["reason"]
    assert "was fail:" in xfail["log_excerpt"]
    assert all("waived" not in t["misc"] for t in by_status["xpass"])
    present = {i["test_id"]: i["present"] for i in doc["incidents"]}
    assert present[xfail["id"]] is True
    assert all(present[t["id"]] is False for t in by_status["xpass"])
    issue = next(i for i in doc["issues"] if i["misc"]["expectation"]["id"]
                 == "errno.*.unregister_foreign")
    assert issue["report_url"] == "https://example.invalid/uffd-unregister-foreign"
    garbage = [t for t in tests if t["path"] == "faultline"]
    assert {t["misc"]["stream_state"] for t in garbage} == {"truncated", "garbage"}
    assert all(t["status"] == "ERROR" and t["log_excerpt"] for t in garbage)
    build = next(b for b in doc["builds"] if "trixie" in b["id"] and "6.12.118" in b["id"])
    assert build["architecture"] == "x86_64" and build["config_name"] == "cloud-amd64"
    co = next(c for c in doc["checkouts"] if c["id"] == build["checkout_id"])
    assert co["misc"]["debian_version"] == "6.12.118-1"
    assert co["misc"]["debian_package"] == "linux-image-6.12.118+deb13-cloud-amd64"


def test_ids_are_stable_and_unique(matrix: Path, tmp_path: Path) -> None:
    first, again = export(matrix), export(matrix)
    assert first == again               # a re-submission updates, not adds
    runs = load_runs(matrix)
    twice = kcidb.export(runs + load_runs(matrix), "faultline")
    check_kcidb(twice)                  # the same report merged with itself
    assert len(twice["tests"]) == 2 * len(first["tests"])
    # the same kernel twice: its checkout and build once, its tests twice
    assert twice["builds"] == first["builds"]
    assert twice["checkouts"] == first["checkouts"]
    host = [t for t in twice["tests"] if t["path"] == "faultline.copy.anon.eexist"
            and t["environment"]["misc"].get("release") == "6.18.44-amd64"]
    assert len(host) == 2 and host[0]["build_id"] == host[1]["build_id"]
    assert host[1]["id"] == host[0]["id"].replace("/copy.anon.eexist",
                                                  "#2/copy.anon.eexist")


@pytest.mark.parametrize("pid,path", [
    ("copy.anon.eexist", "faultline.copy.anon.eexist"),
    ("errno.#3", "faultline.errno.-n3"),
    ("wp.hugetlb_private.fork-x", "faultline.wp.hugetlb_private.fork--x"),
    ("a..b", "faultline.a.-e.b"),
    ("copy.kernel_log", "faultline.copy.kernel_log"),
    ("poison.x[ 23.5] MCE: y", "faultline.poison.x-x5b-x2023.5-x5d-x20MCE-x3a-x20y"),
    ("mem.é€", "faultline.mem.-xe9-u0020ac")])
def test_path_escapes(pid: str, path: str) -> None:
    assert kcidb.test_path(pid) == path
    assert kcidb.decode_path(path) == pid


def test_paths_are_injective_and_valid() -> None:
    """Every id of up to four characters from an alphabet of the hard
    cases gets its own valid path, which decodes back to it."""
    seen: dict[str, str] = {}
    for n in range(5):
        for chars in itertools.product("a_-#. é", repeat=n):
            pid = "".join(chars)
            path = kcidb.test_path(pid)
            assert PATH.fullmatch(path), (pid, path)
            assert seen.setdefault(path, pid) == pid, f"{pid!r} and {seen[path]!r}"
            assert kcidb.decode_path(path) == pid
    for bad in ("faultline", "ltp.x", "faultline.a-q", "faultline.a-x4"):
        with pytest.raises(ValueError):
            kcidb.decode_path(bad)


def test_log_excerpt_is_bounded_and_nul_free() -> None:
    run = Run(target="host", kernel={"release": "6.18.0", "machine": "x86_64"},
              started="2026-12-01T20:40:00Z")
    diag = [f"# line {i} " + "x" * 200 for i in range(200)] + ["nul\0here"]
    run.binaries = [Binary("copy", points=[
        Point("copy.anon.big", "fail", 1, "first assertion", diagnostics=diag)])]
    doc = kcidb.export([run], "ci")
    check_kcidb(doc, "ci")
    text = doc["tests"][0]["log_excerpt"]
    assert len(text) == kcidb.LOG_EXCERPT_MAX
    assert text.startswith("copy.anon.big: fail: first assertion\n# line 0 ")
    assert re.search(r"\[\.\.\. \d+ more characters cut by faultline\]\n$", text)
    assert "\0" not in kcidb.log_excerpt(["a\0b"])
    assert len(kcidb.log_excerpt(["y" * 16383])) == 16384     # fits exactly


def test_given_ids_link_or_replace(matrix: Path) -> None:
    runs = [r for r in load_runs(matrix) if r.stream_state == "complete"]
    ours = kcidb.export(runs[:1], "faultline", ["faultline:tree-1"], ["faultline:b1"])
    check_kcidb(ours)
    assert [c["id"] for c in ours["checkouts"]] == ["faultline:tree-1"]
    assert [b["id"] for b in ours["builds"]] == ["faultline:b1"]
    theirs = kcidb.export(runs[:2], "faultline", [], ["kernelci:b1", "kernelci:b2"])
    check_kcidb(theirs)     # another origin's build: linked, not written
    assert "builds" not in theirs and "checkouts" not in theirs
    assert {t["build_id"] for t in theirs["tests"]} == {"kernelci:b1", "kernelci:b2"}
    shared = kcidb.export(runs, "faultline", ["kernelci:c1"])
    check_kcidb(shared)
    assert {b["checkout_id"] for b in shared["builds"]} == {"kernelci:c1"}
    assert "checkouts" not in shared


def test_cli_errors_and_stdout(matrix: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["kcidb", str(matrix.parent)]            # a results directory works
    assert report_main(base + ["--origin", "faultline"]) == 0
    check_kcidb(json.loads(capsys.readouterr().out))
    for opts, msg in [(["--origin", "Faultline"], "a-z, 0-9 and _"),
                      (["--origin", "f", "--build-id", "f:1"], "given 1 times for 6"),
                      (["--origin", "f", "--checkout-id", "nocolon"], "not a KCIDB id")]:
        assert report_main(base + opts) == 2
        assert msg in capsys.readouterr().err
    assert report_main(["kcidb", str(matrix.parent / "nope.json"), "--origin", "f"]) == 2
    assert report_main(["kcidb", str(matrix)]) == 2     # --origin is required


def test_schema_catches_what_v53_forbids(matrix: Path) -> None:
    """The validator can fail: each change breaks one v5.3 rule."""
    good = export(matrix)
    breakers = [
        lambda d: d["tests"][0].__setitem__("waived", True),     # gone since v5.1
        lambda d: d["tests"][0].__setitem__("status", "XFAIL"),
        lambda d: d["tests"][0].__setitem__("path", "faultline.errno.#3"),
        lambda d: d["tests"][0].pop("build_id"),
        lambda d: d["tests"][0].__setitem__("log_excerpt", "x" * 16385),
        lambda d: d["tests"][0].__setitem__("comment", "a\0b"),
        lambda d: d["builds"][0].__setitem__("architecture", "x86-64"),
        lambda d: d["checkouts"][0].__setitem__("origin", "Faultline"),
        lambda d: d["issues"][0].__setitem__("version", -1),
        lambda d: d.__setitem__("version", {"major": 4}),
    ]
    for i, breaker in enumerate(breakers):
        doc = json.loads(json.dumps(good))
        breaker(doc)
        assert list(VALIDATOR.iter_errors(doc)), f"breaker {i} not caught"
    doc = json.loads(json.dumps(good))
    doc["tests"][0]["start_time"] = "2026-12-01T20:40:00"          # no offset
    with pytest.raises(AssertionError, match="RFC 3339"):
        check_kcidb(doc)
