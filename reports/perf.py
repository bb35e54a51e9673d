# SPDX-License-Identifier: GPL-2.0
"""The fault-path benchmark in reports: what one target's `bench-begin` ..
`bench-end` section said (STREAM.md), and the "Fault-path performance"
view the Markdown and HTML renderers share.

A run's `bench` (report.json) is the section's facts plus the uffd-bench
JSON document verbatim (bench/uffd-bench/README.md, schema_version 1);
everything shown is derived from it here. Nothing in this module touches a
verdict: benchmarks never change pass/fail or the exit code.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

# Why a target's figures are only comparable with each other: how its
# VM was run (the orchestrator's `info.accel`).
RELATIVE_ACCELS = {"tcg": "a TCG guest (emulated CPU)"}

# Result keys of bench-end kept as they are (STREAM.md, binary-end's).
END_KEYS = ("exit", "signal", "timed_out", "duration_ms", "path", "stderr",
            "error", "kmsg_alert", "core_dumped", "unkillable", "interrupted")

# Column order and headings of the two tables (uffd-bench's op names).
LATENCY_OPS = ("missing_copy", "missing_zeropage", "minor_continue",
               "wp_unprotect", "missing_move")
THROUGHPUT_OPS = ("copy", "zeropage", "continue", "move", "poison",
                  "writeprotect", "unprotect", "wp_async_scan")


def bench_result(begin: dict[str, Any], document: dict[str, Any] | None,
                 end: dict[str, Any] | None,
                 kmsg: list[dict[str, Any]]) -> dict[str, Any]:
    """A run's `bench` from its stream section: @end None when the stream
    was cut inside it. @kmsg: the `kmsg` frames of the section."""
    out: dict[str, Any] = {"path": begin.get("path"), "args": begin.get("args"),
                           "timeout_s": begin.get("timeout_s"),
                           "complete": end is not None}
    for key in END_KEYS:
        if end is not None and key in end:
            out[key] = end[key]
    alerts = [str(k.get("line", "")) for k in kmsg if k.get("alert")]
    if alerts:
        out["kmsg_alerts"] = alerts[:20]
    out["document"] = document if _is_bench_doc(document) else None
    return out


def bench_not_run(path: Any, cause: str | None) -> dict[str, Any]:
    """The run frame announced a benchmark that never began (interrupted,
    or the stream was cut before it)."""
    return {"path": path, "complete": False, "not_run": True,
            "error": cause or "the run ended before the benchmark began",
            "document": None}


def _is_bench_doc(doc: Any) -> bool:
    return isinstance(doc, dict) and doc.get("tool") == "uffd-bench" and \
        isinstance(doc.get("memory_types"), list)


def state(bench: dict[str, Any]) -> tuple[str, str]:
    """(word, sentence): how the benchmark ended. Words: measured, failed
    (some measurement failed its verification), timed_out, crashed, error
    (could not run, or no JSON), cut (the stream ended inside it),
    not_run."""
    doc = bench.get("document")
    summary = (doc.get("summary") or {}) if doc else {}
    if bench.get("not_run"):
        return "not_run", f"not run: {bench.get('error')}"
    if not bench.get("complete"):
        return "cut", "the stream ended while the benchmark was running"
    if bench.get("timed_out"):
        return "timed_out", (f"killed at the per-binary limit "
                             f"({bench.get('timeout_s')} s)")
    if bench.get("signal"):
        return "crashed", f"killed by signal {bench['signal']}"
    if bench.get("error"):
        return "error", str(bench["error"])
    if doc is None:
        why = (bench.get("stderr") or "").strip().splitlines()
        return "error", (f"exit {bench.get('exit')}, no JSON"
                         + (f": {why[-1]}" if why else ""))
    counts = (f"{summary.get('measured', 0)} measured, "
              f"{summary.get('not_measured', 0)} not measured, "
              f"{summary.get('failed', 0)} failed")
    if bench.get("exit") not in (0, 1, None):
        return "error", f"exit {bench.get('exit')}: {counts}"
    if summary.get("failed") or bench.get("exit") == 1:
        return "failed", f"exit {bench.get('exit')}: {counts}"
    return "measured", counts


def relative_why(info: dict[str, Any]) -> str | None:
    """Why this target's figures are relative only (None: they are not)."""
    return RELATIVE_ACCELS.get(str(info.get("accel") or ""))


def summary(bench: dict[str, Any] | None,
            info: dict[str, Any]) -> dict[str, Any] | None:
    """report.json's run `performance`: the benchmark's state in a word
    and a sentence, and whether its figures are relative only."""
    if bench is None:
        return None
    word, text = state(bench)
    why = relative_why(info)
    return {"state": word, "text": text, "relative_only": why is not None,
            "relative_why": why}


# ---- numbers as people read them ----

def fmt_ns(ns: float) -> str:
    if ns < 1000:
        return f"{ns:.0f} ns"
    for div, unit in ((1e3, "µs"), (1e6, "ms")):
        v = ns / div
        if v < 1000 or unit == "ms":
            return f"{v:.0f} {unit}" if v >= 100 else f"{v:.1f} {unit}"
    return f"{ns:.0f} ns"       # not reached


def fmt_rate(per_s: float) -> str:
    for div, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if per_s >= div:
            v = per_s / div
            return f"{v:.0f} {unit}" if v >= 100 else f"{v:.3g} {unit}"
    return f"{per_s:.0f}"


def fmt_ratio(x: Any) -> str:
    if not isinstance(x, (int, float)):
        return "–"
    if x < 0.01:
        return "<0.01×"
    return f"{x:.0f}×" if x >= 100 else f"{x:.1f}×" if x >= 1 else f"{x:.2f}×"


def fmt_gb(gb: float) -> str:
    return f"{gb:.0f}" if gb >= 100 else f"{gb:.1f}" if gb >= 10 else f"{gb:.2f}"


def fmt_spread(s: Any) -> str:
    return f"{s * 100:.0f}%" if isinstance(s, (int, float)) else "?"


def median(entry: dict[str, Any], figure: str) -> float | None:
    v = entry.get(figure)
    m = v.get("median") if isinstance(v, dict) else None
    return float(m) if isinstance(m, (int, float)) else None


def _range(entry: dict[str, Any], figure: str) -> str:
    v = entry.get(figure) or {}
    return f"{v.get('min')}..{v.get('max')}"


# ---- the view ----

@dataclass
class Cell:
    text: str
    title: str = ""             # hover: ranges, the reason
    css: str = "pass"           # pass (measured), skip (n/a), fail (failed)


@dataclass
class TypeRow:
    mem: str
    page_size: int | None
    cells: list[Cell]

    @property
    def name(self) -> str:
        """"hugetlb (2 MiB)": the type at its page size."""
        size = self.page_size
        if not isinstance(size, int) or size <= 0:
            return self.mem
        for unit, div in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
            if size >= div and size % div == 0:
                return f"{self.mem} ({size // div} {unit})"
        return f"{self.mem} ({size} B)"


@dataclass
class PerfTable:
    columns: list[str]
    rows: list[TypeRow] = field(default_factory=list)


@dataclass
class PerfRun:
    """One target's Fault-path performance section."""
    label: str
    state: str
    state_text: str
    relative_why: str | None
    facts: str                  # tool, config, clock, time
    notes: list[str] = field(default_factory=list)
    latency: PerfTable | None = None
    throughput: PerfTable | None = None


def _unmeasured(entry: dict[str, Any]) -> Cell:
    if entry.get("status") == "failed":
        return Cell(f"FAILED ({entry.get('cause')})", str(entry.get("reason") or ""),
                    "fail")
    return Cell(f"n/a ({entry.get('cause') or '?'})", str(entry.get("reason") or ""),
                "skip")


def latency_cell(e: dict[str, Any], ratio: bool = True) -> Cell:
    """p50 / p90 / p99 (× touch, spread) of a round trip, or the touch floor."""
    if e.get("status") != "measured":
        return _unmeasured(e)
    ps = [median(e, f"p{p}_ns") for p in (50, 90, 99)]
    text = " / ".join(fmt_ns(v) if v is not None else "?" for v in ps)
    extra = ([fmt_ratio(e.get("x_touch"))] if ratio else []) + \
        [fmt_spread(e.get("spread"))]
    title = "; ".join(f"p{p} {_range(e, f'p{p}_ns')} ns" for p in (50, 90, 99))
    return Cell(f"{text} ({', '.join(extra)})",
                f"{title}; {e.get('repeats')} repeats of {e.get('faults')} faults")


def throughput_cell(e: dict[str, Any], ratios: bool = True) -> Cell:
    """pages/s, GB/s (× memcpy / × touch, spread) of an op or a floor."""
    if e.get("status") != "measured":
        return _unmeasured(e)
    rate, gb = median(e, "pages_per_s"), median(e, "gb_per_s")
    text = f"{fmt_rate(rate)}/s" if rate is not None else "?"
    if gb is not None:
        text += f", {fmt_gb(gb)} GB/s"
    comparable = ratios and (e.get("x_memcpy") is not None or
                             e.get("x_touch") is not None)
    extra = [f"{fmt_ratio(e.get('x_memcpy'))} / {fmt_ratio(e.get('x_touch'))}"] \
        if comparable else []
    extra.append(fmt_spread(e.get("spread")))
    return Cell(f"{text} ({', '.join(extra)})",
                f"pages/s {_range(e, 'pages_per_s')}; {e.get('repeats')} repeats "
                f"of {e.get('pages')} pages, {e.get('batch_pages')} per call")


def _ops(mt: dict[str, Any], key: str) -> dict[str, dict[str, Any]]:
    return {str(e.get("op")): e for e in mt.get(key) or [] if isinstance(e, dict)}


def _used(doc: dict[str, Any], key: str, names: Iterable[str]) -> list[str]:
    """The ops of @names some memory type reports (the run's --only)."""
    seen = {op for mt in doc["memory_types"] if isinstance(mt, dict)
            for op in _ops(mt, key)}
    return [n for n in names if n in seen]


def _whole_type(mt: dict[str, Any], width: int) -> list[Cell]:
    cell = Cell(f"n/a ({mt.get('cause')})", str(mt.get("reason") or ""), "skip")
    return [cell] * width


def _tables(doc: dict[str, Any]) -> tuple[PerfTable, PerfTable]:
    lat_ops = _used(doc, "latency", LATENCY_OPS)
    put_ops = _used(doc, "throughput", THROUGHPUT_OPS)
    lat = PerfTable(["touch floor"] + lat_ops)
    put = PerfTable(["memcpy floor", "touch floor"] + put_ops)
    for mt in doc["memory_types"]:
        if not isinstance(mt, dict):
            continue
        mem, size = str(mt.get("mem")), mt.get("page_size")
        if mt.get("status") != "measured":
            lat.rows.append(TypeRow(mem, size, _whole_type(mt, len(lat.columns))))
            put.rows.append(TypeRow(mem, size, _whole_type(mt, len(put.columns))))
            continue
        floors = mt.get("floors") or {}
        touch, memcpy = floors.get("touch") or {}, floors.get("memcpy") or {}
        lo, to = _ops(mt, "latency"), _ops(mt, "throughput")
        missing = Cell("–", "not selected", "skip")
        lat.rows.append(TypeRow(mem, size, [latency_cell(touch, ratio=False)] + [
            latency_cell(lo[o]) if o in lo else missing for o in lat_ops]))
        put.rows.append(TypeRow(mem, size, [
            throughput_cell(memcpy, ratios=False),
            throughput_cell(touch, ratios=False)] + [
            throughput_cell(to[o]) if o in to else missing for o in put_ops]))
    return lat, put


def _facts(doc: dict[str, Any], bench: dict[str, Any]) -> str:
    cfg, clock = doc.get("config") or {}, doc.get("clock") or {}
    cpus = cfg.get("cpus") or {}
    where = (f" (fault thread CPU {cpus['servicer']}, faulting CPU {cpus['vcpu']})"
             if "vcpu" in cpus and "servicer" in cpus else "")
    secs = doc.get("seconds")
    return (f"uffd-bench {doc.get('version')}, "
            f"{'quick, ' if cfg.get('quick') else ''}up to {cfg.get('repeats')} "
            f"repeats, placement {cfg.get('placement')}{where}, clock "
            f"{clock.get('source')} ({clock.get('step_ns')} ns steps)"
            + (f", {secs:.1f} s" if isinstance(secs, (int, float)) else ""))


def _entries(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Every entry of every memory type, floors included."""
    return [e for mt in doc["memory_types"] if isinstance(mt, dict)
            for e in list((mt.get("floors") or {}).values())
            + list(mt.get("latency") or []) + list(mt.get("throughput") or [])
            if isinstance(e, dict)]


def nothing_timed(doc: dict[str, Any]) -> bool:
    """The clock was too coarse for every entry the kernel could do."""
    entries = _entries(doc)
    return not any(e.get("status") == "measured" for e in entries) and \
        any(e.get("cause") == "coarse_clock" for e in entries)


def _notes(doc: dict[str, Any], bench: dict[str, Any]) -> list[str]:
    out = []
    entries = _entries(doc)
    clock = doc.get("clock") or {}
    if nothing_timed(doc):
        out.append(f"the clock ({clock.get('source')}, {clock.get('step_ns')} ns "
                   "steps) is too coarse to time a fault: nothing was timed "
                   "(coarse_clock)")
    elif any(e.get("cause") == "coarse_clock" for e in entries):
        out.append(f"some figures could not be timed with the clock "
                   f"({clock.get('source')}, {clock.get('step_ns')} ns steps): "
                   "n/a (coarse_clock)")
    note = (doc.get("huge_pages") or {}).get("note")
    if note:
        out.append(f"huge pages: {note}")
    if any(e.get("budget_cut") for e in entries):
        out.append("some measurements stopped repeating at the time budget "
                   "(fewer repeats: a wider spread)")
    return out


def perf_run(label: str, bench: dict[str, Any], info: dict[str, Any]) -> PerfRun:
    word, text = state(bench)
    doc = bench.get("document")
    pr = PerfRun(label=label, state=word, state_text=text,
                 relative_why=relative_why(info),
                 facts=_facts(doc, bench) if doc else "")
    for line in bench.get("kmsg_alerts") or []:
        pr.notes.append(f"kernel log alert while the benchmark ran: {line}")
    if doc:
        pr.notes += _notes(doc, bench)
        if not nothing_timed(doc):      # tables of n/a say nothing more
            pr.latency, pr.throughput = _tables(doc)
    return pr


def perf_view(runs: Iterable[Any]) -> list[PerfRun]:
    """The section, one entry per run that ran (or was to run) the
    benchmark, in column order; empty when none did."""
    return [perf_run(r.label, r.bench, r.info) for r in runs if r.bench]
