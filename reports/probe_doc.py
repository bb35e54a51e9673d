# SPDX-License-Identifier: GPL-2.0
"""Reading uffd-probe's JSON document (a run's `probe`): the facts reports
compare, and the names and order of features and memory types.

No list of userfaultfd names lives in Python: they come from each probe
document, from its `domain` table (features in bit order, memory types in
table order) when it has one, else from what its answers imply (the set
bits of `api.features` with `api.feature_names`, the `memory` and
`register` rows).
"""
from __future__ import annotations

from typing import Any, Iterable

Probe = dict[str, Any] | None
MASK_BITS = 64


def no_userfaultfd(probe: Probe) -> bool:
    """The probe tried every creation path (syscall, user-mode-only,
    /dev/userfaultfd) and none gave a userfaultfd: nothing that needs one
    can run there (kernel without it, seccomp, permissions). False when
    the probe did not say (no document, an unknown answer)."""
    access = (probe or {}).get("access")
    return isinstance(access, list) and bool(access) and all(
        isinstance(a, dict) and a.get("status") == "no" for a in access)


def feature_mask(api: dict[str, Any]) -> int | None:
    """UFFDIO_API's features as an int (the probe writes an int, older
    documents a string), or None."""
    feats = api.get("features")
    if isinstance(feats, str):
        feats = int(feats, 0)
    if feats is None and api.get("features_hex"):
        feats = int(str(api["features_hex"]), 16)
    return feats if isinstance(feats, int) else None


def feature_bits(probe: Probe) -> dict[str, int | None]:
    """Every feature name this document knows -> its bit (None: unknown)."""
    out: dict[str, int | None] = {}
    domain = (probe or {}).get("domain") or {}
    for f in domain.get("features") or []:
        if isinstance(f, dict) and f.get("name"):
            out[str(f["name"])] = f["bit"] if isinstance(f.get("bit"), int) else None
    api = (probe or {}).get("api") or {}
    names = [str(n) for n in api.get("feature_names") or []]
    unknown = [b for b in api.get("unknown_feature_bits") or [] if isinstance(b, int)]
    mask = feature_mask(api) or 0
    # feature_names lists the set, known bits in bit order.
    bits = [b for b in range(MASK_BITS) if mask >> b & 1 and b not in unknown]
    pairs = zip(names, bits) if len(bits) == len(names) else ((n, None) for n in names)
    for name, bit in pairs:
        if out.get(name) is None:
            out[name] = bit
    for bit in unknown:
        out.setdefault(f"unknown bit {bit}", bit)
    return out


def feature_order(probes: Iterable[Probe]) -> list[str]:
    """The union of the documents' feature names, in bit order (names
    whose bit no document tells come last, as first seen)."""
    bits: dict[str, int | None] = {}
    for probe in probes:
        for name, bit in feature_bits(probe).items():
            if bits.get(name) is None:
                bits[name] = bit
    return sorted(bits, key=lambda n: (bits[n] is None, bits[n] or 0))


def memory_types(probe: Probe) -> list[str]:
    """The memory types this document names, in its order."""
    doc = probe or {}
    rows = [m.get("name") for m in (doc.get("domain") or {}).get("memory_types") or []
            if isinstance(m, dict)]
    for key in ("memory", "register"):
        rows += [m.get("mem") for m in doc.get(key) or [] if isinstance(m, dict)]
    return list(dict.fromkeys(str(r) for r in rows if r))


OK_WORDS = frozenset({"ok", "supported", "yes", "available", "pass", "works"})


def _is_ok(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).lower() in OK_WORDS


def features_summary(probe: Probe) -> dict[str, Any]:
    """The facts diff and the feature matrix compare, from the probe JSON.

    Tolerant of missing keys: anything absent is None / empty.
    """
    api = (probe or {}).get("api") or {}
    feats = feature_mask(api)
    names = list(api.get("feature_names") or [])
    unknown = list(api.get("unknown_feature_bits") or [])
    names += [f"unknown bit {b}" for b in unknown if f"unknown bit {b}" not in names]
    modes: dict[str, list[str]] = {}
    range_ioctls: dict[str, list[str]] = {}
    for reg in (probe or {}).get("register") or []:
        if not isinstance(reg, dict) or not _is_ok(reg.get("status")):
            continue
        mem = str(reg.get("mem", "?"))
        modes.setdefault(mem, []).append(str(reg.get("mode", "?")))
        have = range_ioctls.setdefault(mem, [])
        have += [str(n) for n in reg.get("ioctl_names") or [] if str(n) not in have]
    access = {str(a.get("path")): str(a.get("status"))
              for a in (probe or {}).get("access") or [] if isinstance(a, dict)}
    return {"features": feats, "feature_names": names,
            "ioctl_names": list(api.get("ioctl_names") or []),
            "register_modes": modes, "range_ioctls": range_ioctls,
            "access": access}
