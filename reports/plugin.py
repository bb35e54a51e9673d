# SPDX-License-Identifier: GPL-2.0
"""pytest plugin: every TAP test point of a saved stream is a pytest item.

    /usr/bin/python3 -m pytest -p reports.plugin results/<ts>/host.stream \
        [--faultline-report DIR] [--faultline-expectations FILE] [-k ...]

Collects `*.stream` files given on the command line (a sidecar
`<name>.meta.json` names the target and the orchestrator's error). Items are
<stream>::<binary>::<point>, so -k, -x and --junitxml work as usual. At
session end the selected points are written as report.json/md/html and
junit.xml into --faultline-report.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

from . import expectations as expect
from .cli import load_stream_file
from .model import Binary, Point, Run
from .output import summary, write_reports

_RUNS = pytest.StashKey[list]()
_SELECTED = pytest.StashKey[set]()
_EXPECT = pytest.StashKey[list]()
# Set at session end when a report was written: the document and a summary.
DOC_KEY = pytest.StashKey[dict]()
SUMMARY_KEY = pytest.StashKey[str]()


class PointFailed(Exception):
    """A point whose status is fail/timeout/error/notrun."""


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("faultline")
    g.addoption("--faultline-report", type=Path, default=None,
                help="write report.json/md/html and junit.xml here")
    g.addoption("--faultline-expectations", type=Path, default=None,
                help="expectations YAML file or directory (known xfails)")


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_RUNS] = []
    config.stash[_SELECTED] = set()
    exp = config.getoption("--faultline-expectations")
    try:
        config.stash[_EXPECT] = expect.load(exp) if exp else []
    except expect.ExpectationError as e:
        raise pytest.UsageError(str(e)) from e


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> Any:
    if file_path.suffix == ".stream":
        return StreamFile.from_parent(parent, path=file_path)
    return None


class StreamFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item | pytest.Collector]:
        run = load_stream_file(self.path)
        expect.apply(run, self.config.stash[_EXPECT])
        self.config.stash[_RUNS].append(run)
        for b in run.binaries:
            yield BinaryNode.from_parent(self, name=b.name, run=run, binary=b)


class BinaryNode(pytest.Collector):
    def __init__(self, *, run: Run, binary: Binary, **kw: Any) -> None:
        super().__init__(**kw)
        self.run, self.binary = run, binary

    def collect(self) -> Iterator[pytest.Item]:
        seen: dict[str, int] = {}
        for p in self.binary.points:
            n = seen[p.id] = seen.get(p.id, 0) + 1
            name = p.id if n == 1 else f"{p.id}[{n}]"
            item = PointItem.from_parent(self, name=name, run=self.run, point=p)
            if p.status in ("xfail", "xpass"):
                item.add_marker(pytest.mark.xfail(reason=p.reason or "", strict=False))
            yield item


class PointItem(pytest.Item):
    def __init__(self, *, run: Run, point: Point, **kw: Any) -> None:
        super().__init__(**kw)
        self.run, self.point = run, point
        self.user_properties.append(("kernel", run.release))

    def runtest(self) -> None:
        p = self.point
        if p.status == "skip":
            pytest.skip(p.reason or "skipped")
        if p.status in ("pass", "xpass"):
            return
        raise PointFailed(p)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str:
        if isinstance(excinfo.value, PointFailed):
            p = self.point
            lines = [f"{p.id} on {self.run.label}: {p.status}: {p.reason or ''}"]
            return "\n".join(lines + [f"    {d}" for d in p.diagnostics])
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"{self.run.label}::{self.point.id}"


def pytest_collection_finish(session: pytest.Session) -> None:
    """Remember what survived -k/-m deselection: the report covers that."""
    session.config.stash[_SELECTED] = {id(i.point) for i in session.items
                                       if isinstance(i, PointItem)}


def selected_runs(config: pytest.Config) -> list[Run]:
    """The collected runs, keeping only points that survived -k/-m."""
    keep = config.stash[_SELECTED]
    out = []
    for run in config.stash[_RUNS]:
        bins = []
        for b in run.binaries:
            pts = [p for p in b.points if id(p) in keep]
            if pts:
                bins.append(Binary(**{**b.__dict__, "points": pts}))
        out.append(Run(**{**run.__dict__, "binaries": bins}))
    return out


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    outdir = config.getoption("--faultline-report")
    if outdir is None or not config.stash[_RUNS]:
        return
    runs = selected_runs(config)
    config.stash[DOC_KEY] = write_reports(runs, outdir)
    warn = [f"warning: expectation {e.id!r} ({e.source}) matches no test point"
            for e in expect.unused(config.stash[_RUNS], config.stash[_EXPECT])]
    config.stash[SUMMARY_KEY] = "\n".join(warn + [summary(runs, outdir)])
