# SPDX-License-Identifier: GPL-2.0
"""Boot kernels and save their streams, without the report machinery:

    /usr/bin/python3 -m kernels [-j N] [--static DIR] [--out DIR] SPEC...

Writes <out>/<n>-<slug>.stream and <out>/kernels.json; prints one line per
kernel. Exit 0 if every kernel completed its run, 1 if one did not, 2 on a
usage error.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from . import SpecError, check_available, parse_spec, run_kernels
from .aptsrc import AptConfigError
from .debian import FetchError, fetch_debian
from .image import ImageError

ROOT = Path(__file__).resolve().parent.parent


def fetch_only(specs: list[str], cache: Path, t0: float) -> int:
    rc = 0
    for s in specs:
        spec = parse_spec(s)
        if spec.kind != "debian":
            continue
        try:
            m = fetch_debian(spec, cache / "kernels",
                             lambda msg: print(f"  {msg}", file=sys.stderr, flush=True))
        except (FetchError, ImageError, AptConfigError) as e:
            print(f"{s}: {e}")
            rc = 1
            continue
        print(f"{s}: {m['package']} {m['version']} "
              f"({'cached' if m['cached'] else 'downloaded in %s s' % m['download_s']})")
    print(f"wall {time.monotonic() - t0:.1f} s")
    return rc


def main(argv: list[str] | None = None) -> int:
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "faultline"
    ap = argparse.ArgumentParser(prog="python3 -m kernels", description=__doc__.split("\n")[0])
    ap.add_argument("specs", nargs="+", metavar="SPEC")
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--static", type=Path, default=ROOT / "build-static",
                    help="static build dir (make STATIC=1 O=DIR)")
    ap.add_argument("--cache", type=Path, default=cache)
    ap.add_argument("--timeout", type=int, default=300, help="per kernel, seconds")
    ap.add_argument("--out", type=Path, default=None, help="write streams here")
    ap.add_argument("--fetch-only", action="store_true",
                    help="download what is missing from the cache, boot nothing")
    args = ap.parse_args(argv)
    try:
        for s in args.specs:
            parse_spec(s)
        check_available(args.specs, args.cache,
                        lambda m: print(f"  {m}", file=sys.stderr, flush=True))
    except SpecError as e:
        print(f"kernels: {e}", file=sys.stderr)
        return 2
    t0 = time.monotonic()
    if args.fetch_only:
        return fetch_only(args.specs, args.cache, t0)
    rs = run_kernels(args.specs, static_build_dir=args.static,
                     cache_dir=args.cache, jobs=args.jobs, timeout_s=args.timeout,
                     log=lambda m: print(f"  {m}", file=sys.stderr, flush=True))
    for r in rs:
        i = r.info
        print(f"{r.spec}: {'ok' if r.error is None else r.error.splitlines()[0]}; "
              f"{i.get('package')} {i.get('version')}, {i.get('accel')}, "
              f"boot {i.get('boot_seconds')} s, total {i.get('seconds')} s, "
              f"attempts {i.get('attempts')}")
    print(f"wall {time.monotonic() - t0:.1f} s")
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        for n, r in enumerate(rs):
            slug = parse_spec(r.spec).slug
            (args.out / f"{n}-{slug}.stream").write_text(r.stream)
        (args.out / "kernels.json").write_text(json.dumps(
            [{"spec": r.spec, "error": r.error, "info": r.info} for r in rs], indent=1))
    return 0 if all(r.error is None for r in rs) else 1


if __name__ == "__main__":
    sys.exit(main())
