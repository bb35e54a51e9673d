# SPDX-License-Identifier: GPL-2.0
"""Feature and memory-type names and order come from the probe documents,
never from a list in Python."""
from __future__ import annotations

import json
from typing import Any

from reports_util import DATA

from reports.document import build_matrix
from reports.model import Run
from reports.probe_doc import feature_bits, feature_order, memory_types


def probe(name: str) -> dict[str, Any]:
    return json.loads((DATA / f"probe-{name}.json").read_text())


def with_domain(doc: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """The document plus a `domain` table: the 6.18 host's features (read
    back from its own answer) and a made-up unset bit."""
    host = feature_bits(probe("6.18"))
    feats = [{"bit": b, "name": n, "since": "?", "config": None, "enables": ""}
             for n, b in host.items()] + [extra]
    mems = [{"name": m, "hugetlb": False, "shared": False, "file": False}
            for m in ("guest_memfd", "anon")]
    return {**doc, "domain": {"features": feats, "ioctls": [], "register_modes": [],
                              "memory_types": mems}}


def test_bits_follow_the_mask_when_there_is_no_domain_table() -> None:
    bits = feature_bits(probe("6.1"))
    assert list(bits.values()) == list(range(13))
    assert bits["EXACT_ADDRESS"] == 11 and "MOVE" not in bits
    doc = probe("6.18")
    doc["api"]["features"] |= 1 << 20
    doc["api"]["unknown_feature_bits"] = [20]
    assert feature_order([doc])[-2:] == ["MOVE", "unknown bit 20"]


def test_union_of_runs_in_bit_order() -> None:
    old, new = probe("6.1"), probe("6.18")
    assert feature_order([old, new]) == list(feature_bits(new))
    assert feature_order([old, None]) == list(feature_bits(old))
    assert feature_order([None]) == []


def test_domain_table_names_features_a_kernel_lacks() -> None:
    made_up = {"bit": 40, "name": "MADE_UP", "since": "9.9", "config": None,
               "enables": ""}
    old = with_domain(probe("6.1"), made_up)
    order = feature_order([old])
    assert order[13:] == ["WP_UNPOPULATED", "POISON", "WP_ASYNC", "MOVE", "MADE_UP"]
    run = Run(probe=old, kernel={"release": "6.1.0"})
    m = build_matrix([run])
    assert m.features == order and m.has_feature["MOVE"] == [False]
    assert m.has_feature["MADE_UP"] == [False] and m.has_feature["SIGBUS"] == [True]


def test_memory_types_from_the_document() -> None:
    assert memory_types(probe("6.1")) == ["anon", "shmem", "shmem_private",
                                           "hugetlb", "hugetlb_private"]
    doc = with_domain(probe("6.1"), {"bit": 40, "name": "X"})
    assert memory_types(doc)[:3] == ["guest_memfd", "anon", "shmem"]
    assert memory_types(None) == []
