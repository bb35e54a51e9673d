# SPDX-License-Identifier: GPL-2.0
"""The report document (report.json) and the matrix view renderers share.

A document holds one run per kernel; a single-kernel report is a matrix with
one column. Merge = concatenating the runs of several documents.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import REPORT_SCHEMA_VERSION, __version__
from .expectations import version_tuple
from .model import STATUSES, Point, Run, worst
from .probe_doc import (feature_order, features_summary, memory_types,
                        no_userfaultfd)
from .selection import selection_of

# report.json's `status` for each exit code.
STATUS_OF_EXIT = {0: "pass", 1: "fail", 2: "error", 4: "skip"}
EXIT_NO_USERFAULTFD = 4     # kselftest's KSFT_SKIP


def exit_code(runs: list[Run]) -> int:
    """0 all passed/skipped/xfailed; 1 failures; 2 a run could not be done;
    4 nothing failed, but no target could create a userfaultfd at all (its
    probe says so), so nothing that needs one ran anywhere."""
    if not runs or any(r.unusable() for r in runs):
        return 2
    if any(r.failed() for r in runs):
        return 1
    if all(no_userfaultfd(r.probe) for r in runs):
        return EXIT_NO_USERFAULTFD
    return 0


def totals(runs: list[Run]) -> dict[str, int]:
    t = {s: 0 for s in STATUSES}
    for r in runs:
        for k, v in r.counts().items():
            t[k] += v
    return t


def _created() -> str:
    """Now, or SOURCE_DATE_EPOCH for reproducible (golden) output."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    when = (_dt.datetime.fromtimestamp(int(epoch), _dt.timezone.utc) if epoch
            else _dt.datetime.now(_dt.timezone.utc))
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def machines(runs: list[Run]) -> list[str]:
    """The distinct known machines (uname -m) of the runs, in column order."""
    return list(dict.fromkeys(str(r.kernel["machine"]) for r in runs
                              if r.kernel.get("machine")))


def disambiguate(runs: list[Run]) -> None:
    """Give runs that would share a column label (the same kernel merged
    from two reports) a tag: their start time, else their position. In a
    matrix of several architectures every column names its machine."""
    mixed = len(machines(runs)) > 1
    for r in runs:
        r.column = f"[{r.kernel['machine']}]" if mixed and r.kernel.get("machine") else ""
    labels = [r.label for r in runs]
    arch_tags = [r.column for r in runs]
    for i, r in enumerate(runs):
        if labels.count(labels[i]) > 1:
            r.column = " ".join(filter(None, (arch_tags[i], f"[{r.started or i + 1}]")))
    labels = [r.label for r in runs]
    for i, r in enumerate(runs):
        if labels.count(labels[i]) > 1:
            r.column = " ".join(filter(None, (arch_tags[i], f"[{i + 1}]")))


def build_document(runs: list[Run]) -> dict[str, Any]:
    """The report.json document (also tags look-alike columns)."""
    disambiguate(runs)
    code = exit_code(runs)
    mems = {m for r in runs for m in memory_types(r.probe)}
    return {
        "schema_version": REPORT_SCHEMA_VERSION,
        "generator": {"name": "faultline", "version": __version__},
        "created": _created(),
        "status": STATUS_OF_EXIT[code],
        "exit_code": code,
        "selection": selection_of(runs),
        "totals": totals(runs),
        "runs": [r.to_dict(mems) for r in runs],
    }


class ReportError(ValueError):
    """A report file that cannot be used (usage error, exit 2)."""


def load_runs(path: Path) -> list[Run]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ReportError(f"{path}: {e}") from e
    if not isinstance(doc, dict) or not isinstance(doc.get("runs"), list):
        raise ReportError(f"{path}: not a faultline report (no 'runs' list)")
    if doc.get("schema_version") != REPORT_SCHEMA_VERSION:
        raise ReportError(f"{path}: report schema_version "
                          f"{doc.get('schema_version')!r}, this faultline reads "
                          f"{REPORT_SCHEMA_VERSION}")
    runs = []
    for i, r in enumerate(doc["runs"]):
        try:
            run = Run.from_dict(r)
            _check_types(run)
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            what = f"missing {e}" if isinstance(e, KeyError) else str(e)
            raise ReportError(f"{path}: runs[{i}] is not a faultline run: "
                              f"{what}") from e
        runs.append(run)
    return runs


def _check_types(run: Run) -> None:
    """What merge, diff and the renderers rely on (TypeError if not)."""
    if not isinstance(run.target, str):
        raise TypeError(f"target {run.target!r} is not text")
    for b in run.binaries:
        if not isinstance(b.name, str):
            raise TypeError(f"binary name {b.name!r} is not text")
        for p in b.points:
            if not isinstance(p.id, str) or p.status not in STATUSES:
                raise TypeError(f"point {p.id!r} of {b.name}: status "
                                f"{p.status!r} is not one of {', '.join(STATUSES)}")


@dataclass
class Matrix:
    """Rows x kernel columns, computed once for the Markdown/HTML renderers."""
    runs: list[Run]
    features: list[str] = field(default_factory=list)
    has_feature: dict[str, list[bool | None]] = field(default_factory=dict)
    first_seen: dict[str, str | None] = field(default_factory=dict)
    areas: dict[str, list[str]] = field(default_factory=dict)
    cells: dict[str, list[Any]] = field(default_factory=dict)
    # title -> row -> one (status word, hover text) or None per run
    probe_tables: dict[str, dict[str, list[tuple[str, str] | None]]] = \
        field(default_factory=dict)
    # area -> per run: "n status, ..." and the worst status (for colour)
    area_summary: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    # finding text -> per run: the points that printed it (empty: not seen)
    findings: dict[str, list[list[str]]] = field(default_factory=dict)
    # the findings, those that differ only in names collapsed into one
    finding_groups: list["FindingGroup"] = field(default_factory=list)


@dataclass
class FindingGroup:
    """Findings that say the same thing about different memory types,
    ioctls or events ("UFFDIO_COPY on shmem while a FORK event ...")."""
    texts: list[str]
    # per run: how many of the texts it printed, and the points that did
    seen: list[int]
    points: list[list[str]]

    @property
    def text(self) -> str:
        return self.texts[0]


# What varies between findings of one group: memory type names (from the
# probe documents) and upper-case names (ioctls, events, errnos).
_NAME_RE = re.compile(r"\b[A-Z][A-Z0-9_]{2,}\b")


def finding_groups(findings: dict[str, list[list[str]]],
                   mems: list[str]) -> list[FindingGroup]:
    mem_re = re.compile(r"\b(" + "|".join(map(re.escape, mems)) + r")\b") \
        if mems else None
    groups: dict[str, FindingGroup] = {}
    for text, cols in findings.items():
        shape = _NAME_RE.sub("*", mem_re.sub("<mem>", text) if mem_re else text)
        g = groups.get(shape)
        if g is None:
            g = groups[shape] = FindingGroup([], [0] * len(cols),
                                             [[] for _ in cols])
        g.texts.append(text)
        for i, pts in enumerate(cols):
            g.seen[i] += bool(pts)
            g.points[i] += pts
    return list(groups.values())


def report_memory_types(runs: list[Run]) -> list[str]:
    """The memory types the report's probe documents name, in their order."""
    return list(dict.fromkeys(m for r in runs for m in memory_types(r.probe)))


def count_text(points: list[Point]) -> str:
    """"6 pass, 2 skip": the points' statuses counted, in status order."""
    n = {st: sum(p.status == st for p in points) for st in STATUSES}
    return ", ".join(f"{n[k]} {k}" for k in STATUSES if n[k])


def _word(status: Any) -> str:
    if isinstance(status, bool):
        return "yes" if status else "no"
    return str(status) if status is not None else "?"


def _probe_tables(runs: list[Run]) -> dict[str, dict[str, list[tuple[str, str] | None]]]:
    """Access paths, register modes and deployment profiles per kernel."""
    tables: dict[str, dict[str, list[tuple[str, str] | None]]] = {}
    specs = (("Creation paths", "access", lambda e: str(e.get("path"))),
             ("Register modes", "register",
              lambda e: f"{e.get('mem')} {e.get('mode')}"),
             ("Deployment profiles", "profiles", lambda e: str(e.get("name"))))
    for title, key, row_of in specs:
        rows: dict[str, list[tuple[str, str] | None]] = {}
        for col, r in enumerate(runs):
            for e in (r.probe or {}).get(key) or []:
                # combined register modes follow from the single ones
                if not isinstance(e, dict) or "|" in str(e.get("mode", "")):
                    continue
                status = e.get("status", e.get("ok"))
                hover = e.get("reason") or ", ".join(map(str, e.get("missing") or []))
                if e.get("fix"):
                    hover = f"{hover}; fix: {e['fix']}"
                if e.get("ioctl_names"):
                    hover = f"{hover}; ioctls: {' '.join(e['ioctl_names'])}"
                rows.setdefault(row_of(e), [None] * len(runs))[col] = (
                    _word(status), str(hover or ""))
        if rows:
            tables[title] = rows
    rows = {}
    for col, r in enumerate(runs):
        cfg = (r.probe or {}).get("config") or {}
        opts = cfg.get("options") if isinstance(cfg, dict) else None
        for name, val in (opts or {}).items() if isinstance(opts, dict) else ():
            rows.setdefault(str(name), [None] * len(runs))[col] = (
                "not set" if val is None else str(val), str(cfg.get("source") or ""))
    if rows:
        tables["Kernel config"] = rows
    return tables


def build_matrix(runs: list[Run]) -> Matrix:
    m = Matrix(runs=runs)
    summaries = [features_summary(r.probe) for r in runs]
    names = feature_order(r.probe for r in runs)
    m.features = names
    by_version = sorted(range(len(runs)), key=lambda i: version_tuple(runs[i].release))
    arches = machines(runs)
    for n in names:
        row = [None if r.probe is None else n in s["feature_names"]
               for r, s in zip(runs, summaries)]
        m.has_feature[n] = row
        first = next((i for i in by_version if row[i]), None)
        m.first_seen[n] = runs[first].release if first is not None else None
        if len(arches) > 1 and first is not None:
            # A feature comes to each architecture in its own release.
            per = {a: next((runs[i].release for i in by_version if row[i] and
                            runs[i].kernel.get("machine") == a), "none")
                   for a in arches}
            m.first_seen[n] = ", ".join(f"{a}: {rel}" for a, rel in per.items())
    for r in runs:
        for p in r.points:
            ids = m.areas.setdefault(p.area, [])
            if p.id not in ids:
                ids.append(p.id)
    for col, r in enumerate(runs):
        for p in r.points:
            m.cells.setdefault(p.id, [None] * len(runs))[col] = p
    m.probe_tables = _probe_tables(runs)
    for area, ids in m.areas.items():
        row = []
        for col in range(len(runs)):
            pts = [m.cells[i][col] for i in ids if m.cells[i][col] is not None]
            row.append((count_text(pts), worst(p.status for p in pts)))
        m.area_summary[area] = row
    for col, r in enumerate(runs):
        for f in r.findings():
            m.findings.setdefault(f["text"], [[] for _ in runs])[col] = f["points"]
    m.finding_groups = finding_groups(m.findings, report_memory_types(runs))
    return m
