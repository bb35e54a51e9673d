# SPDX-License-Identifier: GPL-2.0
"""uffd-bench: options and exit codes, the JSON schema, coverage of every
measurement the kernel can do, and verification that catches a lie.

No test here times anything: the figures are the benchmark's business.
The expectations for "what can be measured" come from uffd-probe's JSON
(what the kernel reports), not from the benchmark itself.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "bench" / "uffd-bench" / "schema.json"
MEMS = ("anon", "shmem", "shmem_private", "hugetlb", "hugetlb_private")
LATENCY = ("missing_copy", "missing_zeropage", "minor_continue",
           "wp_unprotect", "missing_move")
THROUGHPUT = ("copy", "zeropage", "continue", "move", "poison",
              "writeprotect", "unprotect", "wp_async_scan")

# op -> (register mode, ioctl REGISTER must offer, extra features)
OPS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "missing_copy": ("MISSING", "COPY", ()),
    "missing_zeropage": ("MISSING", "ZEROPAGE", ()),
    "minor_continue": ("MINOR", "CONTINUE", ()),
    "wp_unprotect": ("WP", "WRITEPROTECT", ()),
    "missing_move": ("MISSING", "MOVE", ("MOVE",)),
    "copy": ("MISSING", "COPY", ()),
    "zeropage": ("MISSING", "ZEROPAGE", ()),
    "continue": ("MINOR", "CONTINUE", ()),
    "move": ("MISSING", "MOVE", ("MOVE",)),
    "poison": ("MISSING", "POISON", ("POISON",)),
    "writeprotect": ("WP", "WRITEPROTECT", ()),
    "unprotect": ("WP", "WRITEPROTECT", ()),
    "wp_async_scan": ("WP", "WRITEPROTECT", ("WP_ASYNC",)),
}

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="the benchmark needs a full uffd and huge pages")


def run(cmd: list[str], timeout: int = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def bench(build_dir: Path) -> Path:
    return build_dir / "uffd-bench"


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA.read_text())


def validate(doc: dict[str, Any], schema: dict[str, Any]) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(doc)


@pytest.fixture(scope="module")
def quick(bench: Path) -> tuple[int, dict[str, Any]]:
    """One --quick --json run over every type: (exit code, document)."""
    proc = run([str(bench), "--quick", "--json"])
    assert proc.stdout, proc.stderr
    return proc.returncode, json.loads(proc.stdout)


@pytest.fixture(scope="module")
def probe(build_dir: Path) -> dict[str, Any]:
    proc = run([str(build_dir / "uffd-probe"), "--json"])
    return json.loads(proc.stdout)


# ---- options and exit codes ----

def test_help(bench: Path) -> None:
    proc = run([str(bench), "--help"])
    assert proc.returncode == 0
    for name in ("touch", "memcpy") + LATENCY + THROUGHPUT:
        assert re.search(rf"^  {name} ", proc.stdout, re.M), name
    for opt in ("--json", "--quick", "--mem", "--only", "--repeats",
                "--budget", "--batch"):
        assert opt in proc.stdout


@pytest.mark.parametrize("args,message", [
    (["--bogus"], "bad option '--bogus'"),
    (["--mem", "anon,ramfs"], "unknown memory type 'ramfs'"),
    (["--only", "copy,teleport"], "unknown measurement 'teleport'"),
    (["--repeats", "0"], "--repeats wants 1 to 64"),
    (["--repeats", "65"], "--repeats wants 1 to 64"),
    (["--repeats", "x"], "--repeats wants 1 to 64"),
    (["--batch", "0"], "--batch wants"),
    (["--pages", "-3"], "--pages wants"),
    (["--faults", "1e3"], "--faults wants"),
    (["--budget", "0"], "--budget wants"),
    (["--budget", "soon"], "--budget wants"),
    (["--mem"], "bad option '--mem'"),
    (["--placement", "apart"], "--placement wants split, same or any"),
    (["extra"], "unexpected argument 'extra'"),
])
def test_usage_errors(bench: Path, args: list[str], message: str) -> None:
    proc = run([str(bench)] + args)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "--help" in proc.stderr
    assert proc.stdout == ""


# ---- JSON ----

def test_quick_json_validates(quick: tuple[int, dict[str, Any]],
                              schema: dict[str, Any]) -> None:
    code, doc = quick
    validate(doc, schema)
    assert doc["exit_code"] == code
    assert doc["kernel"]["release"] == os.uname().release
    assert doc["config"]["quick"] is True
    assert [t["mem"] for t in doc["memory_types"]] == list(MEMS)


def test_schema_rejects_numbers_for_a_failure(quick: tuple[int, dict[str, Any]],
                                              schema: dict[str, Any]) -> None:
    """A failed entry may carry a reason, never figures."""
    jsonschema = pytest.importorskip("jsonschema")
    doc = json.loads(json.dumps(quick[1]))
    measured = [e for t in doc["memory_types"] if t["status"] == "measured"
                for e in t["throughput"] if e["status"] == "measured"]
    assert measured
    measured[0]["status"] = "failed"
    assert not jsonschema.Draft202012Validator(schema).is_valid(doc)


def _mode_features(mode: str, mem: str) -> set[str]:
    huge = mem.startswith("hugetlb")
    if mode == "MISSING":
        return set() if mem == "anon" else {
            "MISSING_HUGETLBFS" if huge else "MISSING_SHMEM"}
    if mode == "WP":
        return {"PAGEFAULT_FLAG_WP"} | (set() if mem == "anon"
                                        else {"WP_HUGETLBFS_SHMEM"})
    return {"MINOR_HUGETLBFS" if huge else "MINOR_SHMEM"}


def expected_cause(probe: dict[str, Any], mem: str, op: str) -> str | None:
    """None when the kernel says @op can run on @mem, else the cause."""
    mode, ioctl, extra = OPS[op]
    if mode == "MINOR" and mem == "anon":
        return "not_applicable"
    if (_mode_features(mode, mem) | set(extra)) - set(probe["api"]["feature_names"]):
        return "no_feature"
    reg = next(r for r in probe["register"]
               if r["mem"] == mem and r["mode"] == mode)
    if reg["status"] != "yes":
        return "register_refused"
    if ioctl not in reg["ioctl_names"]:
        return "not_offered"
    if ioctl == "MOVE" and mem != "anon":
        return "refused"        # MOVE moves anonymous private pages only
    return None


def test_quick_covers_every_op_the_kernel_can_do(
        quick: tuple[int, dict[str, Any]], probe: dict[str, Any]) -> None:
    code, doc = quick
    assert code == 0, [e for t in doc["memory_types"]
                       for e in t.get("latency", []) + t.get("throughput", [])
                       if e["status"] == "failed"]
    assert doc["summary"]["failed"] == 0
    for t in doc["memory_types"]:
        if t["status"] != "measured":
            # Only the huge page pool may be missing (another run holds it).
            assert t["mem"].startswith("hugetlb") and t["cause"] == "no_huge_pages", t
            continue
        for floor in ("touch", "memcpy"):
            assert t["floors"][floor]["status"] == "measured", t["floors"][floor]
        entries = {e["op"]: e for e in t["latency"] + t["throughput"]}
        assert set(entries) == set(LATENCY + THROUGHPUT)
        for op, e in entries.items():
            cause = expected_cause(probe, t["mem"], op)
            where = f"{t['mem']} {op}: {e}"
            if cause is None:
                assert e["status"] == "measured", where
                assert e["verified"] is True
                assert e["repeats"] >= 1
                assert e["page_size"] == t["page_size"]
            else:
                assert e["status"] == "not_measured", where
                assert e["cause"] == cause, where
                assert e["reason"], where


def test_overheads_are_ratios_of_the_floors(quick: tuple[int, dict[str, Any]]) -> None:
    doc = quick[1]
    anon = next(t for t in doc["memory_types"] if t["mem"] == "anon")
    touch = anon["floors"]["touch"]
    memcpy = anon["floors"]["memcpy"]
    lat = next(e for e in anon["latency"] if e["op"] == "missing_copy")
    assert lat["x_touch"] == pytest.approx(
        lat["p50_ns"]["median"] / touch["p50_ns"]["median"], rel=1e-3)
    cp = next(e for e in anon["throughput"] if e["op"] == "copy")
    assert cp["x_memcpy"] == pytest.approx(
        memcpy["pages_per_s"]["median"] / cp["pages_per_s"]["median"], rel=1e-3)
    for e in anon["latency"] + anon["throughput"]:
        if e["status"] == "measured":
            for key in ("p50_ns", "p90_ns", "p99_ns", "pages_per_s"):
                if key in e:
                    s = e[key]
                    assert s["min"] <= s["median"] <= s["max"], (e["op"], key)
    assert anon["page_size"] == os.sysconf("SC_PAGE_SIZE")


def test_selection(bench: Path, schema: dict[str, Any]) -> None:
    proc = run([str(bench), "--json", "--quick", "--mem", "anon",
                "--only", "missing_copy,copy", "--repeats", "2"])
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    validate(doc, schema)
    assert doc["config"]["mem"] == ["anon"]
    assert doc["config"]["ops"] == ["touch", "memcpy", "missing_copy", "copy"]
    (anon,) = doc["memory_types"]
    assert [e["op"] for e in anon["latency"]] == ["missing_copy"]
    assert [e["op"] for e in anon["throughput"]] == ["copy"]
    assert all(e["repeats"] <= 2 for e in anon["latency"] + anon["throughput"])


@pytest.mark.parametrize("placement", ["same", "split", "any"])
def test_placement(bench: Path, schema: dict[str, Any], placement: str) -> None:
    """The threads are pinned as asked, and the output says where."""
    if placement == "split" and len(os.sched_getaffinity(0)) < 2:
        pytest.skip("one CPU: split placement cannot be had")
    proc = run([str(bench), "--json", "--quick", "--mem", "anon",
                "--only", "wp_unprotect", "--placement", placement])
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    validate(doc, schema)
    config = doc["config"]
    assert config["placement"] == placement
    cpus = config["cpus"]
    if placement == "any":
        assert cpus == {}
    else:
        allowed = sorted(os.sched_getaffinity(0))
        assert cpus["vcpu"] == allowed[0]
        assert (cpus["servicer"] == cpus["vcpu"]) == (placement == "same")
        assert cpus["servicer"] in allowed


def test_group_selection_and_text(bench: Path) -> None:
    proc = run([str(bench), "--quick", "--mem", "shmem", "--only", "latency"])
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "shmem, 4 KiB pages" in out and "floor touch" in out
    for op in LATENCY:
        assert re.search(rf"^  {op} ", out, re.M), op
    for op in THROUGHPUT:
        assert not re.search(rf"^  {op} ", out, re.M), op
    assert "missing_move      not measured: kernel refused UFFDIO_MOVE on shmem" in out
    assert out.rstrip().endswith("exit 0")


def test_huge_page_reservation_reported(bench: Path,
                                        schema: dict[str, Any]) -> None:
    proc = run([str(bench), "--quick", "--json", "--mem", "hugetlb",
                "--only", "copy"])
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    validate(doc, schema)
    huge = doc["huge_pages"]
    assert huge["page_size"] > 0
    assert huge["wanted"] == 2 * doc["config"]["huge_pages"] + 4 or huge["note"]
    (t,) = doc["memory_types"]
    if t["status"] != "measured":
        # The pool is shared with other runs: then the note says so.
        assert t["reason"] == huge["note"] and "huge pages" in t["reason"]
    else:
        assert t["page_size"] == huge["page_size"]


# ---- verification catches a lie ----

def test_selftest_catches_every_lie(build_dir: Path) -> None:
    """Crafted inputs, then every measured ioctl replaced by a liar that
    reports success without the work: each must come out failed."""
    proc = run([str(build_dir / "bench" / "uffd-bench-selftest")])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert not [ln for ln in lines if ln.startswith("not ok")]
    plan = re.search(r"^1\.\.(\d+)$", proc.stdout, re.M)
    assert plan and int(plan.group(1)) == sum(
        ln.startswith("ok ") for ln in lines)
    caught = {m.group(1) for m in re.finditer(
        r"^ok \d+ - (\w+) on \w+ with '[^']+': (?!NOT CAUGHT)", proc.stdout, re.M)}
    skipped = {m.group(1) for m in re.finditer(
        r"^ok \d+ - (\w+) on \w+ # SKIP", proc.stdout, re.M)}
    assert caught | skipped == set(LATENCY + THROUGHPUT)


# The project's liar (tools/liar/): one lie each, the measurements it
# concerns, and what each must come out as. Every lie of the catalogue
# ends in bounded time (a faulting thread that makes no progress for 2 s
# ends its measurement); these are the ones that change what the
# benchmark measures, plus one that only the watchdog can catch.
LIES = [
    # lie, memory type, --only (and options), {op: expected status}
    ("copy_skip", "anon", "copy,missing_copy",
     {"copy": "failed", "missing_copy": "failed"}),
    ("copy_wrong_byte", "anon", "copy,missing_copy",
     {"copy": "failed", "missing_copy": "failed"}),
    ("copy_field_zero", "shmem", "copy", {"copy": "failed"}),
    ("zeropage_skip", "anon", "zeropage", {"zeropage": "failed"}),
    ("zeropage_nonzero", "shmem", "zeropage,missing_zeropage",
     {"zeropage": "failed", "missing_zeropage": "failed"}),
    ("continue_skip", "shmem", "continue", {"continue": "failed"}),
    ("poison_skip", "anon", "poison", {"poison": "failed"}),
    ("poison_as_data", "hugetlb", "poison", {"poison": "failed"}),
    ("move_as_copy", "anon", "move,missing_move",
     {"move": "failed", "missing_move": "failed"}),
    ("wp_protect_noop", "anon", "writeprotect,wp_unprotect",
     {"writeprotect": "failed", "wp_unprotect": "failed"}),
    ("wp_unprotect_noop", "shmem", "unprotect", {"unprotect": "failed"}),
    # Short only over several pages: one page per ioctl would not see it.
    ("wp_short_range", "anon", "writeprotect --batch 4",
     {"writeprotect": "failed"}),
    ("register_noop", "anon", "copy,zeropage",
     {"copy": "failed", "zeropage": "failed"}),
    ("register_drops_wp", "anon", "writeprotect", {"writeprotect": "failed"}),
    ("feature_wp_async_ignored", "anon", "wp_async_scan",
     {"wp_async_scan": "failed"}),
    ("api_drops_asked", "anon", "move", {"move": "failed"}),
    ("msg_flag_write_set", "anon", "missing_copy", {"missing_copy": "failed"}),
    # A fault nobody is told about: the watchdog ends the pass (2 s).
    ("read_drop_first", "anon", "missing_zeropage",
     {"missing_zeropage": "failed"}),
    # The kernel's word is taken: an ioctl REGISTER does not offer is
    # not measured (and says so), which is not a failure.
    ("register_ioctls_no_copy", "anon", "copy,zeropage",
     {"copy": "not_measured", "zeropage": "measured"}),
]


@pytest.fixture(scope="module")
def liar(build_dir: Path) -> Path:
    lib = build_dir / "tools" / "liar.so"
    if not lib.exists():
        pytest.skip("no tools/liar.so in this build (STATIC=1?)")
    return lib


@pytest.mark.parametrize("lie,mem,only,want", LIES, ids=[x[0] for x in LIES])
def test_project_liar_is_caught(bench: Path, liar: Path, schema: dict[str, Any],
                                lie: str, mem: str, only: str,
                                want: dict[str, str]) -> None:
    """End to end under the project's LD_PRELOAD liar: the lied-about
    measurement fails (exit 1, a reason, no figures), the rest stands."""
    env = dict(os.environ, LD_PRELOAD=str(liar), FAULTLINE_LIE=lie)
    proc = subprocess.run([str(bench), "--json", "--quick", "--mem", mem,
                           "--only"] + only.split(), capture_output=True,
                          text=True, timeout=60, env=env)
    # The liar says when it fired, as a '#' comment line on stdout.
    doc = json.loads("\n".join(ln for ln in proc.stdout.splitlines()
                                if not ln.startswith("#")))
    validate(doc, schema)
    (t,) = doc["memory_types"]
    if t["status"] != "measured":
        pytest.skip(t["reason"])
    got = {e["op"]: e for e in t["latency"] + t["throughput"]}
    for op, status in want.items():
        assert got[op]["status"] == status, (lie, got[op])
        if status != "measured":
            assert got[op]["reason"]
    failed = "failed" in want.values()
    assert proc.returncode == (1 if failed else 0), proc.stdout + proc.stderr
    assert doc["exit_code"] == proc.returncode
    # The floors never go through userfaultfd: the lie cannot touch them.
    assert all(f["status"] == "measured" for f in t["floors"].values())
