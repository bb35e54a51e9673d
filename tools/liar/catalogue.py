# SPDX-License-Identifier: GPL-2.0
"""The lie catalogue (catalogue.tsv): one row per lie and what the suite
must do about it. Format and how to add a row: README.md next to this file.
"""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path

MEM_TYPES = ("anon", "shmem", "shmem_private", "hugetlb", "hugetlb_private")
ANY = "any"
# Shorthands for the types column.
TYPE_ALIASES = {
    "all": MEM_TYPES,
    "file": ("shmem", "shmem_private", "hugetlb", "hugetlb_private"),
    "nohuge": ("anon", "shmem", "shmem_private"),
}
COLUMNS = ("lie", "expect", "types", "quick", "must_skip", "note")
CATALOGUE = Path(__file__).resolve().parent / "catalogue.tsv"


class CatalogueError(ValueError):
    pass


@dataclass(frozen=True)
class Row:
    """One lie. `types` are the memory types on which a catch lie must
    fail at least one point (("any",) for type-free lies); a tolerate
    lie has none. `must_skip` are point-id patterns (fnmatch) that a
    tolerate lie must turn into skips with a reason."""
    lie: str
    expect: str
    types: tuple[str, ...]
    quick: bool
    must_skip: tuple[str, ...] = ()
    note: str = ""
    line: int = field(default=0, compare=False)

    @property
    def catch(self) -> bool:
        return self.expect == "catch"

    def must_skip_matches(self, point: str) -> bool:
        """A point some pattern matches and no "!pattern" excludes."""
        hit = any(fnmatch.fnmatchcase(point, p) for p in self.must_skip
                  if not p.startswith("!"))
        return hit and not any(fnmatch.fnmatchcase(point, p[1:])
                               for p in self.must_skip if p.startswith("!"))


def _types(text: str, where: str) -> tuple[str, ...]:
    out: list[str] = []
    for word in text.split(","):
        word = word.strip()
        if word in TYPE_ALIASES:
            out.extend(TYPE_ALIASES[word])
        elif word in MEM_TYPES or word == ANY:
            out.append(word)
        else:
            raise CatalogueError(f"{where}: unknown memory type {word!r} "
                                 f"(one of {', '.join(MEM_TYPES)}, any, "
                                 f"{', '.join(TYPE_ALIASES)})")
    if ANY in out and len(out) > 1:
        raise CatalogueError(f"{where}: 'any' stands alone")
    return tuple(dict.fromkeys(out))


def _row(cols: list[str], where: str, line: int) -> Row:
    if len(cols) < 5 or len(cols) > len(COLUMNS):
        raise CatalogueError(f"{where}: {len(cols)} columns, want "
                             f"{len(COLUMNS) - 1} or {len(COLUMNS)} "
                             f"({', '.join(COLUMNS)}), tab-separated")
    lie, expect, types, quick, skips = (c.strip() for c in cols[:5])
    note = cols[5].strip() if len(cols) > 5 else ""
    if not lie.replace("_", "").isalnum():
        raise CatalogueError(f"{where}: bad lie name {lie!r}")
    if expect not in ("catch", "tolerate"):
        raise CatalogueError(f"{where}: expect is 'catch' or 'tolerate', "
                             f"not {expect!r}")
    if quick not in ("quick", "-"):
        raise CatalogueError(f"{where}: quick is 'quick' or '-'")
    if expect == "catch":
        if types == "-":
            raise CatalogueError(f"{where}: a catch lie names its memory "
                                 "types (or 'any')")
        if skips != "-":
            raise CatalogueError(f"{where}: must_skip is for tolerate lies")
        got = _types(types, where)
    else:
        if types != "-":
            raise CatalogueError(f"{where}: a tolerate lie has no types "
                                 "('-'): no point may fail anywhere")
        got = ()
    pats = () if skips == "-" else tuple(p.strip() for p in skips.split(","))
    return Row(lie=lie, expect=expect, types=got, quick=quick == "quick",
               must_skip=pats, note=note, line=line)


def load(path: Path = CATALOGUE) -> list[Row]:
    """Every row of the catalogue; CatalogueError names the bad line."""
    rows: list[Row] = []
    seen: set[str] = set()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise CatalogueError(f"{path}: {e.strerror}") from e
    for n, raw in enumerate(text.splitlines(), 1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        where = f"{path.name}:{n}"
        row = _row(raw.split("\t"), where, n)
        if row.lie in seen:
            raise CatalogueError(f"{where}: {row.lie} is listed twice")
        seen.add(row.lie)
        rows.append(row)
    if not rows:
        raise CatalogueError(f"{path}: no lies")
    return rows
