# SPDX-License-Identifier: GPL-2.0
"""junit.xml: one <testsuite> per kernel and binary, one <testcase> per
point. Names are stable across kernel versions (stable_id()); the release
and package are properties; a point's `time` is there when the stream
timed it (the runner's read stamps), the suite's is the binary's."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from .model import Binary, Run
from .probe_doc import features_summary

_BAD_XML = dict.fromkeys(c for c in range(32) if c not in (9, 10, 13))


def _xml_text(text: str) -> str:
    """Drop characters XML 1.0 cannot carry (console garbage)."""
    return text.translate(_BAD_XML)


def stable_id(r: Run) -> str:
    """What a CI keys test history on: the target, its flavour and the
    architecture, never the release (a kernel bump must not start a new
    history): `debian_trixie_cloud-amd64_x86_64`, `host_x86_64`; an image
    path is named by its file name."""
    spec = str(r.target or "host")
    parts = [f"image_{Path(spec).name}"] if "/" in spec else spec.split(":")
    flavour = r.info.get("flavour")
    if flavour and flavour not in parts:
        parts.append(str(flavour))
    parts.append(str(r.kernel.get("machine") or "unknown-arch"))
    return re.sub(r"[^A-Za-z0-9_-]+", "_", "_".join(parts)).strip("_")


def _stable_ids(runs: list[Run]) -> list[str]:
    """stable_id() of each run; the same target twice in one report gets
    its position after the second."""
    ids = [stable_id(r) for r in runs]
    return [f"{i}_{n + 1}" if ids[:n].count(i) else i for n, i in enumerate(ids)]


def _properties(suite: ET.Element, r: Run, b: Binary) -> None:
    props = ET.SubElement(suite, "properties")
    feats = features_summary(r.probe)["features"]
    for k, v in (("kernel.release", r.release), ("kernel.version", r.kernel.get("version")),
                 ("kernel.label", r.label), ("kernel.package", r.info.get("package")),
                 ("kernel.package_version", r.info.get("version")),
                 ("target", r.target), ("flavour", r.info.get("flavour")),
                 ("machine", r.kernel.get("machine")),
                 ("uffd.features", None if feats is None else hex(feats)),
                 ("stream", r.stream_state), ("exit", b.exit)):
        if v is not None:
            ET.SubElement(props, "property", name=k, value=str(v))


def _stream_error(root: ET.Element, r: Run, kernel_id: str) -> None:
    """A run whose stream is not complete (cut, empty, garbage, never
    booted) is an error of its own, whatever its points say: a CI that
    reads only junit.xml must not see a cut run as green."""
    suite = ET.SubElement(root, "testsuite", name=f"{kernel_id}/stream",
                          hostname=str(r.kernel.get("hostname") or r.target),
                          tests="1", failures="0", errors="1", skipped="0")
    tc = ET.SubElement(suite, "testcase", name="stream",
                       classname=f"{kernel_id}.stream")
    el = ET.SubElement(tc, "error", type=f"stream_{r.stream_state}",
                       message=_xml_text(r.cause or r.stream_state))
    el.text = _xml_text("\n".join(r.console))


def render_junit(runs: list[Run]) -> str:
    """One <testsuite> per (kernel, binary); one <testcase> per point."""
    root = ET.Element("testsuites", name="faultline")
    tot = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    # CI tools read dots in classname as package levels: one level
    for r, kernel_id in zip(runs, _stable_ids(runs)):
        for b in r.binaries:
            suite = ET.SubElement(root, "testsuite", name=f"{kernel_id}/{b.name}",
                                  hostname=str(r.kernel.get("hostname") or r.target),
                                  time=f"{(b.duration_ms or 0) / 1000:.3f}")
            _properties(suite, r, b)
            cnt = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
            for p in b.points:
                cnt["tests"] += 1
                tc = ET.SubElement(suite, "testcase", name=p.id,
                                   classname=f"{kernel_id}.{b.name}")
                if p.duration_ms is not None:   # only the runner's stamps time a point
                    tc.set("time", f"{p.duration_ms / 1000:.3f}")
                detail = _xml_text("\n".join(p.diagnostics))
                msg = _xml_text(p.reason or p.status)
                if p.status in ("fail", "timeout"):
                    cnt["failures"] += 1
                    el = ET.SubElement(tc, "failure", type=p.status, message=msg)
                    el.text = detail
                elif p.status in ("error", "notrun"):
                    cnt["errors"] += 1
                    el = ET.SubElement(tc, "error", type=p.status, message=msg)
                    el.text = detail
                elif p.status in ("skip", "xfail"):
                    cnt["skipped"] += 1
                    ET.SubElement(tc, "skipped", type=p.status, message=msg)
                if p.status == "xpass":     # reported, not a failure
                    detail = f"XPASS: {msg}\n{detail}"
                if detail and p.status in ("pass", "skip", "xfail", "xpass"):
                    ET.SubElement(tc, "system-out").text = detail
            if b.kmsg:
                ET.SubElement(suite, "system-err").text = _xml_text(
                    "\n".join(k["line"] for k in b.kmsg))
            for k, v in cnt.items():
                suite.set(k, str(v))
                tot[k] += v
        if r.stream_state != "complete":
            _stream_error(root, r, kernel_id)
            tot["tests"] += 1
            tot["errors"] += 1
    for k, v in tot.items():
        root.set(k, str(v))
    ET.indent(root)
    return ('<?xml version="1.0" encoding="utf-8"?>\n'
            + ET.tostring(root, encoding="unicode") + "\n")
