#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""faultline: probe userfaultfd and run the conformance cases, then report.

    ./run.py                              host kernel -> results/<timestamp>/
    ./run.py --kernel host --kernel debian:bookworm -j 2
    ./run.py -o out -- -k copy -x         arguments after -- select with pytest
    ./run.py report merge a.json b.json -o DIR
    ./run.py report diff old.json new.json
    ./run.py report render results/x/host.stream -o DIR
    ./run.py --list 'copy.*'              the points, without running
    ./run.py --only 'copy.*.eexist' --kernel debian:trixie

Exit: see EXIT_CODES.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

import faultline_paths  # noqa: E402
from reports import expectations as expect  # noqa: E402
from reports.model import Run  # noqa: E402
from reports.pipeline import apply_expectations, publish  # noqa: E402
from reports import __version__  # noqa: E402
from reports.progress import ConsoleProgress, Progress  # noqa: E402
from reports.selection import (CMDLINE_BUDGET, SelectionError,  # noqa: E402
                               check_globs, expectations_in, list_points,
                               counted, only_options, print_points,
                               selected_binaries)
from reports.shutdown import Shutdown  # noqa: E402
from reports.skipfile import SkipfileError, SkipRun, load_skipfile  # noqa: E402
from reports.stream import (StreamReader, StreamTee,  # noqa: E402
                            append_target_frame, parse_stream, target_frame)
from reports.writer import OutputError, ResultFile, write_result  # noqa: E402

# Source checkout or installed copy: where binaries, expectations and
# results are (faultline_paths.py).
PATHS = faultline_paths.layout()

CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "faultline"


EXIT_CODES = """exit status:
  0  every point passed, skipped or failed as expected
  1  failures, timeouts, kernel log alerts (or, for report diff, regressions)
  2  usage error, or the run could not be done (the message says why)
  4  nothing failed, but no target could create a userfaultfd at all (the
     probe found every creation path closed: kernel without it, seccomp,
     permissions), so nothing that needs one ran (kselftest's skip)"""


class RunError(Exception):
    """The run could not be done (exit 2)."""


def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        prog=PATHS.command, description="Run faultline on one or more kernels "
        "and write report.json/md/html and junit.xml.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=f"Also: {PATHS.command} report {{merge,diff,render,kcidb,skipfile}} ...\n"
        f"(see {PATHS.command} report -h).\n"
        "Arguments after -- select points with pytest (e.g. -- -k copy -x)\n"
        "after the run: the report covers the points pytest keeps; --only\n"
        "chooses before anything runs.\n\n" + EXIT_CODES)
    ap.add_argument("--version", action="version",
                    version=f"faultline {__version__}")
    ap.add_argument("--kernel", action="append", metavar="SPEC",
                    help="host (default), debian:<suite>[:flavour], or a "
                    "kernel image path; repeatable: one matrix column each")
    ap.add_argument("-o", "--output", type=Path, metavar="DIR",
                    help="output directory (default results/<timestamp>/)")
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1,
                    help="kernels booted in parallel (default: cores)")
    ap.add_argument("--jobs-per-kernel", type=int, metavar="N",
                    help="case binaries run side by side on each target "
                    "(default: cores on the host, 1 in a VM; 1 for a clean "
                    "attribution of kernel log records)")
    ap.add_argument("--only", action="append", default=[], metavar="GLOB",
                    help="run only the points whose id <area>.<variant>."
                    "<test> matches GLOB (e.g. 'copy.*.eexist', 'wp.hugetlb*'"
                    "); repeatable; chosen before running, on every target")
    ap.add_argument("--list", action="append", nargs="?", const="*",
                    metavar="GLOB",
                    help="print the points (of --only and GLOB, if given; "
                    "repeatable, as --only) without running anything")
    ap.add_argument("--skipfile", type=Path, metavar="FILE",
                    help="never run the points an LKFT skipfile names for "
                    "each kernel; they are reported as skip with its reason")
    ap.add_argument("--bench", action="store_true",
                    help="after the suite, run uffd-bench on every target "
                    "(the reports' Fault-path performance section; never "
                    "changes a verdict or the exit status)")
    ap.add_argument("--timeout", type=int, default=60, metavar="S",
                    help="per-binary timeout in seconds (default 60)")
    ap.add_argument("--kernel-timeout", type=int, default=600, metavar="S",
                    help="wall-clock limit per booted kernel (default 600)")
    ap.add_argument("--expectations", type=Path, metavar="FILE",
                    help="expectations YAML file or directory "
                    "(default: expectations/ when present)")
    ap.add_argument("--no-build", action="store_true",
                    help="do not run make; use the binaries as they are")
    ap.add_argument("--build-dir", type=Path, default=PATHS.build_dir,
                    help=f"the host's build (default {PATHS.build_dir})")
    ap.add_argument("--static-build-dir", type=Path, default=PATHS.static_build_dir,
                    help="the static build booted in VMs (default build-static/)")
    ap.add_argument("pytest_args", nargs="*", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    args.kernel = args.kernel or ["host"]
    if args.jobs < 1 or args.timeout < 1 or args.kernel_timeout < 1:
        ap.error("-j, --timeout and --kernel-timeout must be positive")
    if args.jobs_per_kernel is not None and not 1 <= args.jobs_per_kernel <= 256:
        ap.error("--jobs-per-kernel must be 1..256")
    if args.list is not None:
        args.only += [g for g in args.list if g != "*"]
    try:
        check_globs(args.only, any(s != "host" for s in args.kernel))
    except SelectionError as e:
        ap.error(str(e))
    # the binaries and points --only keeps, when the host can list them
    args.binary_names = args.selected_points = None
    args.skips = None       # --skipfile's SkipRun, once the points are listed
    if args.expectations is None and PATHS.expectations.is_dir():
        args.expectations = PATHS.expectations
    # Installed, the package's dependencies are installed and its binaries
    # built: never make, never apt.
    args.no_build = args.no_build or PATHS.installed
    if args.expectations is not None and not args.expectations.exists():
        ap.error(f"--expectations {args.expectations}: no such file")
    return args


def ensure_built(args: argparse.Namespace, log: Callable[[str], None],
                 shutdown: Shutdown) -> None:
    """deps.sh (installs as root, else prints the apt-get line) and make.
    make runs as a child of the shutdown: a signal stops it and its
    compilers; deps.sh is waited for (apt and dpkg stopped half-way could
    leave the system's packages broken)."""
    others = [s for s in args.kernel if s != "host"]
    groups = ["build", "test"] + (["vm"] if others else [])
    builds = [["make", "-s", "-C", str(ROOT), f"O={args.build_dir}"]]
    if others:
        # One static build per architecture among the kernels (a cross
        # build beside --static-build-dir: kernels.static_build_dir).
        kernels = import_kernels(others)
        for arch in sorted(set(kernels.spec_arches(others).values())):
            if arch != kernels.host_arch():
                groups.append(arch)
            out = kernels.static_build_dir(args.static_build_dir, arch)
            builds.append(["make", "-s", "-C", str(ROOT), "STATIC=1", f"ARCH={arch}",
                           f"O={out}"])
    if subprocess.run([str(ROOT / "scripts/deps.sh"), *groups]).returncode \
            and not shutdown.stopping:
        raise RunError("missing Debian packages (see the apt-get line above)")
    for cmd in builds:
        if shutdown.stopping:
            return
        log("building: make " + " ".join(cmd[4:]))
        res = shutdown.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True)
        if res.returncode and not shutdown.stopping:
            raise RunError("build failed:\n" + res.stdout[-3000:])


def case_binaries(build_dir: Path) -> list[Path]:
    cases = build_dir / "cases"
    return sorted(p for p in cases.iterdir() if p.is_file()
                  and os.access(p, os.X_OK)) if cases.is_dir() else []


def check_runner(args: argparse.Namespace) -> tuple[Path, list[Path]]:
    runner = args.build_dir / "faultline-runner"
    if not os.access(runner, os.X_OK):
        raise RunError(f"{runner} is missing: build it with make")
    cases = case_binaries(args.build_dir)
    if not cases:
        raise RunError(f"no case binaries in {args.build_dir / 'cases'}")
    return runner, cases


# The runner's limit for --timeout (runner/options.c): a week.
RUNNER_TIMEOUT_MAX = 604800


def runner_options(args: argparse.Namespace) -> list[tuple[str, str]]:
    """Every run.py option the runner takes, as (its long option, value),
    built once for host and VM alike: `--timeout=60` on the host's command
    line, `faultline.timeout=60` on a VM's kernel command line. RunError for
    a value the runner would refuse, so that it fails before any work."""
    if not 0 < args.timeout <= RUNNER_TIMEOUT_MAX:
        raise RunError(f"--timeout {args.timeout}: the runner takes 1 to "
                       f"{RUNNER_TIMEOUT_MAX} seconds (a week)")
    opts = [("timeout", str(args.timeout))]
    if args.jobs_per_kernel is not None:
        opts.append(("jobs", str(args.jobs_per_kernel)))
    if args.bench:      # beside the runner: build/ on the host, / in a VM
        opts.append(("bench", "uffd-bench"))
    return opts + only_options(args.only)


def stopped_why(shutdown: Shutdown) -> str:
    """What a target's column says when the run was cut short."""
    reason = shutdown.reason or "stopped"
    return (f"interrupted: run.py got {reason}" if reason.startswith("SIG")
            else f"stopped: {reason}")


def save_stream(path: Path, text: str, shutdown: Shutdown) -> None:
    """A saved stream, whole; a refused write stops the run (exit 2)."""
    try:
        write_result(path, text)
    except OutputError as e:
        shutdown.stop(str(e), 2)


def unstarted(spec: str, names: list[str], path: Path,
              shutdown: Shutdown) -> Run:
    """The run of a target that was never started because run.py was
    stopped first: its binaries are not run, with the reason."""
    text = append_target_frame("", target_frame(
        spec, f"{stopped_why(shutdown)} before this target started",
        {"interrupted": shutdown.reason}, names))
    save_stream(path, text, shutdown)
    return parse_stream(text)


def run_host(args: argparse.Namespace, path: Path, shutdown: Shutdown) -> Run:
    """Run the runner on the host, teeing its stream to `path` and into a
    StreamReader (progress listens to it), its stderr passed through live
    (a runner waiting for another run's huge page pool says so at once).
    The saved stream ends with our target frame, so `report render` of it
    gives this very Run."""
    if shutdown.stopping:
        return unstarted("host", [c.name for c in case_binaries(args.build_dir)],
                         path, shutdown)
    runner, cases = check_runner(args)
    probe_bin = args.build_dir / "uffd-probe"
    uname = os.uname()
    skips = args.skips.options("host", uname.release, uname.machine) if args.skips else []
    cmd = [str(runner), *(f"--{opt}={val}" for opt, val in runner_options(args) + skips),
           f"--probe={probe_bin}" if os.access(probe_bin, os.X_OK) else "--no-probe",
           *map(str, cases)]
    reader = StreamReader(Progress(sys.stdout, sys.stdout.isatty(), prefix="host "))
    limit = args.timeout * (len(cases) + 1 + args.bench) + 30
    try:
        saved: ResultFile | None = ResultFile(path)
    except OutputError as e:
        shutdown.stop(str(e), 2)
        saved = None
    tee = StreamTee(reader, saved, lambda e: shutdown.stop(str(e), 2))
    # Its own session: a terminal's ^C reaches only us, and the shutdown
    # passes it on as SIGTERM (the runner stops its binary and ends the
    # stream with status "interrupted"); we read on until it has.
    child = shutdown.start(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    child.pass_stderr()
    assert child.proc.stdout is not None
    fd = child.proc.stdout.fileno()
    while chunk := os.read(fd, 65536):
        # The limit starts with the stream: waiting for another run's
        # huge page pool (before the first frame) is not the runner's time.
        child.start_limit(limit)
        tee.feed(chunk)
    rc = child.wait()
    error = runner_error(rc, child.stderr_tail(), limit, child.limit_hit,
                         stopped_why(shutdown) if shutdown.stopping else None)
    info = {"interrupted": shutdown.reason} if shutdown.stopping else None
    names = args.binary_names or [c.name for c in cases]
    tee.finish(target_frame(
        "host", error, info,
        binaries=args.skips.binaries("host", names) if args.skips else names,
        skipped=args.skips.skipped("host") if args.skips else None))
    if saved is not None:
        saved.close()
    return reader.finish()


def runner_error(rc: int, stderr: str, limit: float, limit_hit: bool = False,
                 stopped: str | None = None) -> str | None:
    """Why the runner misbehaved, from its exit status and who stopped it
    (run.py's shutdown, run.py's overall limit, or someone else), else None."""
    if rc in (0, 1):
        return None
    if stopped:
        return f"{stopped}; the runner was stopped"
    if limit_hit:
        return f"run.py stopped the runner at its overall limit ({limit} s)"
    sig = -rc if rc < 0 else rc - 128 if rc > 128 else 0
    if sig:
        name = signal.Signals(sig).name if sig in signal.valid_signals() else "?"
        how = "killed by" if rc < 0 else "stopped the run on"
        return f"runner {how} signal {sig} ({name}) from outside run.py"
    return f"runner exited {rc}: {stderr.strip()[-500:]}"


def import_kernels(specs: list[str]) -> Any:
    """The kernels package, imported lazily (a host run does not need it),
    after checking every spec: a bad one fails before any work."""
    import kernels
    for spec in specs:
        try:
            kernels.parse_spec(spec)
        except ValueError as e:
            raise RunError(str(e)) from e
    return kernels


def run_vms(args: argparse.Namespace, specs: list[str], outdir: Path,
            log: Callable[[str], None], shutdown: Shutdown) -> dict[str, Run]:
    """Boot every spec, save each console stream with our target frame
    appended, and read it back into a Run (as `report render` would). A
    stop kills every QEMU; what each console had collected is kept."""
    kernels = import_kernels(specs)
    names = args.binary_names or [c.name for c in case_binaries(args.static_build_dir)]
    if shutdown.stopping:
        return {s: unstarted(s, names, outdir / f"{safe_name(s)}.stream", shutdown)
                for s in specs}
    skips: dict[str, Any] = {}
    if args.skips:      # each kernel's skips, once its release is known
        budget = CMDLINE_BUDGET - len(" ".join(f"faultline.only={g} " for g in args.only)
                                      + "faultline.skip=")
        skips["options_for"] = lambda spec, info: args.skips.options(
            spec, info.get("release"), info.get("arch"), budget)
    try:
        results = kernels.run_kernels(
            specs, static_build_dir=args.static_build_dir, cache_dir=CACHE,
            jobs=args.jobs, timeout_s=args.kernel_timeout, log=log,
            runner_options=runner_options(args),
            console=lambda spec: ConsoleProgress(sys.stdout, f"{spec} "), **skips)
    except (ValueError, OSError) as e:
        raise RunError(f"booting {' '.join(specs)}: {e}") from e
    runs = {}
    for kr in results:
        info = dict(kr.info)
        if shutdown.stopping:
            info["interrupted"] = shutdown.reason
        frame = target_frame(kr.spec, kr.error, info,
                             args.skips.binaries(kr.spec, names) if args.skips else names,
                             args.skips.skipped(kr.spec) if args.skips else None)
        text = append_target_frame(kr.stream or "", frame)
        save_stream(outdir / f"{safe_name(kr.spec)}.stream", text, shutdown)
        runs[kr.spec] = parse_stream(text)
    return runs


def safe_name(spec: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", spec).strip("_") or "kernel"


def collect(args: argparse.Namespace, outdir: Path,
            log: Callable[[str], None], shutdown: Shutdown) -> dict[Path, Run]:
    """One saved stream and its Run per kernel spec, in spec order."""
    runs: dict[str, Run] = {}
    others = [s for s in dict.fromkeys(args.kernel) if s != "host"]
    if "host" in args.kernel:
        runs["host"] = run_host(args, outdir / "host.stream", shutdown)
    if others:
        runs.update(run_vms(args, others, outdir, log, shutdown))
    return {outdir / ("host.stream" if s == "host" else f"{safe_name(s)}.stream"):
            runs[s] for s in dict.fromkeys(args.kernel) if s in runs}


def choose_points(args: argparse.Namespace, log: Callable[[str], None]) -> None:
    """Check --only against the host build's lists before any target
    starts (the targets choose for themselves, with the same globs)."""
    runner, cases = args.build_dir / "faultline-runner", case_binaries(args.build_dir)
    if not os.access(runner, os.X_OK) or not cases:
        return              # VMs only, --no-build: each target still chooses
    try:
        points, unlisted = list_points(runner, cases, args.only)
    except SelectionError as e:
        raise RunError(str(e)) from e
    if unlisted:
        log(f"{unlisted} (such a binary runs whole)")
    if not points and not unlisted:
        raise RunError(f"--only {' '.join(args.only)}: no test point matches "
                       "(./run.py --list shows them)")
    log(f"--only: {counted(points)}")
    if not unlisted:
        args.binary_names = selected_binaries(points)
        args.selected_points = [p for _, p in points]


def listed_points(args: argparse.Namespace) -> list[tuple[str, str]]:
    """(binary, point id) of what the run would run (--only applied), from
    the host build's lists: --skipfile reports its skips from them (a VM's
    static build has the same cases)."""
    runner, cases = args.build_dir / "faultline-runner", case_binaries(args.build_dir)
    if not os.access(runner, os.X_OK) or not cases:
        raise RunError(f"--skipfile needs the host build's point lists: no "
                       f"runner and cases in {args.build_dir} (drop --no-build)")
    try:
        return list_points(runner, cases, args.only)[0]
    except SelectionError as e:
        raise RunError(f"--skipfile: {e}") from e


def list_main(args: argparse.Namespace, shutdown: Shutdown) -> int:
    """--list: the points, from the host build's binaries, nothing run."""
    try:
        if not args.no_build and subprocess.run(
                ["make", "-s", "-C", str(ROOT), f"O={args.build_dir}"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode:
            ensure_built(argparse.Namespace(**{**vars(args), "kernel": ["host"]}),
                         lambda m: print(m, file=sys.stderr), shutdown)
        runner, cases = check_runner(args)
        points, unlisted = list_points(runner, cases, args.only)
    except (RunError, SelectionError) as e:
        print(f"run.py: cannot list the points: {e}", file=sys.stderr)
        return 2
    if not points and not unlisted:
        print(f"run.py: --list: no test point matches {' '.join(args.only)}",
              file=sys.stderr)
        return 2
    print_points(points, sys.stdout, sys.stderr)
    if unlisted:        # the list is not whole
        print(unlisted, file=sys.stderr)
        return 2
    return 0


def make_outdir(outdir: Path) -> None:
    """Create the output directory and prove it is writable, or RunError."""
    marker = outdir / ".faultline-write-test"
    try:
        write_result(marker, "")
        marker.unlink()
    except (OutputError, OSError) as e:
        why = e.strerror if isinstance(e, OutputError) else e.strerror or e
        raise RunError(f"cannot write the output directory {outdir}: {why}") from e


def main(argv: list[str]) -> int:
    if argv[:1] == ["report"]:
        from reports.cli import report_main
        return report_main(argv[1:])
    try:
        args = parse_args(argv)
    except SystemExit as e:
        return 2 if e.code else 0
    # From here on a signal (or a refused write) stops every child the one
    # way and the report of what was collected is still written.
    shutdown = Shutdown()
    with shutdown.handling_signals():
        if args.list is not None:
            return list_main(args, shutdown)
        return run_and_report(args, shutdown)


def run_and_report(args: argparse.Namespace, shutdown: Shutdown) -> int:
    """Build, run every kernel, write the reports; the exit code."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    outdir = args.output or PATHS.results / stamp

    def log(msg: str) -> None:
        print(msg, flush=True)
    try:
        runner_options(args)            # a value the runner refuses: now
        try:
            exps = expect.load(args.expectations) if args.expectations else []
        except expect.ExpectationError as e:
            raise RunError(f"--expectations: {e}") from e
        try:
            skip_rules = load_skipfile(args.skipfile) if args.skipfile else None
        except SkipfileError as e:
            raise RunError(f"--skipfile: {e}") from e
        others = [s for s in args.kernel if s != "host"]
        if others:
            kernels = import_kernels(others)    # bad specs fail before any work
            shutdown.on_stop(kernels.stop)      # apt, QEMU: killed on a stop
            try:                                # and so do ones the archive lacks
                kernels.check_available(others, CACHE, log)
            except ValueError as e:
                raise RunError(str(e)) from e
        if "host" in args.kernel and args.no_build:
            check_runner(args)
        make_outdir(outdir)             # before the build: fail early
        if not args.no_build:
            ensure_built(args, log, shutdown)
        if args.only:
            choose_points(args, log)
        if skip_rules is not None:
            args.skips = SkipRun(skip_rules, listed_points(args))
        runs = collect(args, outdir, log, shutdown)
    except RunError as e:
        print(f"run.py: the run could not be done: {e}", file=sys.stderr)
        return shutdown.exit_code(2)
    every = list(runs.values())
    apply_expectations(every, exps)
    chosen = every
    if args.pytest_args:
        from reports import plugin
        rc, chosen = plugin.select(runs, args.pytest_args, outdir)
        if rc in (2, 3, 4):
            print(f"run.py: pytest could not select (exit {rc})", file=sys.stderr)
            return shutdown.exit_code(2)
    report = publish(chosen, outdir,
                     expectations_in(exps, args.only, args.selected_points),
                     all_runs=every)
    print(report.summary())
    if shutdown.stopping:
        print(f"run.py: stopped ({shutdown.reason}): exit {shutdown.code}",
              file=sys.stderr)
    return shutdown.exit_code(report.exit_code)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
