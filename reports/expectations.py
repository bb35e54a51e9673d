# SPDX-License-Identifier: GPL-2.0
"""Expectations: known kernel behaviour per kernel range, as xfail.

File format (YAML, see reports/README.md):

    expectations:
      - id: "errno.*.unregister_foreign"   # fnmatch pattern over point ids
        kernel: ">=5.11, <6.17"            # release range; omit for all
        target: "debian:*"                 # optional fnmatch over the spec
        arch: "arm64"                      # optional: uname -m of the kernel's
                                           # machine (fnmatch), Debian names too
        reason: "UNREGISTER through a foreign uffd succeeds before 6.17"
        link: "https://lore.kernel.org/..."

A matching point that fails or times out becomes xfail (with reason and
link); a matching point that passes becomes xpass. Skips are left alone.
"""
from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .model import Run

_OPS = (">=", "<=", "==", "!=", ">", "<")
_VER_RE = re.compile(r"^(\d+)(?:\.(\d+))?(?:\.(\d+))?")
# One comparison of a kernel range: ">=6.1", "<6.17", "==5.10.0".
_CLAUSE_RE = re.compile(r"(?:[<>]=?|==|!=)?\s*\d+(?:\.\d+){0,2}")


class ExpectationError(ValueError):
    """A malformed expectations file (usage error, exit 2)."""


def version_tuple(release: str) -> tuple[int, int, int]:
    """'6.1.0-28-cloud-amd64' -> (6, 1, 0); unknown -> (0, 0, 0)."""
    m = _VER_RE.match(release.strip())
    if not m:
        return (0, 0, 0)
    return (int(m.group(1)), int(m.group(2) or 0), int(m.group(3) or 0))


def in_range(release: str, spec: str | None) -> bool:
    """True if the release satisfies every comma-separated clause."""
    if not spec:
        return True
    have = version_tuple(release)
    for clause in str(spec).split(","):
        clause = clause.strip()
        if not clause:
            continue
        op = next((o for o in _OPS if clause.startswith(o)), "==")
        want = version_tuple(clause[len(op):] if clause.startswith(op) else clause)
        ok = {">=": have >= want, "<=": have <= want, "==": have == want,
              "!=": have != want, ">": have > want, "<": have < want}[op]
        if not ok:
            return False
    return True


# Debian architecture names -> the `uname -m` the stream reports.
ARCH_ALIASES = {"amd64": "x86_64", "arm64": "aarch64", "i386": "i686"}


def arch_matches(machine: str | None, pattern: str) -> bool:
    """True if the kernel's machine (uname -m) fits @pattern; an unknown
    machine fits no architecture-scoped entry."""
    return bool(machine) and fnmatch.fnmatchcase(
        str(machine), ARCH_ALIASES.get(pattern, pattern))


@dataclass
class Expectation:
    id: str
    reason: str
    kernel: str | None = None
    target: str | None = None
    link: str | None = None
    source: str | None = None
    arch: str | None = None

    def matches(self, run: Run, point_id: str) -> bool:
        if not fnmatch.fnmatchcase(point_id, self.id):
            return False
        if self.target and not fnmatch.fnmatchcase(run.target, self.target):
            return False
        if self.arch and not arch_matches(run.kernel.get("machine"), self.arch):
            return False
        return in_range(run.release, self.kernel)

    def as_dict(self) -> dict[str, Any]:
        d = {"id": self.id, "reason": self.reason, "kernel": self.kernel,
             "link": self.link, "source": self.source}
        if self.arch:
            d["arch"] = self.arch
        return d


# An entry's keys and the YAML types each may have (kernel: 6.1 is a float
# to YAML, and means ">=6.1" no more than "6.1" does: read as text).
FIELDS: dict[str, tuple[type, ...]] = {
    "id": (str,), "reason": (str,), "kernel": (str, int, float),
    "target": (str,), "arch": (str,), "link": (str,)}
REQUIRED = ("id", "reason")


def _read_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    """The document and its node tree (for line numbers)."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise ExpectationError(f"{path}: {e.strerror or e}") from e
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        raise ExpectationError(f"{path}:{line}: not UTF-8 text (byte "
                               f"0x{raw[e.start]:02x})") from e
    try:
        return yaml.safe_load(text), yaml.compose(text)
    except yaml.YAMLError as e:
        raise ExpectationError(f"{path}: {e}") from e


def _line(node: yaml.Node | None, key: str | None = None) -> int | None:
    """1-based line of @node, or of its mapping value under @key."""
    if isinstance(node, yaml.MappingNode) and key is not None:
        for k, v in node.value:
            if getattr(k, "value", None) == key:
                return v.start_mark.line + 1
    return node.start_mark.line + 1 if node is not None else None


def _entry_nodes(root: yaml.Node | None) -> list[yaml.Node | None]:
    """The node of each entry, as the document's list has them."""
    seq = root
    if isinstance(root, yaml.MappingNode):
        seq = next((v for k, v in root.value
                    if getattr(k, "value", None) == "expectations"), None)
    return list(seq.value) if isinstance(seq, yaml.SequenceNode) else []


def _check_entry(path: Path, i: int, it: Any, node: yaml.Node | None) -> None:
    """Types and keys of entry @i, before any run: ExpectationError at its
    file:line otherwise."""
    def fail(msg: str, key: str | None = None) -> ExpectationError:
        line = _line(node, key)
        return ExpectationError(f"{path}:{line}: entry {i}: {msg}" if line
                                else f"{path}: entry {i}: {msg}")
    if not isinstance(it, dict):
        raise fail("must be a mapping with 'id' and 'reason'")
    for key in REQUIRED:
        if not it.get(key):
            raise fail("needs 'id' and 'reason'")
    for key, val in it.items():
        if key not in FIELDS:
            raise fail(f"unknown key {key!r} (known: {', '.join(FIELDS)})", key)
        if val is not None and not isinstance(val, FIELDS[key]) or \
                isinstance(val, bool):
            raise fail(f"{key!r} must be text, not {type(val).__name__} "
                       f"{val!r}", key)
    kernel = it.get("kernel")
    if kernel is not None:
        for clause in str(kernel).split(","):
            if clause.strip() and not _CLAUSE_RE.fullmatch(clause.strip()):
                raise fail(f"bad kernel range {kernel!r}", "kernel")
    arch = it.get("arch")
    if arch is not None and not str(arch).strip():
        raise fail("'arch' must be a machine name such as aarch64, riscv64 "
                   "or arm64", "arch")


def load(path: Path) -> list[Expectation]:
    """Load one file, or every *.yaml in a directory. Every entry is checked
    (keys, types, ranges) before anything runs: ExpectationError names the
    file and line."""
    if path.is_dir():
        out: list[Expectation] = []
        for f in sorted(path.glob("*.yaml")) + sorted(path.glob("*.yml")):
            out += load(f)
        return out
    data, root = _read_yaml(path)
    data = data or {}
    items = data.get("expectations", []) if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise ExpectationError(f"{path}: 'expectations' must be a list")
    nodes = _entry_nodes(root)
    out = []
    for i, it in enumerate(items):
        _check_entry(path, i, it, nodes[i] if i < len(nodes) else None)
        kernel = it.get("kernel")
        out.append(Expectation(id=str(it["id"]), reason=str(it["reason"]),
                               kernel=str(kernel) if kernel is not None else None,
                               target=it.get("target"), link=it.get("link"),
                               source=Path(path).name, arch=it.get("arch")))
    return out


def apply(run: Run, expectations: list[Expectation]) -> int:
    """Mark matching points xfail/xpass; returns how many were changed."""
    changed = 0
    for p in run.points:
        exp = next((e for e in expectations if e.matches(run, p.id)), None)
        if exp is None:
            continue
        if p.status in ("fail", "timeout"):
            p.diagnostics = p.diagnostics + [f"was {p.status}: {p.reason}"]
            p.status, p.reason = "xfail", exp.reason
        elif p.status == "pass":
            p.status, p.reason = "xpass", f"expected to fail: {exp.reason}"
        else:
            continue
        p.expectation = exp.as_dict()
        changed += 1
    return changed


def unused(runs: list[Run], expectations: list[Expectation]) -> list[Expectation]:
    """Entries whose id pattern names no point of any run: most likely a
    typo or a renamed case, which would otherwise silently mark nothing."""
    ids = {p.id for r in runs for p in r.points}
    return [e for e in expectations
            if not any(fnmatch.fnmatchcase(i, e.id) for i in ids)]
