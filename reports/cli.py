# SPDX-License-Identifier: GPL-2.0
"""`run.py report ...`: merge, diff and render saved results."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import expectations as expect
from .diff import diff_runs
from .document import ReportError, exit_code, load_runs
from .model import Run
from .output import summary, write_reports
from .stream import parse_stream


def _apply(runs: list[Run], path: Path | None) -> None:
    if path is None:
        return
    exps = expect.load(path)
    for r in runs:
        expect.apply(r, exps)


def load_stream_file(path: Path) -> Run:
    """A saved stream, with its optional sidecar <name>.meta.json."""
    meta_path = path.with_suffix(".meta.json")
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
    text = path.read_text(encoding="utf-8", errors="replace")
    return parse_stream(text, target=meta.get("target", "host"),
                        expected_binaries=meta.get("expected_binaries"),
                        error=meta.get("error"), info=meta.get("info"))


def _report(path: Path) -> Path:
    """A results directory stands for the report.json inside it."""
    return path / "report.json" if path.is_dir() else path


def report_main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="run.py report",
                                 description="merge, diff or render reports")
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("merge", help="one matrix report from several report.json")
    m.add_argument("reports", nargs="+", type=Path)
    m.add_argument("-o", "--output", type=Path, default=Path("results/merged"))
    m.add_argument("--expectations", type=Path)
    d = sub.add_parser("diff", help="regressions between two report.json")
    d.add_argument("old", type=Path)
    d.add_argument("new", type=Path)
    r = sub.add_parser("render", help="reports from saved stream files")
    r.add_argument("streams", nargs="+", type=Path)
    r.add_argument("-o", "--output", type=Path, default=Path("results/rendered"))
    r.add_argument("--expectations", type=Path)
    try:
        args = ap.parse_args(argv)
    except SystemExit as e:
        return 2 if e.code else 0
    try:
        if args.cmd == "diff":
            res = diff_runs(load_runs(_report(args.old)),
                            load_runs(_report(args.new)))
            sys.stdout.write(res.text())
            return 1 if res.regressions else 0
        if args.cmd == "merge":
            runs = [run for p in args.reports for run in load_runs(_report(p))]
        else:
            runs = [load_stream_file(p) for p in args.streams]
        _apply(runs, args.expectations)
        write_reports(runs, args.output)
    except (ReportError, expect.ExpectationError, OSError, ValueError) as e:
        print(f"run.py report: {e}", file=sys.stderr)
        return 2
    print(summary(runs, args.output))
    return exit_code(runs)
