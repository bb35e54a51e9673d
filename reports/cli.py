# SPDX-License-Identifier: GPL-2.0
"""`run.py report ...`: merge, diff and render saved results."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import expectations as expect
from .diff import diff_runs
from .document import ReportError, load_runs
from .pipeline import apply_expectations, publish, read_streams


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
            runs = read_streams(args.streams)
        exps = expect.load(args.expectations) if args.expectations else []
        apply_expectations(runs, exps)
        report = publish(runs, args.output, exps)
    except (ReportError, expect.ExpectationError, OSError, ValueError) as e:
        print(f"run.py report: {e}", file=sys.stderr)
        return 2
    print(report.summary())
    return report.exit_code
