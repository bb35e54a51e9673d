#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""make mutants: run every lie of the catalogue over the whole suite and
print which points each one kills, by memory type.

Every (lie, case binary) pair is a unit: a small script that sets
LD_PRELOAD=liar.so and FAULTLINE_LIE for that binary alone. Units go
through faultline-runner, whose per-binary timeout bounds each one and
whose --jobs slots stay busy while lying units sit in their waits; a batch
of lies per runner invocation, so that the huge page pool is free for
other runs now and then. A unit cut by its timeout leaves the memory types
after the hang not run: those types run again as one unit each
(kselftest's `-v <type>`), and so do types whose points skipped for want
of huge pages, next to a baseline unit that tells load from the lie.

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
from catalogue import ANY, Row  # noqa: E402
from verdict import Judged, Outcome, judge, summary_line, unsure  # noqa: E402

BASELINE = "none"
# Binaries that change a system-wide setting for a while and put it back
# (access: vm.unprivileged_userfaultfd). Two copies side by side would
# each record the other's temporary value as the one to restore, so
# their units run one at a time, in a runner of their own that leaves
# the huge page pool alone (they need none).
SERIAL = ("access",)
SYSCTLS = ("/proc/sys/vm/unprivileged_userfaultfd",)
SEP = "@"
FIRED = "liar fired: "          # LIAR_FIRED in liar.h
# unit -> [(point id, status, reason, lie fired, TAP number)]
Points = dict[str, list[tuple[str, str, str, bool, int | None]]]


class Fatal(Exception):
    pass


def stream_points(path: Path) -> Points:
    """The points of every unit of a runner stream. The one use of reports/ (its top-level parser): the stream has one
    reader. The liar announces itself in the TAP of the test it lied to,
    which the parser keeps as that point's diagnostics."""
    from reports.stream import parse_stream
    run = parse_stream(path.read_text(encoding="utf-8", errors="replace"))
    return {b.name: [(p.id, p.status, p.reason or "",
                      any(FIRED in d for d in p.diagnostics), p.number)
                     for p in b.points] for b in run.binaries}


def name_unreported(points: Points, base: Points) -> None:
    """A unit cut by its timeout reports the points it never reached by
    number only ("copy.#12"): name them after the baseline's order, which
    kselftest keeps (the same list, filtered by type for a `-v` unit)."""
    for unit, pts in points.items():
        parts = unit.split(SEP)
        order = [p[0] for p in base.get(SEP.join((BASELINE, parts[1])), [])
                 if len(parts) < 3 or p[0].split(".")[1:2] == [parts[2]]]
        for i, (pid, status, reason, fired, num) in enumerate(pts):
            if ".#" in pid and num and num <= len(order):
                pts[i] = (order[num - 1], status, reason, fired, num)


class Build:
    def __init__(self, build: Path) -> None:
        self.runner = build / "faultline-runner"
        self.liar = build / "tools" / "liar.so"
        self.cases = build / "cases"
        self.sysctl_hold = build / "tools" / "sysctl-hold"
        for need in (self.runner, self.liar, self.cases, self.sysctl_hold):
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


class Runs:
    """Unit scripts and runner invocations of one mutants run."""

    def __init__(self, args: argparse.Namespace, build: Build,
                 root: Path) -> None:
        self.args = args
        self.build = build
        self.root = root
        self.count = 0

    def unit(self, lie: str, binary: str, mem: str | None = None) -> Path:
        name = SEP.join(x for x in (lie, binary, mem) if x)
        path = self.root / "units" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        args = f" -v {mem}" if mem else ""
        path.write_text(
            "#!/bin/sh\n"
            f"export LD_PRELOAD='{self.build.liar}' FAULTLINE_LIE='{lie}'\n"
            f"exec '{self.build.cases / binary}'{args}\n", encoding="utf-8")
        path.chmod(0o755)
        return path

    def _start(self, units: list[Path], jobs: int, extra: list[str]
               ) -> tuple[subprocess.Popen[bytes], Path]:
        self.count += 1
        out = self.root / f"run{self.count}.stream"
        a = self.args
        cmd = [str(self.build.runner), "--jobs", str(jobs), "--no-probe",
               "--no-kmsg", "--timeout", str(a.timeout), "--output", str(out),
               *extra, *map(str, units)]
        return subprocess.Popen(cmd), out

    def run(self, units: list[Path], what: str) -> Points:
        """Run @units through the runner. Units of a SERIAL binary go to a
        second runner beside the first, one at a time: see SERIAL."""
        serial = [u for u in units if u.name.split(SEP)[1] in SERIAL]
        rest = [u for u in units if u not in serial]
        print(f"mutants: {what}: {len(units)} units, {self.args.jobs} at a "
              f"time", file=sys.stderr, flush=True)
        started = []
        if rest:
            started.append(self._start(rest, self.args.jobs, []))
        if serial:
            started.append(self._start(serial, 1, ["--hugepages", "0"]))
        done = threading.Event()
        ticker = threading.Thread(target=_progress, daemon=True,
                                  args=(started[0][1], len(units), done))
        ticker.start()
        try:
            codes = [proc.wait() for proc, _ in started]
        finally:
            for proc, _ in started:
                if proc.poll() is None:
                    proc.terminate()
                    proc.wait()
            done.set()
            ticker.join()
        if any(code not in (0, 1) for code in codes):
            raise Fatal(f"faultline-runner exited {codes} ({what})")
        points: Points = {}
        for _, out in started:
            points.update(stream_points(out))
        return points


def _progress(path: Path, total: int, done: threading.Event) -> None:
    """A line a minute, counting the units the stream has finished."""
    ended, pos = 0, 0
    while not done.wait(60):
        try:
            with path.open("rb") as f:
                f.seek(pos)
                chunk = f.read()
        except OSError:
            continue
        cut = chunk.rfind(b"\n") + 1
        ended += chunk[:cut].count(b"@@faultline binary-end ")
        pos += cut
        print(f"mutants:   {ended}/{total} units written", file=sys.stderr,
              flush=True)


def outcomes(points: Points, lie: str) -> list[Outcome]:
    res = []
    for unit, pts in points.items():
        parts = unit.split(SEP)
        if parts[0] != lie:
            continue
        mem = parts[2] if len(parts) > 2 else None
        res.extend(Outcome(unit, p, s, r, mem, f) for p, s, r, f, _ in pts)
    return res


def _key(o: Outcome) -> tuple[str, str]:
    """(binary, memory type or "" for a type-free binary) of a point."""
    return o.unit.split(SEP)[1], "" if o.mem == ANY else o.mem


def redo_units(j: Judged, outs: list[Outcome], baseline: dict[str, str],
               complete: bool) -> set[tuple[str, str]]:
    """(binary, type) units to run again: for the undecided types, those
    holding a point that could not tell (verdict.unsure); with @complete,
    also every one a unit timeout left partly unrun."""
    return {_key(o) for o in outs if unsure(o, baseline) and (
        complete and o.status == "notrun" or
        o.mem in j.undecided or ANY in j.undecided)}


def select(rows: list[Row], args: argparse.Namespace) -> list[Row]:
    if args.lie:
        names = {r.lie for r in rows}
        unknown = [n for n in args.lie if n not in names]
        if unknown:
            raise Fatal(f"not in the catalogue: {', '.join(unknown)}")
        return [r for r in rows if r.lie in args.lie]
    return [r for r in rows if r.quick] if args.quick else rows


def first_pass(runs: Runs, rows: list[Row], base: Points) -> Points:
    points: Points = {}
    size = runs.args.batch
    for i in range(0, len(rows), size):
        batch = rows[i:i + size]
        units = [runs.unit(r.lie, b) for r in batch for b in runs.build.binaries]
        points.update(runs.run(units, f"lies {i + 1}-{i + len(batch)} of {len(rows)}"))
    name_unreported(points, base)
    return points


def second_pass(runs: Runs, rows: list[Row], results: list[Judged],
                points: Points, base: Points) -> list[Judged]:
    """Run the types left undecided (with --complete: left partly unrun)
    again, one unit per type, each beside a baseline unit of the same
    binary and type (see verdict.py)."""
    baseline = {p[0]: p[1] for pts in base.values() for p in pts}
    complete = runs.args.complete
    todo = {j.row.lie: redo_units(j, outcomes(points, j.row.lie), baseline,
                                  complete)
            for j in results if j.undecided or complete and j.cut}
    todo = {lie: us for lie, us in todo.items() if us}
    if not todo:
        return results
    pairs = sorted({u for us in todo.values() for u in us})
    units = [runs.unit(BASELINE, b, m) for b, m in pairs]
    units += [runs.unit(lie, b, m) for lie, us in todo.items()
              for b, m in sorted(us)]
    again = runs.run(units, "types again, one unit each")
    name_unreported(again, base)
    load = {o.point for o in outcomes(again, BASELINE)
            if o.status in ("notrun", "skip")}
    out = []
    for row, j in zip(rows, results):
        if row.lie not in todo:
            out.append(j)
            continue
        merged = [o for o in outcomes(points, row.lie)
                  if _key(o) not in todo[row.lie]]
        merged += outcomes(again, row.lie)
        out.append(judge(row, merged, baseline, load))
    return out


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text(encoding="ascii").strip()
    except OSError:
        return None


def _put_back(sysctl_hold: Path, before: dict[str, str | None]) -> None:
    """A unit SIGKILLed at the wrong moment may leave a sysctl it flipped.
    Its change was guarded (harness/sysctl.c): the original is recorded in
    the sysctl's lock file, and whoever takes the lock next puts it back;
    `sysctl-hold --repair` takes it now. Never the value read before the
    run: another run may have held the sysctl changed then, or hold it
    now, and its own restore is the one that knows the original."""
    for path, old in before.items():
        if old is None:
            continue
        res = subprocess.run([str(sysctl_hold), "--repair", path],
                             capture_output=True, text=True, check=False)
        for line in res.stderr.splitlines():
            print(f"mutants: {line.lstrip('# ')}", file=sys.stderr)
        now = _read(path)
        if now != old:
            print(f"mutants: {path} was {old} before the run and is {now}: "
                  f"not ours to change (another process holds it, or held "
                  f"it when the run began)", file=sys.stderr)


def mutants(args: argparse.Namespace) -> int:
    build = Build(args.build)
    rows = select(catalogue.load(args.catalogue), args)
    known = set(build.lies())
    if missing := [r.lie for r in rows if r.lie not in known]:
        raise Fatal(f"liar.so does not know: {', '.join(missing)} (rebuild?)")
    root = Path(args.keep) if args.keep else Path(
        tempfile.mkdtemp(prefix="faultline-mutants-"))
    runs = Runs(args, build, root)
    started = time.monotonic()
    before = {path: _read(path) for path in SYSCTLS}
    try:
        base = runs.run([runs.unit(BASELINE, b) for b in build.binaries],
                        "baseline (liar loaded, no lie)")
        baseline = {p[0]: p[1] for pts in base.values() for p in pts}
        points = first_pass(runs, rows, base)
        results = [judge(r, outcomes(points, r.lie), baseline) for r in rows]
        results = second_pass(runs, rows, results, points, base)
    finally:
        _put_back(build.sysctl_hold, before)
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    elapsed = time.monotonic() - started
    failing = sorted(p for p, s in baseline.items() if s not in ("pass", "skip"))
    print(matrix.render(results, failing, elapsed))
    if args.json:
        matrix.write_json(Path(args.json), results, elapsed)
    print(summary_line(results), flush=True)
    return 0 if all(r.ok for r in results) else 1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", type=Path, default=ROOT / "build",
                    help="build directory (default: build/)")
    ap.add_argument("--catalogue", type=Path, default=catalogue.CATALOGUE)
    ap.add_argument("--quick", action="store_true",
                    help="only the lies marked quick (the make-check subset)")
    ap.add_argument("--lie", action="append", default=[],
                    help="only this lie (repeatable)")
    ap.add_argument("-j", "--jobs", type=int, default=8,
                    help="units at once (default 8: lying units mostly wait)")
    ap.add_argument("--timeout", type=float, default=10,
                    help="per-unit limit in seconds (default 10)")
    ap.add_argument("--batch", type=int, default=10,
                    help="lies per runner invocation (default 10)")
    ap.add_argument("--complete", action="store_true",
                    help="also run again, one unit per type, what a unit "
                    "timeout left unrun (complete kill lists; slower)")
    ap.add_argument("--keep", metavar="DIR",
                    help="keep the unit scripts and streams here")
    ap.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = ap.parse_args(argv)
    if args.jobs < 1 or args.timeout <= 0 or args.batch < 1:
        ap.error("--jobs, --timeout and --batch must be positive")
    try:
        return mutants(args)
    except (Fatal, catalogue.CatalogueError) as e:
        print(f"mutants: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
