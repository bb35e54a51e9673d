# SPDX-License-Identifier: GPL-2.0
"""LKFT skipfiles: read them (`load_skipfile`), skip what they name before a
run (`run.py --skipfile`: `skip_plan`, `add_skipped`), write the
expectations as one (`skipfile_yaml`, `run.py report skipfile`).

The format is LKFT's (Linaro test-definitions,
automated/linux/kselftest/skipfile-lkft.yaml, read by Linaro's skipgen):

    skiplist:
      - reason: "why"             # text, may be empty
        url: https://...          # one link, may be empty
        environments: production  # a name, a list of names, or all
        boards: all               # likewise
        branches:                 # likewise
          - "6.1"
        tests:                    # a name or a list of names
          - wp.hugetlb_private.fork_without_event

skipgen's rule: an entry applies when each of environments, boards and
branches is `all`, contains `all`, or contains the asked-for value (an
unspecified value is `all`). faultline reads a test name as an fnmatch
pattern over point ids that also covers the points below it (`copy` is
every copy.* point, `copy.*.eexist` one behaviour on every memory type);
`faultline:NAME` (a kselftest collection entry) is NAME, another
collection's entries name no point. A board is the kernel's `uname -m`
(Debian names such as arm64 accepted), a branch the release's X.Y.

Two optional keys, which skipgen ignores, carry what an expectation says
more precisely than a list of branches: `kernel` (a release range, as in
expectations) and `target` (an fnmatch over the kernel spec). Any other key
is an error, so a misspelt one is not silently ignored.
"""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .expectations import _CLAUSE_RE as RANGE_CLAUSE_RE
from .expectations import (ARCH_ALIASES, Expectation, arch_matches, in_range,
                           version_tuple)
from .model import Binary, Point, Run

CONDITIONS = ("environments", "boards", "branches")
EXTRAS = ("kernel", "target")
KEYS = ("reason", "url", *CONDITIONS, "tests", *EXTRAS)
COLLECTION = "faultline"


class SkipfileError(ValueError):
    """A skipfile that cannot be used: `file:line: what` (exit 2)."""


@dataclass(frozen=True)
class SkipEnvironment:
    """What a run is, in skipfile terms. None leaves that condition out
    (skipgen's `all`)."""
    environment: str | None = None
    board: str | None = None          # uname -m of the kernel's machine
    branch: str | None = None         # the release's X.Y
    release: str | None = None        # for `kernel` ranges
    target: str | None = None         # the kernel spec, for `target`

    @classmethod
    def for_kernel(cls, release: str | None, machine: str | None = None,
                   target: str | None = None,
                   environment: str | None = None) -> "SkipEnvironment":
        branch = None
        if release:
            major, minor, _ = version_tuple(release)
            branch = f"{major}.{minor}" if major else None
        return cls(environment, machine, branch, release, target)


def _names_match(wanted: str | None, names: tuple[str, ...],
                 board: bool = False) -> bool:
    if wanted in (None, "all") or "all" in names:
        return True
    if board:       # uname -m or Debian's name, on either side
        machine = ARCH_ALIASES.get(wanted, wanted)
        return any(n == wanted or arch_matches(machine, n) for n in names)
    return wanted in names


@dataclass(frozen=True)
class SkipRule:
    """One skiplist entry: points it names, why, and where it applies."""
    tests: tuple[str, ...]
    reason: str
    url: str | None
    conditions: dict[str, Any] = field(hash=False)
    source: str = ""                  # file:line of the entry

    def matches(self, point_id: str) -> bool:
        """True if the entry names this point (or a group holding it)."""
        for name in self.tests:
            coll, sep, rest = name.partition(":")
            if sep:
                if coll != COLLECTION:
                    continue
                name = rest
            if (fnmatch.fnmatchcase(point_id, name)
                    or fnmatch.fnmatchcase(point_id, name + ".*")):
                return True
        return False

    def applies_to(self, env: SkipEnvironment) -> bool:
        c = self.conditions
        if not (_names_match(env.environment, c["environments"])
                and _names_match(env.board, c["boards"], board=True)
                and _names_match(env.branch, c["branches"])):
            return False
        if c.get("kernel") and env.release and not in_range(env.release, c["kernel"]):
            return False
        return not (c.get("target") and env.target
                    and not fnmatch.fnmatchcase(env.target, c["target"]))

    def describe(self) -> str:
        """The skip reason a report shows."""
        why = self.reason or "no reason given"
        return f"skipfile {self.source}: {why}" + (f" ({self.url})" if self.url else "")


# -- reading ---------------------------------------------------------------

def _where(path: Path, node: yaml.Node) -> str:
    return f"{path}:{node.start_mark.line + 1}"


def _scalar(path: Path, node: yaml.Node, key: str) -> str | None:
    """A scalar's text as written: branch 6.10 stays "6.10", not 6.1."""
    if not isinstance(node, yaml.ScalarNode):
        raise SkipfileError(f"{_where(path, node)}: '{key}' must be text")
    if node.tag == "tag:yaml.org,2002:null":
        return None
    return node.value.strip()


def _names(path: Path, node: yaml.Node, key: str) -> tuple[str, ...]:
    """A name or a list of names (skipgen's StringArray), none empty."""
    def missing(where: yaml.Node) -> SkipfileError:
        return SkipfileError(f"{_where(path, where)}: '{key}' needs a name or a "
                             "list of names" + ("" if key == "tests" else " (or all)"))
    items = node.value if isinstance(node, yaml.SequenceNode) else [node]
    if not items:
        raise missing(node)
    names = []
    for item in items:
        name = _scalar(path, item, key)
        if not name:
            raise missing(item)
        names.append(name)
    return tuple(names)


def _rule(path: Path, node: yaml.Node) -> SkipRule:
    if not isinstance(node, yaml.MappingNode):
        raise SkipfileError(f"{_where(path, node)}: a skiplist entry must be a "
                            "mapping (reason, url, environments, boards, "
                            "branches, tests)")
    fields: dict[str, yaml.Node] = {}
    for knode, vnode in node.value:
        key = _scalar(path, knode, "key") or ""
        if key not in KEYS:
            raise SkipfileError(f"{_where(path, knode)}: unknown key '{key}' "
                                f"(known: {', '.join(KEYS)})")
        if key in fields:
            raise SkipfileError(f"{_where(path, knode)}: '{key}' given twice")
        fields[key] = vnode
    for key in ("tests", *CONDITIONS):
        if key not in fields:
            raise SkipfileError(f"{_where(path, node)}: entry has no '{key}'")
    cond: dict[str, Any] = {k: _names(path, fields[k], k) for k in CONDITIONS}
    for key in EXTRAS:
        value = _scalar(path, fields[key], key) if key in fields else None
        if value:
            cond[key] = value
    if cond.get("kernel"):
        for clause in cond["kernel"].split(","):
            if clause.strip() and not RANGE_CLAUSE_RE.fullmatch(clause.strip()):
                raise SkipfileError(f"{_where(path, fields['kernel'])}: bad kernel "
                                    f"range {cond['kernel']!r} (e.g. \">=6.1, <6.2\")")
    text = {k: _scalar(path, fields[k], k) if k in fields else None
            for k in ("reason", "url")}
    return SkipRule(_names(path, fields["tests"], "tests"), text["reason"] or "",
                    text["url"] or None, cond, _where(path, node))


def load_skipfile(path: Path, environment: SkipEnvironment | None = None
                  ) -> list[SkipRule]:
    """Every entry of the skipfile, in order, checked; with @environment
    only the entries that apply to it. Raises SkipfileError (file:line)."""
    path = Path(path)
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise SkipfileError(f"{path}: {e.strerror or e}") from e
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise SkipfileError(f"{where}: not YAML: {getattr(e, 'problem', e)}") from e
    entries = None
    if isinstance(root, yaml.MappingNode):
        entries = next((v for k, v in root.value
                        if isinstance(k, yaml.ScalarNode) and k.value == "skiplist"), None)
    if entries is None or not isinstance(entries, (yaml.SequenceNode, yaml.ScalarNode)) \
            or isinstance(entries, yaml.ScalarNode) and entries.tag != "tag:yaml.org,2002:null":
        where = _where(path, root) if root is not None else f"{path}:1"
        raise SkipfileError(f"{where}: a skipfile is a mapping with a "
                            "'skiplist' list of entries")
    rules = [_rule(path, n) for n in entries.value] \
        if isinstance(entries, yaml.SequenceNode) else []
    return [r for r in rules if environment is None or r.applies_to(environment)]


def first_match(rules: list[SkipRule], point_id: str) -> SkipRule | None:
    """The entry that skips this point: the first that names it."""
    return next((r for r in rules if r.matches(point_id)), None)


# -- skipping before a run (run.py --skipfile) -------------------------------

@dataclass
class SkipPlan:
    """What one target skips: the runner's --skip globs, the points they
    leave out (binary, point id, reason) and the binaries left with none."""
    globs: list[str]
    skipped: list[dict[str, str]]
    emptied: list[str]


def _globs(rule: SkipRule) -> list[str]:
    """A rule's names as runner globs: each name and the points below it."""
    out = []
    for name in rule.tests:
        coll, sep, rest = name.partition(":")
        if sep and coll != COLLECTION:
            continue
        name = rest if sep else name
        if "\\" in name or "[^" in name:
            # C's fnmatch(3) reads these unlike Python's: the runner would
            # skip other points than the report says
            raise SkipfileError(f"{rule.source}: test name {name!r}: no '\\' "
                                "or '[^' in a name ('[!...]' negates a set)")
        out += [name] if name.endswith("*") else [name, name + ".*"]
    return out


def skip_plan(rules: list[SkipRule], points: list[tuple[str, str]]) -> SkipPlan:
    """The plan for @rules (those that apply to the target) over @points,
    the (binary, point id) a run would have (the host build's --list): a
    glob is kept only if it names one of them, so that words that cannot
    name a point (another collection's, blanks, commas) never reach the
    runner or a kernel command line."""
    ids = [pid for _, pid in points]
    globs = [g for r in rules for g in _globs(r)
             if any(fnmatch.fnmatchcase(i, g) for i in ids)]
    skipped, kept = [], set()
    for binary, pid in points:
        rule = first_match(rules, pid)
        if rule:
            skipped.append({"binary": binary, "point": pid, "reason": rule.describe()})
        else:
            kept.add(binary)
    emptied = [b for b in dict.fromkeys(b for b, _ in points) if b not in kept]
    return SkipPlan(list(dict.fromkeys(globs)), skipped, emptied)


def add_skipped(run: Run, skipped: Any) -> None:
    """The target frame's `skipped` (run.py --skipfile) as skip points:
    into the binary that has the rest of its points, or one of their own
    when the skipfile left nothing of a binary. A point the target did
    report keeps its own result."""
    if not isinstance(skipped, list):
        return
    have = {p.id for p in run.points}
    binaries = {b.name: b for b in run.binaries}
    for entry in skipped:
        if not isinstance(entry, dict) or not entry.get("point") \
                or str(entry["point"]) in have:
            continue
        pid = str(entry["point"])
        name = str(entry.get("binary") or pid.split(".")[0])
        if name not in binaries:
            binaries[name] = Binary(name=name, diagnostics=[
                "not run: the skipfile skips every point of it"])
            run.binaries.append(binaries[name])
        binaries[name].points.append(Point(
            id=pid, status="skip", reason=str(entry.get("reason") or "skipfile")))
        have.add(pid)


# -- writing ---------------------------------------------------------------

# userfaultfd(2) exists since 4.3. The last X.Y of each finished major
# series (4.20, 5.19, 6.19) lets a kernel range be listed as the branches
# (X.Y series) it touches, the way LKFT names stable branches.
FIRST_SERIES = (4, 3)
LAST_MINOR = {4: 20, 5: 19, 6: 19}
_OPEN_MINOR = 99        # beyond the finished series: "any minor"


def branches_of(spec: str | None) -> list[str] | str:
    """The X.Y series a kernel range touches, or "all" when the range is
    open above (it would name series that do not exist yet)."""
    if not spec:
        return "all"
    out = []
    last_major = max(LAST_MINOR) + 1
    for major in range(FIRST_SERIES[0], last_major + 2):
        for minor in range(LAST_MINOR.get(major, _OPEN_MINOR) + 1):
            if (major, minor) < FIRST_SERIES:
                continue
            if in_range(f"{major}.{minor}.0", spec) or in_range(f"{major}.{minor}.99999", spec):
                if major > last_major or minor == _OPEN_MINOR:
                    return "all"
                out.append(f"{major}.{minor}")
    return out or "all"


class _IndentedDumper(yaml.SafeDumper):
    """Lists indented under their key, as LKFT's skipfiles write them."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _entry(e: Expectation) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "reason": e.reason, "url": e.link, "environments": "all",
        "boards": [e.arch] if e.arch else "all",
        "branches": branches_of(e.kernel), "tests": [e.id]}
    if e.kernel:
        entry["kernel"] = e.kernel
    if e.target:
        entry["target"] = e.target
    return entry


def skipfile_yaml(expectations: list[Expectation]) -> str:
    """The expectations as an LKFT skipfile, entries in their order;
    expectations alike but for the point pattern share one entry."""
    entries: dict[str, dict[str, Any]] = {}
    for e in expectations:
        entry = _entry(e)
        key = repr({k: v for k, v in entry.items() if k != "tests"})
        if key in entries:
            entries[key]["tests"] += entry["tests"]
        else:
            entries[key] = entry
    sources = sorted({e.source for e in expectations if e.source})
    head = ("# LKFT skipfile (the format of Linaro test-definitions'\n"
            "# automated/linux/kselftest/skipfile-lkft.yaml, read by skipgen),\n"
            "# written by `run.py report skipfile` from faultline's expectations"
            + (f": {', '.join(sources)}" if sources else "") + ".\n"
            "# tests are faultline point ids (fnmatch); `kernel` and `target`\n"
            "# (ignored by skipgen) keep each expectation's exact scope.\n")
    body = yaml.dump({"skiplist": list(entries.values())}, Dumper=_IndentedDumper,
                     sort_keys=False, default_flow_style=False,
                     allow_unicode=True, width=78)
    return head + body


class SkipRun:
    """run.py --skipfile: the rules, the (binary, point id) a run would have,
    and the plan made for each target once its kernel is known."""

    def __init__(self, rules: list[SkipRule], points: list[tuple[str, str]]) -> None:
        self.rules, self.points = rules, points
        self.plans: dict[str, SkipPlan] = {}

    def options(self, target: str, release: str | None, machine: str | None,
                budget: int | None = None) -> list[tuple[str, str]]:
        """The runner's options for @target (--skip, one comma list); with
        @budget (a kernel command line) a ValueError when they are longer."""
        env = SkipEnvironment.for_kernel(release, machine, target)
        plan = skip_plan([r for r in self.rules if r.applies_to(env)], self.points)
        self.plans[target] = plan
        if not plan.globs:
            return []
        word = ",".join(plan.globs)
        if budget is not None and len(word) > budget:
            raise ValueError(f"--skipfile: {len(word)} bytes of skip globs do not "
                             f"fit on a kernel command line (at most {budget})")
        return [("skip", word)]

    def binaries(self, target: str, names: list[str]) -> list[str]:
        """The binaries the target was handed, less those skipped whole."""
        plan = self.plans.get(target)
        return [n for n in names if not plan or n not in plan.emptied]

    def skipped(self, target: str) -> list[dict[str, str]] | None:
        plan = self.plans.get(target)
        return plan.skipped if plan else None
