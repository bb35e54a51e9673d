#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""make mutants: run every lie of the catalogue over the whole suite and
print which points each one kills, by memory type.

All (lie, binary) units go through one faultline-runner invocation, so the
runner's per-binary timeout bounds every unit and its --jobs slots stay
busy while lying units sit in their waits. Binaries whose test points all
carry a memory type run as one unit per type (kselftest's `-v`), so a
unit that hangs costs only its own type. Each unit is a small script that
sets LD_PRELOAD=liar.so and FAULTLINE_LIE for the case binary alone.

Exit: 0 every catch lie caught on every listed type and no tolerate lie
broke a point; 1 otherwise; 2 the run could not be done.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path[:0] = [str(HERE), str(ROOT)]

import catalogue  # noqa: E402
import matrix  # noqa: E402
from catalogue import MEM_TYPES, Row  # noqa: E402
from verdict import Judged, Outcome, judge, summary_line  # noqa: E402

BASELINE = "none"
SEP = "@"


class Fatal(Exception):
    pass


def stream_points(path: Path) -> dict[str, list[tuple[str, str, str]]]:
    """unit -> [(point id, status, reason)] of a runner stream. The one use
    of reports/: its top-level parser, so that the stream has one reader."""
    from reports.stream import parse_stream
    run = parse_stream(path.read_text(encoding="utf-8", errors="replace"))
    return {b.name: [(p.id, p.status, p.reason or "") for p in b.points]
            for b in run.binaries}


class Build:
    def __init__(self, build: Path) -> None:
        self.runner = build / "faultline-runner"
        self.liar = build / "tools" / "liar.so"
        self.cases = build / "cases"
        for need in (self.runner, self.liar, self.cases):
            if not need.exists():
                raise Fatal(f"{need} is missing: run 'make' first")
        self.binaries = sorted(p.name for p in self.cases.iterdir()
                               if p.is_file() and p.stat().st_mode & 0o111)
        if not self.binaries:
            raise Fatal(f"no case binaries in {self.cases}")

    def lies(self) -> list[str]:
        """The lies liar.so knows (FAULTLINE_LIE=list)."""
        out = subprocess.run(["/bin/true"], capture_output=True, text=True,
                             env={"LD_PRELOAD": str(self.liar),
                                  "FAULTLINE_LIE": "list"}, check=False)
        return [ln.split("\t", 1)[0] for ln in out.stdout.splitlines() if ln]


class Work:
    """The unit scripts, fired logs and streams of one mutants run."""

    def __init__(self, build: Build, root: Path) -> None:
        self.build = build
        self.root = root
        self.units = root / "units"
        self.fired = root / "fired"
        for d in (self.units, self.fired):
            d.mkdir(parents=True, exist_ok=True)

    def unit(self, lie: str, binary: str, mem: str | None, tag: str) -> Path:
        name = SEP.join(x for x in (lie, binary, mem) if x)
        path = self.units / tag / name
        path.parent.mkdir(exist_ok=True)
        args = f" -v {mem}" if mem else ""
        path.write_text(
            "#!/bin/sh\n"
            f"export LD_PRELOAD='{self.build.liar}' FAULTLINE_LIE='{lie}'\n"
            f"export FAULTLINE_LIE_LOG='{self.fired / tag / name}'\n"
            f"exec '{self.build.cases / binary}'{args}\n", encoding="utf-8")
        (self.fired / tag).mkdir(exist_ok=True)
        path.chmod(0o755)
        return path

    def fired_units(self, tag: str) -> set[str]:
        d = self.fired / tag
        return {p.name for p in d.iterdir() if p.stat().st_size} if d.is_dir() else set()


def run_units(args: argparse.Namespace, work: Work, units: list[Path],
              tag: str) -> dict[str, list[tuple[str, str, str]]]:
    out = work.root / f"{tag}.stream"
    cmd = [str(work.build.runner), "--jobs", str(args.jobs), "--no-probe",
           "--no-kmsg", "--timeout", str(args.timeout), "--output", str(out),
           *map(str, units)]
    print(f"mutants: {tag}: {len(units)} units, {args.jobs} at a time, "
          f"{args.timeout:g} s each at most", file=sys.stderr, flush=True)
    done = threading.Event()
    ticker = threading.Thread(target=_progress, args=(out, len(units), done),
                              daemon=True)
    ticker.start()
    try:
        proc = subprocess.run(cmd, check=False)
    finally:
        done.set()
        ticker.join()
    if proc.returncode not in (0, 1):
        raise Fatal(f"faultline-runner exited {proc.returncode} ({tag})")
    return stream_points(out)


def _progress(path: Path, total: int, done: threading.Event) -> None:
    """A line now and then, counting the units the stream has finished."""
    ended, pos = 0, 0
    while not done.wait(30):
        try:
            with path.open("rb") as f:
                f.seek(pos)
                chunk = f.read()
        except OSError:
            continue
        cut = chunk.rfind(b"\n") + 1
        ended += chunk[:cut].count(b"@@faultline binary-end ")
        pos += cut
        print(f"mutants: {ended}/{total} units", file=sys.stderr, flush=True)


def split_types(base: dict[str, list[tuple[str, str, str]]]) -> dict[str, list[str]]:
    """binary -> the memory types to run it by (empty: run it whole)."""
    out: dict[str, list[str]] = {}
    for unit, points in base.items():
        mems = {p.split(".")[1] if p.count(".") >= 2 else "" for p, _, _ in points}
        binary = unit.split(SEP)[1]
        out[binary] = ([m for m in MEM_TYPES if m in mems]
                       if mems and mems <= set(MEM_TYPES) else [])
    return out


def outcomes(points: dict[str, list[tuple[str, str, str]]],
             lie: str) -> list[Outcome]:
    res = []
    for unit, pts in points.items():
        parts = unit.split(SEP)
        if parts[0] != lie:
            continue
        mem = parts[2] if len(parts) > 2 else None
        res.extend(Outcome(unit, p, s, r, mem) for p, s, r in pts)
    return res


def unsure_units(j: Judged, outs: list[Outcome]) -> set[tuple[str, str | None]]:
    """(binary, type) units worth a second run for the undecided types."""
    want = set(j.undecided)
    units = set()
    for o in outs:
        if o.mem in want or "any" in want:
            parts = o.unit.split(SEP)
            units.add((parts[1], parts[2] if len(parts) > 2 else None))
    return units


def select(rows: list[Row], args: argparse.Namespace) -> list[Row]:
    if args.lie:
        names = {r.lie for r in rows}
        unknown = [n for n in args.lie if n not in names]
        if unknown:
            raise Fatal(f"not in the catalogue: {', '.join(unknown)}")
        return [r for r in rows if r.lie in args.lie]
    return [r for r in rows if r.quick] if args.quick else rows


def mutants(args: argparse.Namespace) -> int:
    build = Build(args.build)
    rows = select(catalogue.load(args.catalogue), args)
    known = set(build.lies())
    if missing := [r.lie for r in rows if r.lie not in known]:
        raise Fatal(f"liar.so does not know: {', '.join(missing)} (rebuild?)")
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="faultline-mutants-"))
    work = Work(build, root)
    started = time.monotonic()
    try:
        base = run_units(args, work, [work.unit(BASELINE, b, None, "baseline")
                                      for b in build.binaries], "baseline")
        baseline = {p: s for pts in base.values() for p, s, _ in pts}
        split = split_types(base)
        units = [work.unit(r.lie, b, m, "lies") for r in rows
                 for b in build.binaries for m in (split.get(b) or [None])]
        points = run_units(args, work, units, "lies")
        fired = work.fired_units("lies")
        results = [judge(r, outcomes(points, r.lie), baseline, fired) for r in rows]
        results = rerun_undecided(args, work, rows, results, points, split, baseline)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    elapsed = time.monotonic() - started
    failing = sorted(p for p, s in baseline.items() if s != "pass" and s != "skip")
    print(matrix.render(results, failing, elapsed))
    if args.json:
        matrix.write_json(Path(args.json), results, elapsed)
    print(summary_line(results))
    return 0 if all(r.ok for r in results) else 1


def rerun_undecided(args: argparse.Namespace, work: Work, rows: list[Row],
                    results: list[Judged], points: dict, split: dict,
                    baseline: dict[str, str]) -> list[Judged]:
    """Run the units of undecided types again, each beside a baseline unit
    of the same binary and type, and judge once more (see verdict.py)."""
    todo = {j.row.lie: unsure_units(j, outcomes(points, j.row.lie))
            for j in results if j.undecided}
    if not todo:
        return results
    pairs = sorted({u for us in todo.values() for u in us}, key=str)
    units = [work.unit(BASELINE, b, m, "again") for b, m in pairs]
    units += [work.unit(lie, b, m, "again") for lie, us in todo.items()
              for b, m in sorted(us, key=str)]
    again = run_units(args, work, units, "again")
    load = {o.point for o in outcomes(again, BASELINE)
            if o.status == "notrun" or o.status == "skip"}
    fired_again = work.fired_units("again")
    out = []
    for row, j in zip(rows, results):
        if row.lie not in todo:
            out.append(j)
            continue
        redo = {SEP.join(x for x in (row.lie, b, m) if x)
                for b, m in todo[row.lie]}
        merged = [o for o in outcomes(points, row.lie) if o.unit not in redo]
        merged += outcomes(again, row.lie)
        fired = (work.fired_units("lies") - redo) | fired_again
        out.append(judge(row, merged, baseline, fired, load))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", type=Path, default=ROOT / "build",
                    help="build directory (default: build/)")
    ap.add_argument("--catalogue", type=Path, default=catalogue.CATALOGUE)
    ap.add_argument("--quick", action="store_true",
                    help="only the lies marked quick (the make-check subset)")
    ap.add_argument("--lie", action="append", default=[],
                    help="only this lie (repeatable)")
    ap.add_argument("-j", "--jobs", type=int, default=4,
                    help="units at once (default 4: lying units mostly wait)")
    ap.add_argument("--timeout", type=float, default=30,
                    help="per-unit limit in seconds (default 30)")
    ap.add_argument("--keep", metavar="DIR",
                    help="keep the unit scripts, fired logs and streams here")
    ap.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = ap.parse_args(argv)
    if args.jobs < 1 or args.timeout <= 0:
        ap.error("--jobs and --timeout must be positive")
    try:
        return mutants(args)
    except (Fatal, catalogue.CatalogueError) as e:
        print(f"mutants: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
