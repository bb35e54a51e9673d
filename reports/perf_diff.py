# SPDX-License-Identifier: GPL-2.0
"""`report diff`'s performance changes: the benchmark's figures of two runs
of one kernel (perf.py), compared entry by entry.

Each entry's main figure is compared, the one its `spread` describes: p50
of a round trip, pages/s of a throughput and of the floors. A figure is
{median, min, max} over the repeats. It changed when both sides had at
least two repeats (one repeat has no spread to compare against), their
[min, max] ranges do not overlap, and the medians differ by more than the
spread, (max - min) / median, of either side. p90 and p99 are shown, not
judged: a tail over a few hundred faults is too noisy to call. The floors
are compared too: when they moved, the machine (load, CPU) changed, not
only the kernel. Such a change is reported in its own section and is
never a regression: benchmarks do not change the exit code.
"""
from __future__ import annotations

from typing import Any, Iterator

from .perf import fmt_ns, fmt_rate, median, relative_why, state



# The floors' op names: measured without userfaultfd.
FLOORS = ("touch", "memcpy")


def _entries(doc: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """(memory type, op) -> entry, floors included."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for mt in doc.get("memory_types") or []:
        if not isinstance(mt, dict):
            continue
        mem = str(mt.get("mem"))
        floors = mt.get("floors") or {}
        for e in list(floors.values()) + list(mt.get("latency") or []) + \
                list(mt.get("throughput") or []):
            if isinstance(e, dict):
                out[(mem, str(e.get("op")))] = e
    return out


def _spread(fig: dict[str, Any]) -> float | None:
    try:
        med, lo, hi = float(fig["median"]), float(fig["min"]), float(fig["max"])
    except (KeyError, TypeError, ValueError):
        return None
    return (hi - lo) / med if med > 0 else None


def changed(old: dict[str, Any], new: dict[str, Any]) -> float | None:
    """The relative change of a figure's median when it is larger than the
    measured spread (see the module's doc), else None."""
    so, sn = _spread(old), _spread(new)
    if so is None or sn is None:
        return None
    if new["min"] <= old["max"] and old["min"] <= new["max"]:
        return None         # the ranges overlap: within the noise
    delta = new["median"] / old["median"] - 1
    return delta if abs(delta) > max(so, sn) else None


def main_figure(entry: dict[str, Any]) -> str:
    """The figure an entry's `spread` is about (a larger latency is slower,
    a larger rate faster)."""
    return "pages_per_s" if isinstance(entry.get("pages_per_s"), dict) else "p50_ns"


def _fmt(figure: str, value: float) -> str:
    return fmt_ns(value) if figure.endswith("_ns") else f"{fmt_rate(value)} pages/s"


def _figure_changes(old: dict[str, Any], new: dict[str, Any]) -> Iterator[str]:
    eo, en = _entries(old), _entries(new)
    for key, n in en.items():
        o = eo.get(key)
        if o is None:
            continue
        mem, op = key
        if o.get("status") != n.get("status"):
            why = f": {n.get('reason')}" if n.get("reason") else ""
            yield f"{mem} {op}: {o.get('status')} -> {n.get('status')}{why}"
            continue
        if n.get("status") != "measured" or min(o.get("repeats") or 0,
                                                 n.get("repeats") or 0) < 2:
            continue
        figure = main_figure(n)
        fo, fn = o.get(figure), n.get(figure)
        if not isinstance(fo, dict) or not isinstance(fn, dict):
            continue
        delta = changed(fo, fn)
        if delta is None:
            continue
        slower = delta > 0 if figure.endswith("_ns") else delta < 0
        name = "p50" if figure == "p50_ns" else "pages/s"
        yield (f"{mem} {op} {name}: {_fmt(figure, fo['median'])} -> "
               f"{_fmt(figure, fn['median'])} ({delta:+.0%}, "
               f"{'slower' if slower else 'faster'}; spread {_spread(fo):.0%} / "
               f"{_spread(fn):.0%}){_tails(o, n) if figure == 'p50_ns' else ''}")


def _tails(o: dict[str, Any], n: dict[str, Any]) -> str:
    """p90 and p99 beside a changed p50, for the reader's judgement."""
    parts = []
    for p in ("p90_ns", "p99_ns"):
        vo, vn = median(o, p), median(n, p)
        if vo is not None and vn is not None:
            parts.append(f"{p[:3]} {fmt_ns(vo)} -> {fmt_ns(vn)}")
    return f"; {', '.join(parts)}" if parts else ""


def perf_changes(where: str, old_bench: dict[str, Any] | None,
                 new_bench: dict[str, Any] | None,
                 old_info: dict[str, Any], new_info: dict[str, Any]) -> list[str]:
    """The performance section's lines for one pair of runs."""
    if old_bench is None or new_bench is None:
        if old_bench is not None:
            return [f"{where}: no benchmark in the new run"]
        return []
    out = []
    so, sn = state(old_bench)[0], state(new_bench)[0]
    if so != sn:
        out.append(f"{where}: benchmark {so} -> {sn}: {state(new_bench)[1]}")
    do, dn = old_bench.get("document"), new_bench.get("document")
    if not do or not dn:
        return out
    rel = relative_why(old_info) or relative_why(new_info)
    tag = f" [relative only: {rel}]" if rel else ""
    lines = list(_figure_changes(do, dn))
    floors = [ln for ln in lines if ln.split()[1] in FLOORS]
    if floors:
        out.append(f"{where}: {len(floors)} floor figure(s) moved too: the "
                   "machine (load, CPU) changed, not only the kernel")
    return out + [f"{where}: {line}{tag}" for line in lines]
