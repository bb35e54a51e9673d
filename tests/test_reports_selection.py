# SPDX-License-Identifier: GPL-2.0
"""What reports make of a selection (--only) and of a target where no
userfaultfd can be created (exit 4), on crafted streams."""
from __future__ import annotations

import json

import pytest

from reports_util import validate
from reports.document import build_document, exit_code
from reports.render_html import render_html
from reports.render_markdown import render_markdown
from reports.selection import SelectionError, check_globs, selection_of
from reports.stream import parse_stream

PATHS = ("syscall", "syscall-user-mode-only", "dev-userfaultfd")


def probe(statuses: tuple[str, str, str]) -> str:
    return json.dumps({"schema_version": 1, "access": [
        {"path": p, "status": s, "errno": "ENOSYS" if s == "no" else None,
         "cause": "seccomp" if s == "no" else "ok", "reason": "crafted"}
        for p, s in zip(PATHS, statuses)]}, separators=(",", ":"))


def stream(results: list[str], access: tuple[str, str, str] | None,
           selection: list[str] | None = None) -> str:
    run = {"release": "6.18.0", "machine": "x86_64", "target": "host",
           "binary_names": ["api"]}
    if selection is not None:
        run["selection"] = selection
    lines = ["@@faultline stream 1", "@@faultline run " + json.dumps(run)]
    if access is not None:
        lines += ["@@faultline probe-begin", probe(access),
                  '@@faultline probe-end {"exit":0}']
    lines += ['@@faultline binary-begin {"name":"api","index":1,"of":1}',
              "TAP version 13", f"1..{len(results)}"]
    lines += [f"{r.replace('N', str(i + 1))}" for i, r in enumerate(results)]
    lines += ['@@faultline binary-end {"name":"api","exit":0,"signal":null,'
              '"timed_out":false,"duration_ms":5,"kmsg_alert":false}',
              '@@faultline run-end {"status":"complete"}']
    return "\n".join(lines) + "\n"


SKIPS = ["ok N api.dev.a # SKIP userfaultfd blocked by seccomp (ENOSYS)",
         "ok N api.dev.b # SKIP userfaultfd blocked by seccomp (ENOSYS)"]
# A point that checks the diagnosis itself passes even without a uffd.
GATE = ["ok N api.gate.reports_seccomp"]


@pytest.mark.parametrize("results, access, code", [
    (SKIPS + GATE, ("no", "no", "no"), 4),
    (SKIPS, ("no", "no", "no"), 4),
    (SKIPS + ["not ok N api.dev.c"], ("no", "no", "no"), 1),
    (SKIPS, ("no", "no", "yes"), 0),        # the node still works
    (SKIPS, ("no", "unknown", "no"), 0),    # the probe could not tell
    (SKIPS, None, 0),                       # no probe: no claim
])
def test_exit_4_only_when_no_target_has_userfaultfd(results, access, code) -> None:
    run = parse_stream(stream(results, access))
    assert exit_code([run]) == code
    doc = build_document([run])
    validate(doc)
    assert doc["exit_code"] == code
    assert doc["status"] == {0: "pass", 1: "fail", 4: "skip"}[code]


def test_exit_4_needs_every_target() -> None:
    without = parse_stream(stream(SKIPS, ("no", "no", "no")))
    with_uffd = parse_stream(stream(GATE, ("yes", "yes", "yes")))
    assert exit_code([without, without]) == 4
    assert exit_code([without, with_uffd]) == 0


def test_selection_in_every_report() -> None:
    run = parse_stream(stream(GATE, ("yes",) * 3, ["api.gate.*", "copy.*.eexist"]))
    doc = build_document([run])
    validate(doc)
    assert doc["selection"] == ["api.gate.*", "copy.*.eexist"]
    md = render_markdown(doc, [run])
    assert "Selection: only the points matching `api.gate.*`, `copy.*.eexist`" in md
    html = render_html(doc, [run])
    assert '<p id="selection">' in html and "<code>copy.*.eexist</code>" in html


def test_no_selection_says_nothing() -> None:
    run = parse_stream(stream(GATE, ("yes",) * 3))
    doc = build_document([run])
    assert doc["selection"] is None and selection_of([run]) is None
    assert "Selection:" not in render_markdown(doc, [run])
    assert 'id="selection"' not in render_html(doc, [run])


@pytest.mark.parametrize("globs, vm, says", [
    (["a b"], False, "without blanks"),
    (['a"'], False, "without blanks or quotes"),
    ([""], False, "without blanks"),
    ([","], False, "no glob"),
    (["copy.*." + "x" * 600], True, "do not fit on a kernel command line"),
])
def test_bad_globs(globs: list[str], vm: bool, says: str) -> None:
    with pytest.raises(SelectionError, match=says):
        check_globs(globs, vm)


def test_long_globs_are_fine_on_the_host() -> None:
    check_globs(["copy.*." + "x" * 600], kernel_cmdline=False)
