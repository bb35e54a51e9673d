# SPDX-License-Identifier: GPL-2.0
"""report.json -> KCIDB I/O data, schema v5.3 (`run.py report kcidb`).

KCIDB (kernelci/kcidb-io, kcidb_io/schema/v05_03.py) links checkouts ->
builds -> tests, each identified by `<origin>:<anything>`. A faultline
report knows kernels, not git trees, so each kernel column becomes one
checkout (the kernel's source: the Debian package version stands in for the
unknown commit, in `misc` and `comment`) and one build (the kernel binary),
and every point one test under the path `faultline.<point id>`. The full
mapping (ids, paths, statuses, fields) is in reports/README.md, "KCIDB".
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any, Iterable
from urllib.parse import quote, urlsplit

from .model import Binary, Point, Run

SCHEMA_VERSION = {"major": 5, "minor": 3}
SUITE = "faultline"                 # the top of every test path
LOG_EXCERPT_MAX = 16384             # v5.3 maxLength of every log_excerpt
ORIGIN_RE = re.compile(r"[a-z0-9_]+")
OBJECT_ID_RE = re.compile(r"([a-z0-9_]+):.*", re.S)

# faultline status -> KCIDB status. v5.3 has FAIL ERROR MISS PASS DONE SKIP
# and no `waived` (dropped after v5.0): an xfail is a FAIL whose misc says
# waived, with an incident of the expectation's issue.
STATUS = {"pass": "PASS", "xpass": "PASS", "fail": "FAIL", "timeout": "FAIL",
          "xfail": "FAIL", "error": "ERROR", "skip": "SKIP", "notrun": "MISS"}
WITH_LOG = frozenset({"fail", "timeout", "xfail", "error"})

# `uname -m` -> the kernel's ARCH name, which KCIDB dashboards show.
KERNEL_ARCH = {"x86_64": "x86_64", "aarch64": "arm64", "riscv64": "riscv",
               "i686": "i386", "i386": "i386", "armv7l": "arm",
               "ppc64le": "powerpc", "ppc64": "powerpc", "s390x": "s390",
               "loongarch64": "loongarch", "mips64": "mips"}

_PLAIN = re.compile(r"[A-Za-z0-9_]")


class KcidbError(ValueError):
    """Bad export options (usage error, exit 2)."""


# -- test paths ------------------------------------------------------------
# v5.3 paths are dot-separated names of [A-Za-z0-9_-]. A point id keeps its
# dots as the separators; in each part letters, digits and '_' stay, and
# every other character is written with '-' as the escape: '--' for '-',
# '-n' for '#', '-xHH' for another character below U+0100, '-uHHHHHH'
# above, and '-e' for an empty part. Each escape's length is fixed by the
# letter after '-', so the mapping is injective and decode_path() undoes it:
# errno.#3 -> faultline.errno.-n3.

def _escape(ch: str) -> str:
    if _PLAIN.match(ch):
        return ch
    if ch in "-#":
        return {"-": "--", "#": "-n"}[ch]
    code = ord(ch)
    return f"-x{code:02x}" if code < 0x100 else f"-u{code:06x}"


def test_path(point_id: str) -> str:
    parts = ["".join(map(_escape, part)) or "-e" for part in point_id.split(".")]
    return ".".join([SUITE] + parts)


def decode_path(path: str) -> str:
    """The point id a test path was made from (ValueError if it was not)."""
    head, _, rest = path.partition(".")
    if head != SUITE or not rest:
        raise ValueError(f"not a {SUITE} test path: {path!r}")
    out = []
    for part in rest.split("."):
        if part == "-e":
            out.append("")
            continue
        text, i = [], 0
        while i < len(part):
            ch = part[i]
            if ch != "-":
                text.append(ch)
                i += 1
                continue
            kind = part[i + 1:i + 2]
            width = {"-": 0, "n": 0, "x": 2, "u": 6}.get(kind)
            if width is None or i + 2 + width > len(part):
                raise ValueError(f"bad escape in {path!r}")
            text.append({"-": "-", "n": "#"}.get(kind)
                        or chr(int(part[i + 2:i + 2 + width], 16)))
            i += 2 + width
        out.append("".join(text))
    return ".".join(out)


# -- text ------------------------------------------------------------------

def _text(s: Any) -> str:
    """A string KCIDB accepts: v5.3 forbids NUL in every text field."""
    return str(s).replace("\0", "\\0")


def log_excerpt(lines: Iterable[str], limit: int = LOG_EXCERPT_MAX) -> str:
    """The lines, cut at the head to at most @limit characters."""
    text = _text("\n".join(lines)) + "\n"
    if len(text) <= limit:
        return text
    mark = "\n[... {} more characters cut by faultline]\n"
    keep = limit - len(mark.format(len(text)))
    return text[:keep] + mark.format(len(text) - keep)


def rfc3339(stamp: str | None) -> str | None:
    """The run's start time with an explicit offset, or None if unreadable
    (report.json writes UTC with a Z; a zone-less stamp is taken as UTC)."""
    try:
        when = _dt.datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=_dt.timezone.utc)
    return when.isoformat()


# -- identities ------------------------------------------------------------

def _seg(value: Any) -> str:
    """One part of an object id: percent-encoded, so '/' only separates."""
    return quote(str(value), safe=":+-._~@")


def package_version(run: Run) -> tuple[str | None, str | None]:
    """The kernel's Debian package and version: the orchestrator's record,
    else the version `uname -v` of a Debian kernel carries."""
    pkg, ver = run.info.get("package"), run.info.get("version")
    if pkg and not ver:
        ver = (run.info.get("packages") or {}).get(pkg)
    if not ver:
        m = re.search(r"\bDebian (\S+)", str(run.kernel.get("version") or ""))
        ver = m.group(1) if m else None
    return (str(pkg) if pkg else None), (str(ver) if ver else None)


@dataclass
class Column:
    """One kernel column's KCIDB identities."""
    run: Run
    checkout_id: str
    build_id: str
    test_prefix: str             # + "/" + encoded point id
    own_checkout: bool
    own_build: bool


def _kernel_key(run: Run) -> str:
    """Target, release and package version (else uname -v): the same
    kernel in two reports gets the same checkout and build."""
    _, ver = package_version(run)
    return "/".join(_seg(v) for v in (
        run.target, run.release, ver or run.kernel.get("version") or "-",
        run.kernel.get("machine") or "-"))


def _run_key(run: Run, index: int) -> str:
    """The kernel, when the run started and (hashed) where: a re-export of
    the same report gives the same ids, another run of it new ones."""
    host = hashlib.sha256(str(run.kernel.get("hostname")).encode()).hexdigest()[:8]
    return f"{_kernel_key(run)}/{_seg(run.started or f'column{index}')}/{host}"


def _own(object_id: str, origin: str) -> bool:
    m = OBJECT_ID_RE.fullmatch(object_id)
    if not m:
        raise KcidbError(f"{object_id!r} is not a KCIDB id (<origin>:<id>, "
                         "origin of a-z 0-9 _)")
    return m.group(1) == origin


def _per_column(ids: list[str], runs: list[Run], what: str,
                shared_ok: bool) -> list[str | None]:
    if not ids:
        return [None] * len(runs)
    if len(ids) == len(runs):
        return list(ids)
    if len(ids) == 1 and (shared_ok or len(runs) == 1):
        return ids * len(runs)
    raise KcidbError(f"--{what}-id given {len(ids)} times for {len(runs)} "
                     f"kernel columns: give it once per column, in order"
                     + (" (or once, shared by every column)" if shared_ok else ""))


def columns(runs: list[Run], origin: str, checkout_ids: list[str] = (),
            build_ids: list[str] = ()) -> list[Column]:
    """Ids per kernel column. An id given with another origin's prefix
    names an object that origin submitted: it is linked to, not written."""
    if not ORIGIN_RE.fullmatch(origin):
        raise KcidbError(f"--origin {origin!r}: use a-z, 0-9 and _ only")
    checkouts = _per_column(list(checkout_ids), runs, "checkout", True)
    builds = _per_column(list(build_ids), runs, "build", False)
    out: list[Column] = []
    seen: dict[str, int] = {}
    for i, run in enumerate(runs):
        key = _run_key(run, i)
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:       # the same run merged twice: keep both
            key += f"#{seen[key]}"      # '#' is never left raw by _seg()
        co = checkouts[i] or f"{origin}:{_kernel_key(run)}"
        bu = builds[i] or f"{origin}:{_kernel_key(run)}"
        own_build = _own(bu, origin)
        # another origin's build already names its own checkout
        out.append(Column(run, co, bu, f"{origin}:{key}",
                          own_build and _own(co, origin), own_build))
    return out


# -- objects ---------------------------------------------------------------

def _drop_empty(d: dict[str, Any]) -> dict[str, Any]:
    """v5.3 allows no null anywhere: leave unknown fields out."""
    return {k: v for k, v in d.items() if v not in (None, "", {}, [])}


def _kernel_misc(run: Run) -> dict[str, Any]:
    pkg, ver = package_version(run)
    return _drop_empty({"kernel_release": run.kernel.get("release"),
                        "uname_version": run.kernel.get("version"),
                        "debian_package": pkg, "debian_version": ver,
                        "target": run.target})


def _kernel_comment(run: Run) -> str:
    pkg, ver = package_version(run)
    if pkg:
        what = f"{pkg} {ver or ''}".strip()
    else:
        what = f"kernel {run.release}" + (f", Debian {ver}" if ver else "")
    return _text(f"{what} ({run.target})")


def checkout(col: Column, origin: str) -> dict[str, Any]:
    # No git tree is known: the package version is the revision, in misc
    # and comment; `valid` because the kernel's source evidently built.
    return {"id": col.checkout_id, "origin": origin, "valid": True,
            "comment": _kernel_comment(col.run), "misc": _kernel_misc(col.run)}


def build(col: Column, origin: str) -> dict[str, Any]:
    run = col.run
    machine = str(run.kernel.get("machine") or "")
    arch = KERNEL_ARCH.get(machine) or re.sub(r"[^a-z0-9_]", "_", machine.lower())
    return _drop_empty({
        "id": col.build_id, "origin": origin, "checkout_id": col.checkout_id,
        "architecture": arch, "config_name": run.info.get("flavour"),
        "comment": _kernel_comment(run), "status": "PASS",
        "misc": _kernel_misc(run)})


def _environment(run: Run) -> dict[str, Any]:
    misc = {"release": run.kernel.get("release"), "target": run.target,
            "arch": run.kernel.get("machine"), "accel": run.info.get("accel"),
            "qemu_version": run.info.get("qemu_version")}
    return {"comment": _text(run.label), "misc": _drop_empty(misc)}


def _point_test(col: Column, origin: str, binary: Binary, p: Point,
                test_id: str) -> dict[str, Any]:
    run = col.run
    misc: dict[str, Any] = {"faultline_status": p.status, "binary": binary.name,
                            "tap_number": p.number, "during": p.during}
    if p.expectation:
        misc["expectation"] = _drop_empty(dict(p.expectation))
    if p.status == "xfail":
        misc["waived"] = True
    test = {"id": test_id, "origin": origin, "build_id": col.build_id,
            "path": test_path(p.id), "status": STATUS[p.status],
            "comment": _text(p.reason) if p.reason else None,
            "start_time": rfc3339(run.started),
            "duration": p.duration_ms / 1000 if p.duration_ms is not None else None,
            "environment": _environment(run), "misc": _drop_empty(misc)}
    if p.status in WITH_LOG:
        head = f"{p.id}: {p.status}" + (f": {p.reason}" if p.reason else "")
        test["log_excerpt"] = log_excerpt([head] + p.diagnostics)
    return _drop_empty(test)


def _run_test(col: Column, origin: str) -> dict[str, Any]:
    """A run that did not complete (no stream, cut stream, never booted):
    one ERROR at the suite's path, whatever points it kept, with the cause
    and the console's last lines."""
    run = col.run
    head = f"stream {run.stream_state}: {run.cause or 'no cause recorded'}"
    return _drop_empty({
        "id": col.test_prefix, "origin": origin, "build_id": col.build_id,
        "path": SUITE, "status": "ERROR", "comment": _text(head),
        "start_time": rfc3339(run.started),
        "duration": run.duration_ms / 1000 if run.duration_ms is not None else None,
        "environment": _environment(run), "log_excerpt": log_excerpt([head] + run.console),
        "misc": {"stream_state": run.stream_state}})


def _issue(exp: dict[str, Any], origin: str) -> dict[str, Any]:
    """One issue per expectation entry; any change to it is a new issue."""
    digest = hashlib.sha256(json.dumps(exp, sort_keys=True).encode()).hexdigest()[:16]
    link = exp.get("link")
    url = link if link and urlsplit(str(link)).scheme in ("http", "https") else None
    return _drop_empty({
        "id": f"{origin}:expectation/{_seg(exp.get('id'))}/{digest}",
        "version": 1, "origin": origin, "report_url": url,
        "comment": _text(exp.get("reason") or exp.get("id")),
        "culprit": {"code": True, "tool": False, "harness": False},
        "misc": {"expectation": _drop_empty(dict(exp))}})


def export(runs: list[Run], origin: str, checkout_ids: list[str] = (),
           build_ids: list[str] = ()) -> dict[str, Any]:
    """The KCIDB v5.3 document of a report's runs."""
    cols = columns(runs, origin, checkout_ids, build_ids)
    doc: dict[str, Any] = {"version": dict(SCHEMA_VERSION)}
    out: dict[str, dict[str, Any]] = {k: {} for k in
                                      ("checkouts", "builds", "tests", "issues", "incidents")}
    for col in cols:
        if col.own_checkout:
            out["checkouts"].setdefault(col.checkout_id, checkout(col, origin))
        if col.own_build:
            out["builds"].setdefault(col.build_id, build(col, origin))
        if col.run.stream_state != "complete":
            out["tests"][col.test_prefix] = _run_test(col, origin)
        for b in col.run.binaries:
            for p in b.points:
                test_id = f"{col.test_prefix}/{_seg(p.id)}"
                n = 2
                while test_id in out["tests"]:      # a point id seen twice
                    test_id = f"{col.test_prefix}/{_seg(p.id)}#{n}"
                    n += 1
                out["tests"][test_id] = _point_test(col, origin, b, p, test_id)
                if p.status in ("xfail", "xpass") and p.expectation:
                    issue = _issue(p.expectation, origin)
                    out["issues"].setdefault(issue["id"], issue)
                    out["incidents"][test_id] = {
                        "id": test_id, "origin": origin, "issue_id": issue["id"],
                        "issue_version": issue["version"], "test_id": test_id,
                        "present": p.status == "xfail"}
    for kind, objs in out.items():
        if objs:
            doc[kind] = list(objs.values())
    return doc
