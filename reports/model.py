# SPDX-License-Identifier: GPL-2.0
"""The result model: a run (one kernel) -> binaries -> test points.

Everything here is plain data with to_dict()/from_dict() so that report.json
round-trips: merge and diff work on report files, not on streams.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Collection, Iterable

from . import perf
from .probe_doc import features_summary
from .probe_doc import memory_types as probe_memory_types

# Point statuses. FAILING ones make the run (and ./run.py) fail.
STATUSES = ("pass", "fail", "skip", "xfail", "xpass", "timeout", "error", "notrun")
FAILING = frozenset({"fail", "timeout", "error", "notrun"})
# Severity, worst first: a group of points is coloured by its worst.
WORST_FIRST = ("error", "timeout", "fail", "notrun", "xpass", "xfail", "skip", "pass")


def worst(statuses: Iterable[str]) -> str:
    """The worst of some statuses ("" for none)."""
    seen = set(statuses)
    return next((s for s in WORST_FIRST if s in seen), "")

# Stream states of a run (see reports/SCHEMA.md).
#   complete: run-end seen; truncated: frames but no run-end;
#   empty: no bytes at all; garbage: bytes but no stream header;
#   error: the target could not produce a stream (e.g. kernel never booted).
UNUSABLE_STREAM = frozenset({"empty", "garbage", "error"})


@dataclass
class Point:
    """One TAP test point, e.g. copy.anon.eexist."""
    id: str
    status: str
    number: int | None = None
    reason: str | None = None
    duration_ms: int | None = None
    diagnostics: list[str] = field(default_factory=list)
    expectation: dict[str, Any] | None = None
    # a `<binary>.kernel_log` point: the points running when its alerts
    # were logged (kernel_log.py)
    during: list[str] = field(default_factory=list)

    @property
    def area(self) -> str:
        return self.id.split(".", 1)[0]

    @property
    def variant(self) -> str | None:
        """The middle part of <area>.<variant>.<case>: a memory type for
        most areas, a creation path (api), a privilege setting (access),
        an errno table row (errnos)."""
        parts = self.id.split(".")
        return parts[1] if len(parts) >= 3 else None

    @property
    def case(self) -> str:
        parts = self.id.split(".")
        return parts[-1] if len(parts) >= 2 else self.id

    def to_dict(self, memory_types: Collection[str] = ()) -> dict[str, Any]:
        d = asdict(self)
        mem = self.variant if self.variant in memory_types else None
        d.update(area=self.area, variant=self.variant, mem=mem, case=self.case)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Point":
        return cls(id=d["id"], status=d["status"], number=d.get("number"),
                   reason=d.get("reason"), duration_ms=d.get("duration_ms"),
                   diagnostics=list(d.get("diagnostics") or []),
                   expectation=d.get("expectation"),
                   during=list(d.get("during") or []))


@dataclass
class Binary:
    """One case binary's execution, as framed by the runner."""
    name: str
    path: str | None = None
    exit: int | None = None
    signal: int | None = None
    timed_out: bool = False
    duration_ms: int | None = None
    kmsg_alert: bool = False
    kmsg: list[dict[str, Any]] = field(default_factory=list)
    plan: int | None = None
    error: str | None = None
    interrupted: int | None = None
    complete: bool = True
    # bytes of its output the report left out (payload.py; the saved
    # stream has them)
    dropped: int = 0
    diagnostics: list[str] = field(default_factory=list)
    points: list[Point] = field(default_factory=list)

    def to_dict(self, memory_types: Collection[str] = ()) -> dict[str, Any]:
        d = asdict(self)
        d["points"] = [p.to_dict(memory_types) for p in self.points]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Binary":
        fields = {k: d.get(k) for k in ("path", "exit", "signal", "duration_ms",
                                        "plan", "error", "interrupted")}
        return cls(name=d["name"], timed_out=bool(d.get("timed_out")),
                   kmsg_alert=bool(d.get("kmsg_alert")),
                   kmsg=list(d.get("kmsg") or []),
                   complete=bool(d.get("complete", True)),
                   dropped=int(d.get("dropped") or 0),
                   diagnostics=list(d.get("diagnostics") or []),
                   points=[Point.from_dict(p) for p in d.get("points") or []],
                   **fields)


@dataclass
class Run:
    """One kernel's run: the stream's header facts, probe result, binaries."""
    target: str = "host"
    kernel: dict[str, Any] = field(default_factory=dict)
    started: str | None = None
    faultline_version: str | None = None
    cmdline: str | None = None
    nr_hugepages: int | None = None
    duration_ms: int | None = None
    stream_state: str = "complete"
    cause: str | None = None
    console: list[str] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    header: dict[str, Any] = field(default_factory=dict)
    # "probe" in reports/ always means uffd-probe's JSON document (probe_doc.py
    # reads it) or, with _exit/_stderr, how that program ended.
    probe: dict[str, Any] | None = None
    probe_exit: int | None = None
    probe_stderr: str | None = None
    binaries: list[Binary] = field(default_factory=list)
    # the benchmark's section (--bench), perf.bench_result(); None: no
    # benchmark was asked for
    bench: dict[str, Any] | None = None
    # set by document.disambiguate() when two columns would look alike
    column: str = field(default="", compare=False)

    @property
    def points(self) -> list[Point]:
        return [p for b in self.binaries for p in b.points]

    @property
    def release(self) -> str:
        return str(self.kernel.get("release") or "unknown")

    @property
    def label(self) -> str:
        """Column label: the kernel release, plus the spec when not host."""
        tag = f" {self.column}" if self.column else ""
        if not self.kernel.get("release"):
            return self.target + tag
        if self.target in ("host", "", None):
            return self.release + tag
        return f"{self.release} ({self.target}){tag}"

    def findings(self) -> list[dict[str, Any]]:
        """`# finding: ...` lines (kernel behaviour the cases report rather
        than fail on), deduplicated, with the points that printed them."""
        seen: dict[str, list[str]] = {}
        for b in self.binaries:
            for where, diags in [(b.name, b.diagnostics)] + [
                    (p.id, p.diagnostics) for p in b.points]:
                for d in diags:
                    text = d.lstrip("#").strip()
                    if text.startswith("finding:"):
                        text = text[len("finding:"):].strip()
                        ids = seen.setdefault(text, [])
                        if where not in ids:
                            ids.append(where)
        rsvd = self._rsvd_finding()
        if rsvd:
            seen.setdefault(rsvd, []).append("run")
        return [{"text": t, "points": ids} for t, ids in seen.items()]

    def _rsvd_finding(self) -> str | None:
        """The kernel's huge page reservations must balance over a run."""
        before = self.header.get("hugepages_rsvd_before")
        after = self.header.get("hugepages_rsvd_after")
        if not isinstance(before, int) or not isinstance(after, int):
            return None
        if before < 0 or after == before:
            return None     # already off before we started: not ours to say
        why = ("the kernel's reservation counter underflowed" if after < 0
               else "reservations outlived every mapping")
        return (f"HugePages_Rsvd was {before} before the run and {after} "
                f"once every case binary had exited ({why})")

    def info_brief(self) -> str:
        """The orchestrator's info a reader needs (all of it is in JSON)."""
        keys = ("package", "version", "qemu_version", "qemu", "accel",
                "attempts", "boot_seconds", "boot_s")
        return ", ".join(f"{k}={self.info[k]}" for k in keys
                         if self.info.get(k) not in (None, ""))

    def notes(self) -> list[str]:
        """Facts from the run frame that change how to read the results."""
        h, out = self.header, []
        if h.get("kmsg") is False:
            out.append("kernel log not monitored ("
                       f"{h.get('kmsg_error') or 'not readable'}): splats "
                       "during the run would go unnoticed")
        if h.get("uid") not in (None, 0):
            out.append(f"ran as uid {h['uid']} (not root)")
        tries = self.info.get("attempts")
        if isinstance(tries, int) and tries > 1:
            why = [str(a.get("error")) for a in self.info.get("attempt_log") or []
                   if isinstance(a, dict) and a.get("error")]
            out.append(f"booted on attempt {tries}"
                       + (f" (earlier: {'; '.join(why)})" if why else ""))
        cut = [b.name for b in self.binaries if b.dropped]
        if cut:
            out.append(f"output too long, partly left out of the report: "
                       f"{', '.join(cut)} (the saved stream has all of it)")
        if self.info.get("config_error"):
            out.append(f"kernel config not available ({self.info['config_error']}):"
                       " the probe's config section is empty")
        if h.get("setup_error"):
            out.append(f"target setup: {h['setup_error']}")
        if self.probe is None and self.stream_state == "complete":
            out.append("no probe result"
                       + (f" (exit {self.probe_exit})" if self.probe_exit else "")
                       + (f": {self.probe_stderr}" if self.probe_stderr else ""))
        return out

    def counts(self) -> dict[str, int]:
        c = {s: 0 for s in STATUSES}
        for p in self.points:
            c[p.status] = c.get(p.status, 0) + 1
        return c

    def failed(self) -> bool:
        """True when this run should make CI red (exit 1)."""
        if self.stream_state != "complete":
            return True
        return any(p.status in FAILING for p in self.points)

    def unusable(self) -> bool:
        """True when no result could be obtained at all (exit 2)."""
        return self.stream_state in UNUSABLE_STREAM

    def to_dict(self, memory_types: Collection[str] | None = None) -> dict[str, Any]:
        """The run as report.json holds it. A point's `mem` is its variant
        when that is one of `memory_types` (default: the ones this run's
        probe names)."""
        if memory_types is None:
            memory_types = probe_memory_types(self.probe)
        d = asdict(self)
        del d["column"]
        if self.bench is None:
            del d["bench"]      # absent, not null: older readers, goldens
        else:
            d["performance"] = perf.summary(self.bench, self.info)
        d["binaries"] = [b.to_dict(memory_types) for b in self.binaries]
        d["counts"] = self.counts()
        d["features"] = features_summary(self.probe)
        d["notes"] = self.notes()
        d["findings"] = self.findings()
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Run":
        keys = ("target", "started", "faultline_version", "cmdline",
                "nr_hugepages", "duration_ms", "cause", "probe", "probe_exit",
                "probe_stderr")
        kw = {k: d.get(k) for k in keys}
        kw["target"] = kw["target"] or "host"
        return cls(kernel=dict(d.get("kernel") or {}),
                   stream_state=d.get("stream_state") or "complete",
                   console=list(d.get("console") or []),
                   info=dict(d.get("info") or {}),
                   header=dict(d.get("header") or {}),
                   binaries=[Binary.from_dict(b) for b in d.get("binaries") or []],
                   bench=d.get("bench") if isinstance(d.get("bench"), dict) else None,
                   **kw)
