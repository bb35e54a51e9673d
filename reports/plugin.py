# SPDX-License-Identifier: GPL-2.0
"""pytest as a view of results already collected: every TAP test point of
a saved stream is a pytest item (<stream>::<binary>::<point>), so -k, -m,
-x, -v, --junitxml work as usual. Nothing is run; the points are replayed.

Two ways in, one pipeline (reports/pipeline.py):
- run.py, for arguments after `--`: select() hands its runs (already read,
  expectations applied) to pytest and gets back the points that survived
  -k/-m; run.py then publishes them like any other run.
- alone: `/usr/bin/python3 -m pytest -p reports.plugin x.stream
  --faultline-report DIR [--faultline-expectations FILE]` reads the streams
  and publishes the selected points at session end.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterator

import pytest

from . import expectations as expect
from .model import Binary, Point, Run
from .pipeline import Report, apply_expectations, publish
from .stream import read_stream_file

COLLECTOR = "faultline-collector"


class PointFailed(Exception):
    """A point whose status is fail/timeout/error/notrun."""


class Collector:
    """Turns runs into items and remembers which ones pytest kept. Given
    runs by stream path, it uses them; else it reads each stream file."""

    def __init__(self, runs: dict[Path, Run] | None = None,
                 expectations: list[expect.Expectation] | None = None) -> None:
        self.given = {p.resolve(): r for p, r in (runs or {}).items()}
        self.expectations = expectations or []
        self.runs: list[Run] = []
        self.kept: set[int] = set()
        self.report: Report | None = None     # alone: what was published

    def run_of(self, path: Path) -> Run:
        run = self.given.get(path.resolve())
        if run is None:
            run = read_stream_file(path)
            apply_expectations([run], self.expectations)
        self.runs.append(run)
        return run

    def pytest_collect_file(self, file_path: Path, parent: pytest.Collector) -> Any:
        if file_path.suffix == ".stream":
            return StreamFile.from_parent(parent, path=file_path, collector=self)
        return None

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """Remember what survived -k/-m deselection: the report covers that."""
        self.kept = {id(i.point) for i in session.items if isinstance(i, PointItem)}

    def selected_runs(self) -> list[Run]:
        """The collected runs, keeping only the points pytest kept."""
        out = []
        for run in self.runs:
            bins = []
            for b in run.binaries:
                pts = [p for p in b.points if id(p) in self.kept]
                if pts:
                    bins.append(Binary(**{**b.__dict__, "points": pts}))
            out.append(Run(**{**run.__dict__, "binaries": bins}))
        return out


def select(runs: dict[Path, Run], pytest_args: list[str],
           rootdir: Path) -> tuple[int, list[Run]]:
    """pytest's exit status and the runs cut down to the points that
    pytest_args (-k, -m, ...) keep. `runs` maps each saved stream to its
    run, in report order."""
    collector = Collector(runs)
    # -c devnull: no ini file of the tree applies to this session.
    args = [*map(str, runs), "-q", "--tb=no", "-rN", "-p", "no:cacheprovider",
            "-c", os.devnull, "--rootdir", str(rootdir), *pytest_args]
    rc = int(pytest.main(args, plugins=[collector]))
    return rc, collector.selected_runs()


class StreamFile(pytest.File):
    def __init__(self, *, collector: Collector, **kw: Any) -> None:
        super().__init__(**kw)
        self.collector = collector

    def collect(self) -> Iterator[pytest.Item | pytest.Collector]:
        run = self.collector.run_of(self.path)
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


# ---- used alone (-p reports.plugin) ----

def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("faultline")
    g.addoption("--faultline-report", type=Path, default=None,
                help="write report.json/md/html and junit.xml here")
    g.addoption("--faultline-expectations", type=Path, default=None,
                help="expectations YAML file or directory (known xfails)")


def pytest_configure(config: pytest.Config) -> None:
    path = config.getoption("--faultline-expectations")
    try:
        exps = expect.load(path) if path else []
    except expect.ExpectationError as e:
        raise pytest.UsageError(str(e)) from e
    config.pluginmanager.register(Collector(expectations=exps), COLLECTOR)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    outdir = config.getoption("--faultline-report")
    collector = config.pluginmanager.get_plugin(COLLECTOR)
    if outdir is not None and collector.runs:
        collector.report = publish(collector.selected_runs(), outdir,
                                   collector.expectations, all_runs=collector.runs)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    report = config.pluginmanager.get_plugin(COLLECTOR).report
    if report is not None:
        terminalreporter.write_line(report.summary())
