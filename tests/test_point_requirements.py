# SPDX-License-Identifier: GPL-2.0
"""The must-run rules (point_requirements.py) against recorded probes:
every point of every case binary has a rule, and what must run follows
what the probe reports, not the kernel's version."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from ksft import listed_points
from point_requirements import Probe, bad_skip
from reports_util import DATA


@pytest.fixture(scope="module")
def domain(build_dir: Path) -> dict:
    """The domain table of this build (recorded probes predate it)."""
    proc = subprocess.run([str(build_dir / "uffd-probe"), "--json"],
                          capture_output=True, text=True, timeout=60)
    return json.loads(proc.stdout)["domain"]


@pytest.fixture(scope="module")
def probe_of(domain: dict):
    def load(name: str) -> Probe:
        doc = json.loads((DATA / name).read_text())
        doc.setdefault("domain", domain)
        return Probe(doc)
    return load


@pytest.fixture(scope="module")
def points(cases_dir: Path) -> list[str]:
    return [p for b in sorted(cases_dir.iterdir()) for p in listed_points(b)]


def test_every_point_has_a_rule(probe_of, points: list[str]) -> None:
    probe = probe_of("probe-6.18.json")
    for p in points:
        probe.needs(p)          # raises for a point no rule covers
    assert all(probe.must_run(p) for p in points if not p.startswith("bugs."))


def test_a_kernel_without_a_feature_lets_its_points_skip(probe_of,
                                                        points: list[str]) -> None:
    new, old = probe_of("probe-6.18.json"), probe_of("probe-6.1.json")
    skip = "kernel does not report UFFD_FEATURE_MOVE"
    assert bad_skip(new, "move.anon.pages", skip)
    assert bad_skip(old, "move.anon.pages", skip) is None
    assert bad_skip(old, "poison.shmem.sigbus_neighbours", "x") is None
    # A point that only checks a refusal needs nothing the kernel lacks.
    assert old.must_run("poison.anon.register_mask")
    assert old.must_run("minor.anon.continue_partial")
    assert not old.must_run("wp.anon.async_rearm")
    assert sum(old.must_run(p) for p in points) < len(points)


def test_needs_beyond_the_probe_allow_only_their_own_reason(probe_of) -> None:
    probe = probe_of("probe-6.18.json")
    assert bad_skip(probe, "bugs.shadow_stack_register.check",
                    "map_shadow_stack: ENOSYS (no user shadow stack here)") is None
    assert bad_skip(probe, "bugs.shadow_stack_register.check", "anything else")
    assert bad_skip(probe, "move.anon.pmd",
                    "THP disabled: enabled is [never]") is None
    assert bad_skip(probe, "move.anon.pages", "THP disabled")
