#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""faultline: probe userfaultfd and run the conformance cases, then report.

    ./run.py                              host kernel -> results/<timestamp>/
    ./run.py --kernel host --kernel debian:bookworm -j 2
    ./run.py -o out -- -k copy -x         arguments after -- go to pytest
    ./run.py report merge a.json b.json -o DIR
    ./run.py report diff old.json new.json
    ./run.py report render results/x/host.stream -o DIR

Exit: 0 all passed/skipped/xfailed, 1 failures or regressions,
2 usage error or the run could not be done (the reason is printed).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from reports.progress import Progress  # noqa: E402

CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "faultline"


class RunError(Exception):
    """The run could not be done (exit 2)."""


def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        prog="run.py", description="Run faultline on one or more kernels "
        "and write report.json/md/html and junit.xml.",
        epilog="Also: run.py report {merge,diff,render} ... (see run.py report -h)."
        " Arguments after -- are passed to pytest (e.g. -- -k copy -x).")
    ap.add_argument("--kernel", action="append", metavar="SPEC",
                    help="host (default), debian:<suite>[:flavour], or a "
                    "kernel image path; repeatable: one matrix column each")
    ap.add_argument("-o", "--output", type=Path, metavar="DIR",
                    help="output directory (default results/<timestamp>/)")
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1,
                    help="kernels booted in parallel (default: cores)")
    ap.add_argument("--timeout", type=int, default=60, metavar="S",
                    help="per-binary timeout in seconds (default 60)")
    ap.add_argument("--kernel-timeout", type=int, default=600, metavar="S",
                    help="wall-clock limit per booted kernel (default 600)")
    ap.add_argument("--expectations", type=Path, metavar="FILE",
                    help="expectations YAML file or directory "
                    "(default: expectations/ when present)")
    ap.add_argument("--no-build", action="store_true",
                    help="do not run make; use the binaries as they are")
    ap.add_argument("--build-dir", type=Path, default=ROOT / "build")
    ap.add_argument("pytest_args", nargs="*", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    args.kernel = args.kernel or ["host"]
    if args.jobs < 1 or args.timeout < 1 or args.kernel_timeout < 1:
        ap.error("-j, --timeout and --kernel-timeout must be positive")
    if args.expectations is None and (ROOT / "expectations").is_dir():
        args.expectations = ROOT / "expectations"
    if args.expectations is not None and not args.expectations.exists():
        ap.error(f"--expectations {args.expectations}: no such file")
    return args


def ensure_built(args: argparse.Namespace, log: Callable[[str], None]) -> None:
    """deps.sh (installs as root, else prints the apt-get line) and make."""
    others = [s for s in args.kernel if s != "host"]
    groups = ["build", "test"] + (["vm"] if others else [])
    builds = [["make", "-s", "-C", str(ROOT), f"O={args.build_dir}"]]
    if others:
        # One static build per architecture among the kernels (a cross
        # build beside build-static: kernels.static_build_dir).
        kernels = import_kernels(others)
        for arch in sorted(set(kernels.spec_arches(others).values())):
            if arch != kernels.host_arch():
                groups.append(arch)
            out = kernels.static_build_dir(ROOT / "build-static", arch)
            builds.append(["make", "-s", "-C", str(ROOT), "STATIC=1", f"ARCH={arch}",
                           f"O={out}"])
    if subprocess.run([str(ROOT / "scripts/deps.sh"), *groups]).returncode:
        raise RunError("missing Debian packages (see the apt-get line above)")
    for cmd in builds:
        log("building: make " + " ".join(cmd[4:]))
        res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True)
        if res.returncode:
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


def run_host(args: argparse.Namespace, path: Path) -> str | None:
    """Run the runner on the host, teeing its stream to `path` with progress.
    Returns an error string when the runner misbehaved, else None."""
    runner, cases = check_runner(args)
    probe = args.build_dir / "uffd-probe"
    cmd = [str(runner), "--timeout", str(args.timeout),
           *(["--probe", str(probe)] if os.access(probe, os.X_OK)
             else ["--no-probe"]), *map(str, cases)]
    prog = Progress(sys.stdout, sys.stdout.isatty(), prefix="host ")
    limit = args.timeout * (len(cases) + 1) + 30
    # Bytes in, bytes out: the saved stream is exactly what the runner wrote.
    # stderr to a file: a chatty runner must not block on a full pipe.
    with open(path, "wb") as out, tempfile.TemporaryFile() as errf, \
            subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errf,
                             start_new_session=True) as proc:
        killer = threading.Timer(limit, proc.kill)
        killer.start()
        assert proc.stdout is not None
        # The runner has its own session: a terminal ^C reaches only us; we
        # pass it on as SIGTERM (the runner stops its binary and ends the
        # stream with status "interrupted") and report what was collected.
        while True:
            try:
                for raw in proc.stdout:
                    out.write(raw)
                    prog.feed(raw.decode("utf-8", "replace").rstrip("\n"))
                break
            except KeyboardInterrupt:
                print("\nrun.py: interrupted, stopping the runner", flush=True)
                proc.send_signal(signal.SIGTERM)
        killer.cancel()
        rc = proc.wait()
        errf.seek(0)
        err = errf.read().decode("utf-8", "replace")
    prog.close()
    if rc < 0:
        return f"runner killed by signal {-rc} (overall limit {limit} s)"
    if rc > 128:
        return f"run interrupted (the runner got signal {rc - 128})"
    if rc not in (0, 1):
        return f"runner exited {rc}: {err.strip()[-500:]}"
    return None


def import_kernels(specs: list[str]) -> Any:
    """The kernels package (imported lazily: host runs do not need it)."""
    try:
        import kernels  # type: ignore[import-not-found]
    except ImportError as e:
        raise RunError(f"--kernel {' '.join(specs)}: booting other kernels "
                       f"needs the kernels package, which is not available "
                       f"({e}); only --kernel host works here") from e
    parse = getattr(kernels, "parse_spec", None)
    for spec in specs:
        try:
            if parse is not None:
                parse(spec)
        except ValueError as e:
            raise RunError(str(e)) from e
    return kernels


def run_kernels_lazy(args: argparse.Namespace, specs: list[str],
                     log: Callable[[str], None]) -> list[Any]:
    kernels = import_kernels(specs)
    try:
        return list(kernels.run_kernels(
            specs, build_dir=args.build_dir,
            static_build_dir=ROOT / "build-static", cache_dir=CACHE,
            jobs=args.jobs, timeout_s=args.kernel_timeout, log=log))
    except (ValueError, OSError) as e:
        raise RunError(f"booting {' '.join(specs)}: {e}") from e


def safe_name(spec: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", spec).strip("_") or "kernel"


def write_meta(path: Path, meta: dict[str, Any]) -> None:
    path.with_suffix(".meta.json").write_text(
        json.dumps(meta, indent=1, default=str) + "\n")


def collect(args: argparse.Namespace, outdir: Path,
            log: Callable[[str], None]) -> list[Path]:
    """Produce one saved stream (+ meta) per kernel spec, in spec order."""
    streams: dict[str, Path] = {}
    names = [p.name for p in case_binaries(args.build_dir)]
    others = [s for s in dict.fromkeys(args.kernel) if s != "host"]
    if "host" in args.kernel:
        path = outdir / "host.stream"
        err = run_host(args, path)
        write_meta(path, {"target": "host", "error": err,
                          "expected_binaries": names})
        streams["host"] = path
    if others:
        for kr in run_kernels_lazy(args, others, log):
            path = outdir / f"{safe_name(kr.spec)}.stream"
            path.write_text(kr.stream or "", encoding="utf-8")
            write_meta(path, {"target": kr.spec, "error": kr.error,
                              "info": kr.info, "expected_binaries": names})
            streams[kr.spec] = path
    return [streams[s] for s in dict.fromkeys(args.kernel) if s in streams]


def run_pytest(args: argparse.Namespace, streams: list[Path],
               outdir: Path) -> tuple[int, Any]:
    import pytest

    from reports import plugin
    # -c devnull: no ini file of the tree applies to this session.
    pargs = [*map(str, streams), "-q", "--tb=no", "-rN", "-p", "no:cacheprovider",
             "-c", os.devnull, "--rootdir", str(outdir),
             "--faultline-report", str(outdir)]
    if args.expectations:
        pargs += ["--faultline-expectations", str(args.expectations)]
    pargs += args.pytest_args
    cfg: dict[str, Any] = {}

    class Grab:
        @staticmethod
        def pytest_unconfigure(config: Any) -> None:
            cfg["doc"] = config.stash.get(plugin.DOC_KEY, None)
            cfg["summary"] = config.stash.get(plugin.SUMMARY_KEY, "")
    rc = pytest.main(pargs, plugins=[plugin, Grab()])
    return int(rc), cfg


def make_outdir(outdir: Path) -> None:
    """Create the output directory and prove it is writable, or RunError."""
    try:
        outdir.mkdir(parents=True, exist_ok=True)
        probe = outdir / ".faultline-write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as e:
        raise RunError(f"cannot write the output directory {outdir}: "
                       f"{e.strerror or e}") from e


def main(argv: list[str]) -> int:
    if argv[:1] == ["report"]:
        from reports.cli import report_main
        return report_main(argv[1:])
    try:
        args = parse_args(argv)
    except SystemExit as e:
        return 2 if e.code else 0
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    outdir = args.output or ROOT / "results" / stamp

    def log(msg: str) -> None:
        print(msg, flush=True)
    try:
        if args.expectations is not None:
            from reports.expectations import ExpectationError, load
            try:
                load(args.expectations)
            except ExpectationError as e:
                raise RunError(f"--expectations: {e}") from e
        others = [s for s in args.kernel if s != "host"]
        if others:
            kernels = import_kernels(others)    # bad specs fail before any work
            check = getattr(kernels, "check_available", None)
            try:                                # and so do ones the archive lacks
                if check is not None:
                    check(others, CACHE, log)
            except ValueError as e:
                raise RunError(str(e)) from e
        if "host" in args.kernel and args.no_build:
            check_runner(args)
        make_outdir(outdir)             # before the build: fail early
        if not args.no_build:
            ensure_built(args, log)
        streams = collect(args, outdir, log)
    except RunError as e:
        print(f"run.py: the run could not be done: {e}", file=sys.stderr)
        return 2
    rc, cfg = run_pytest(args, streams, outdir)
    if rc in (2, 3, 4) or cfg.get("doc") is None:
        print(f"run.py: pytest could not run (exit {rc})", file=sys.stderr)
        return 2
    print(cfg["summary"])
    return int(cfg["doc"]["exit_code"])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
