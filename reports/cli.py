# SPDX-License-Identifier: GPL-2.0
"""`run.py report ...`: merge, diff and render saved results; export them
to KCIDB, export the expectations as an LKFT skipfile."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import expectations as expect
from . import kcidb, skipfile
from .diff import diff_runs
from .document import ReportError, load_runs
from .pipeline import apply_expectations, publish, read_streams
from .writer import OutputError, write_result


def _report(path: Path) -> Path:
    """A results directory stands for the report.json inside it."""
    return path / "report.json" if path.is_dir() else path


def _publisher(sub: argparse._SubParsersAction, name: str, summary: str,
               inputs: str, output: str) -> None:
    """merge and render: several inputs in, a report directory out (the
    same options, the same publish() path)."""
    p = sub.add_parser(name, help=summary)
    p.add_argument(inputs, nargs="+", type=Path)
    p.add_argument("-o", "--output", type=Path, default=Path(output))
    p.add_argument("--expectations", type=Path)


def report_main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="run.py report",
                                 description="merge, diff, render or export reports")
    sub = ap.add_subparsers(dest="cmd", required=True)
    _publisher(sub, "merge", "one matrix report from several report.json",
               "reports", "results/merged")
    d = sub.add_parser("diff", help="regressions between two report.json")
    d.add_argument("old", type=Path)
    d.add_argument("new", type=Path)
    _publisher(sub, "render", "reports from saved stream files",
               "streams", "results/rendered")
    k = sub.add_parser("kcidb", help="KCIDB I/O v5.3 JSON from a report.json")
    k.add_argument("report", type=Path)
    k.add_argument("--origin", required=True, help="your KCIDB origin name")
    k.add_argument("--checkout-id", action="append", default=[], metavar="ID",
                   help="link to this checkout (once, or once per kernel column)")
    k.add_argument("--build-id", action="append", default=[], metavar="ID",
                   help="link to this build (once per kernel column)")
    k.add_argument("-o", "--output", type=Path, help="default: standard output")
    s = sub.add_parser("skipfile", help="LKFT skipfile YAML from expectations")
    s.add_argument("expectations", type=Path, nargs="?",
                   default=Path(__file__).resolve().parent.parent / "expectations")
    s.add_argument("-o", "--output", type=Path, help="default: standard output")
    try:
        args = ap.parse_args(argv)
    except SystemExit as e:
        return 2 if e.code else 0
    try:
        if args.cmd in ("kcidb", "skipfile"):
            return _export(args)
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
    except (ReportError, expect.ExpectationError, OutputError, OSError,
            ValueError) as e:
        print(f"run.py report: {e}", file=sys.stderr)
        return 2
    print(report.summary())
    return report.exit_code


def _export(args: argparse.Namespace) -> int:
    """`report kcidb|skipfile`: one document to a file or standard output."""
    if args.cmd == "kcidb":
        doc = kcidb.export(load_runs(_report(args.report)), args.origin,
                           args.checkout_id, args.build_id)
        text = json.dumps(doc, indent=1, sort_keys=True) + "\n"
    else:
        if not args.expectations.exists():
            raise ReportError(f"{args.expectations}: no such file or directory")
        text = skipfile.skipfile_yaml(expect.load(args.expectations))
    if args.output:
        write_result(args.output, text)
    else:
        sys.stdout.write(text)
    return 0
