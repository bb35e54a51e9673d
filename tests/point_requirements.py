# SPDX-License-Identifier: GPL-2.0
"""Which test points must run here, from what uffd-probe reports.

Each rule names, for the points it matches (fnmatch patterns, comma
separated; "!pattern" excludes), what they need in the probe's
terms: a feature the kernel reports (F:NAME, api.feature_names), a
registration of the point's memory type it accepts (R:MODE, the register
entries; a mode that does not apply to the type counts as met, since the
point then checks the refusal), EVENT_FORK allowed for this process
(FORK), a creation path (A:path, the access entries), root (ROOT). Every
point with a memory type in its name also needs that type mapped (the
memory entries). A point whose needs all hold must run, not skip.

A few points need something the probe does not look at (transparent huge
pages, io_uring pins, a CPU feature): EXTRA names it and the only skip
reason such a point may give.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatch

F_WP = "F:PAGEFAULT_FLAG_WP"
FORK = ["F:EVENT_FORK", "FORK"]

# (point pattern, needs). Every matching rule applies.
RULES: list[tuple[str, list[str]]] = [
    ("copy.*", ["R:MISSING"]),
    ("copy.*.mode_wp", ["R:MISSING|WP"]),
    ("zeropage.*", ["R:MISSING"]),
    ("wake.*", ["R:MISSING"]),
    ("wp.*", [F_WP]),
    ("wp.*,!wp.*.unregistered_enoent", ["R:WP"]),
    ("wp.*.unpopulated_with_feature", ["F:WP_UNPOPULATED"]),
    ("wp.*.async_*", ["F:WP_ASYNC"]),
    ("wp.*.fork_*with_event", FORK),
    ("minor.*", ["R:MINOR"]),
    ("minor.*.with_missing", ["R:MISSING|MINOR"]),
    ("minor.*.continue_mode_wp", ["R:WP|MINOR"]),
    ("poison.*", ["R:MISSING"]),
    ("poison.*,!poison.*.register_mask", ["F:POISON"]),
    ("move.*", ["F:MOVE", "R:MISSING"]),
    ("move.*.cross_mm_einval", FORK),
    ("events.*", ["R:MISSING"]),
    ("events.*.fork", FORK),
    ("events.*.fork_wp", FORK + ["R:MISSING|WP"]),
    ("events.*.remap", ["F:EVENT_REMAP"]),
    ("events.*.remap_dontunmap", ["F:EVENT_REMAP"]),
    ("events.*.remove_*,!events.*.remove_without_feature", ["F:EVENT_REMOVE"]),
    ("events.*.unmap*", ["F:EVENT_UNMAP"]),
    ("eagain.*", ["R:MISSING"]),
    ("eagain.*,!eagain.*.copy_during_*", ["F:EVENT_REMOVE"]),
    ("eagain.*.continue", ["R:MINOR"]),
    ("eagain.*.poison", ["F:POISON"]),
    ("eagain.*.move", ["F:MOVE"]),
    ("eagain.*.writeprotect", ["R:MISSING|WP"]),
    ("eagain.*.copy_during_remap", ["F:EVENT_REMAP"]),
    ("eagain.*.copy_during_unmap", ["F:EVENT_UNMAP"]),
    ("eagain.*.copy_during_fork", FORK),
    ("sigbus.*", ["F:SIGBUS", "R:MISSING"]),
    ("sigbus.*.wp", ["R:MISSING|WP"]),
    ("sigbus.*.minor", ["R:MINOR"]),
    ("sigbus.*.fork_child_sigbus", FORK),
    ("threadid.*", ["R:MISSING"]),
    ("threadid.*.ptid*", ["F:THREAD_ID"]),
    ("threadid.*.*exact_address*", ["F:EXACT_ADDRESS"]),
    ("threadid.*.*_wp", ["R:MISSING|WP"]),
    ("threadid.*.exact_address_minor", ["R:MINOR"]),
    ("stress.*.missing_*", ["R:MISSING"]),
    ("stress.*.wp_*", ["R:WP"]),
    ("stress.*.minor_*", ["R:MINOR"]),
    ("register.*", ["R:MISSING"]),
    ("api.syscall.*", ["A:syscall"]),
    ("api.user_mode_only.*", ["A:syscall-user-mode-only"]),
    ("api.dev.*", ["A:dev-userfaultfd"]),
    ("api.*.api_twice_keeps_features", ["F:THREAD_ID"]),
    ("api.*.features_as_requested", ["F:THREAD_ID"]),
    ("errnos.*", []),
    ("errnos.wp_*", [F_WP]),
    ("errnos.copy_mode_wp_*", [F_WP]),
    ("errnos.continue_*", ["F:MINOR_SHMEM"]),
    ("errnos.poison_*", ["F:POISON"]),
    ("errnos.move_*", ["F:MOVE"]),
    ("errnos.register_*maywrite*", ["F:MISSING_SHMEM"]),
    ("access.*", ["ROOT"]),
    ("access.event_fork_*", ["F:EVENT_FORK"]),
    ("seccomp.*,seccomp_off.*", ["ROOT"]),
    ("bugs.*", ["ROOT"]),
]

THP = "transparent huge page|THP|AnonHugePages|hpage_pmd_size"


@dataclass(frozen=True)
class Extra:
    """A need beyond the probe: what, and the skip reasons it allows."""
    what: str
    reason: str


EXTRA: list[tuple[str, Extra]] = [
    ("move.anon.pmd*", Extra("transparent huge pages for anon memory", THP)),
    ("minor.shmem*.collapse", Extra("MADV_COLLAPSE of shmem",
                                    "MADV_COLLAPSE|transparent huge pages")),
    ("wp.*.fork_pinned_*", Extra("io_uring to pin pages", "io_uring")),
    ("move.anon.pinned_ebusy", Extra("io_uring to pin pages", "io_uring")),
    ("move.anon.zero_copy", Extra("page frame numbers in pagemap",
                                  "page frame numbers")),
    ("bugs.anon_pagemap_scan_pmd_hole.check",
     Extra("transparent huge pages", THP)),
    ("bugs.anon_register_droppable.check",
     Extra("MAP_DROPPABLE", "droppable")),
    ("bugs.shadow_stack_register.check",
     Extra("user shadow stacks (CPU and kernel)", "shadow stack")),
    ("seccomp.*,seccomp_off.*", Extra("the node's mode and nobody's view",
                        "/dev/userfaultfd|nobody")),
]


def matches(point: str, spec: str) -> bool:
    """@point matches a pattern of @spec and none of its !patterns."""
    pats = spec.split(",")
    return (any(fnmatch(point, p) for p in pats if not p.startswith("!")) and
            not any(fnmatch(point, p[1:]) for p in pats if p.startswith("!")))


class Probe:
    """The facts of one `uffd-probe --json` document the rules test."""

    def __init__(self, doc: dict) -> None:
        self.features = set(doc["api"].get("feature_names") or [])
        self.known_features = {f["name"] for f in doc["domain"]["features"]}
        self.mem_types = [m["name"] for m in doc["domain"]["memory_types"]]
        self.memory = {m["mem"]: m["status"] == "yes" for m in doc["memory"]}
        self.register = {(r["mem"], r["mode"]): r for r in doc["register"]}
        self.access = {a["path"]: a["status"] == "yes" for a in doc["access"]}
        self.fork = doc["api"].get("event_fork_allowed", {}).get("status") == "yes"
        self.root = doc["process"]["euid"] == 0

    def mem_of(self, point: str) -> str | None:
        parts = point.split(".")
        return parts[1] if len(parts) == 3 and parts[1] in self.mem_types else None

    def holds(self, need: str, mem: str | None) -> bool:
        kind, _, arg = need.partition(":")
        if kind == "F":
            if arg not in self.known_features:
                raise ValueError(f"rule names unknown feature {arg}")
            return arg in self.features
        if kind == "R":
            if mem is None:
                raise ValueError(f"{need} on a point without a memory type")
            entry = self.register.get((mem, arg))
            if entry is None:
                raise ValueError(f"probe has no register entry {mem} {arg}")
            return entry["status"] == "yes" or entry["cause"] == "not_applicable"
        if kind == "A":
            return self.access.get(arg, False)
        if need == "FORK":
            return self.fork
        if need == "ROOT":
            return self.root
        raise ValueError(f"unknown need {need}")

    def needs(self, point: str) -> list[str]:
        rules = [needs for spec, needs in RULES if matches(point, spec)]
        if not rules:
            raise ValueError(f"no rule says what {point} needs")
        return [n for needs in rules for n in needs]

    def must_run(self, point: str) -> bool:
        """Every need of @point holds here (EXTRA needs aside)."""
        mem = self.mem_of(point)
        if mem is not None and not self.memory.get(mem, False):
            return False
        return all(self.holds(n, mem) for n in self.needs(point))


def extra_need(point: str) -> Extra | None:
    return next((e for spec, e in EXTRA if matches(point, spec)), None)


# Skips for want of huge pages are load (other runs hold the pool).
POOL = re.compile(r"huge page|hugetlb pages", re.I)


def bad_skip(probe: Probe, point: str, reason: str) -> str | None:
    """Why a skip of @point with @reason is wrong here, or None."""
    if not probe.must_run(point):
        return None
    extra = extra_need(point)
    if extra and re.search(extra.reason, reason, re.I):
        return None
    what = f" (beyond the probe it needs {extra.what})" if extra else ""
    return (f"{point}: the probe reports all it needs "
            f"({', '.join(probe.needs(point))}){what}, yet it skipped: {reason}")
