# SPDX-License-Identifier: GPL-2.0
"""Helpers for the fleet format tests (no tests here): a strict reader of
the Prometheus text format, a reader of NFD feature files that follows
nfd-worker's local source, the names the probe's JSON says each format
must carry, and a real node_exporter on a loopback port.

The readers are written from the formats' documentation, independently
of the C renderers, so the tests compare the renderers against the
formats and against the probe's JSON, not against themselves.
"""
from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pytest

# --- Prometheus text exposition format 0.0.4 -------------------------------

_METRIC = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')
SAMPLE = re.compile(rf"^({_METRIC})(?:\{{(.*)\}})? (\S+)$")


@dataclass
class Exposition:
    help: dict[str, str] = field(default_factory=dict)
    type: dict[str, str] = field(default_factory=dict)
    # (metric, frozenset of labels) -> value
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float] = \
        field(default_factory=dict)
    comments: list[str] = field(default_factory=list)

    def series(self, metric: str) -> dict[frozenset[tuple[str, str]], float]:
        return {lab: v for (m, lab), v in self.samples.items() if m == metric}

    def value(self, metric: str, **labels: str) -> float | None:
        return self.samples.get((metric, frozenset(labels.items())))


def parse_labels(text: str) -> frozenset[tuple[str, str]]:
    pairs, pos = [], 0
    while pos < len(text):
        m = _LABEL.match(text, pos)
        assert m, f"bad label set at {text[pos:]!r}"
        value = m.group(2).replace("\\n", "\n").replace('\\"', '"') \
                          .replace("\\\\", "\\")
        pairs.append((m.group(1), value))
        pos = m.end()
        if pos < len(text):
            assert text[pos] == ",", text
            pos += 1
    names = [n for n, _ in pairs]
    assert len(names) == len(set(names)), f"repeated label in {text}"
    return frozenset(pairs)


def parse_exposition(text: str) -> Exposition:
    """Parse strictly: HELP and TYPE before a family's first sample, no
    series twice, every line well-formed."""
    exp = Exposition()
    assert text.endswith("\n"), "the last line must end with a newline"
    for line in text.splitlines():
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            _, kind, name, rest = line.split(" ", 3)
            assert re.fullmatch(_METRIC, name), line
            table = exp.help if kind == "HELP" else exp.type
            assert name not in table, f"second {kind} for {name}"
            table[name] = rest
            continue
        if line.startswith("#"):
            exp.comments.append(line)
            continue
        m = SAMPLE.match(line)
        assert m, f"bad sample line {line!r}"
        name = m.group(1)
        assert name in exp.help and name in exp.type, \
            f"{name}: sample before its HELP/TYPE"
        key = (name, parse_labels(m.group(2) or ""))
        assert key not in exp.samples, f"series twice: {line}"
        exp.samples[key] = float(m.group(3))
    return exp


# --- NFD local source feature files ----------------------------------------

NFD_NAMESPACE = "feature.node.kubernetes.io"
# Kubernetes label names and values (the part after the prefix).
_LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
NFD_MAX_FILE = 65536


def parse_nfd(text: str) -> tuple[dict[str, str], list[str]]:
    """The labels of a features.d file as nfd-worker reads it (lines
    trimmed, '#' comments, '# +' directives, key[=value], value 'true'
    when absent), checked against NFD's and Kubernetes' label rules.
    Returns (labels without the namespace, comment lines)."""
    assert len(text.encode()) <= NFD_MAX_FILE, "nfd-worker ignores >64 KiB"
    labels: dict[str, str] = {}
    comments: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            assert not line.startswith("# +"), f"a directive: {line}"
            comments.append(line)
            continue
        key, _, value = line.partition("=")
        ns, slash, name = key.rpartition("/")
        assert slash and ns == NFD_NAMESPACE, f"unprefixed or foreign: {key}"
        assert len(name) <= 63 and _LABEL_NAME.match(name), name
        assert len(value) <= 63 and _LABEL_VALUE.match(value), value
        assert name not in labels, f"label twice: {name}"
        labels[name] = value if "=" in line else "true"
    return labels, comments


# --- what each format must say, from the probe's JSON ----------------------

def tri(status: str) -> str:
    return {"yes": "true", "no": "false"}.get(status, "unknown")


def answers(doc: dict[str, Any]) -> dict[tuple[str, ...], str]:
    """Every answer of a --json document as (group, subject[, mode]) ->
    yes/no/unknown, with the names taken from its domain table."""
    facts, dom = doc["facts"], doc["domain"]
    out: dict[tuple[str, ...], str] = {}
    for a in doc["access"]:
        out[("path", a["path"])] = a["status"]
    for name in ("KERNEL_FAULTS", "EVENT_FORK_ALLOWED"):
        out[("access", name)] = facts[name]
    for f in dom["features"]:
        out[("feature", f["name"])] = facts[f["name"]]
    for i in dom["ioctls"]:
        if f"IOCTL_{i['name']}" in facts:
            out[("ioctl", i["name"])] = facts[f"IOCTL_{i['name']}"]
    single = {m["name"] for m in dom["register_modes"]}
    for r in doc["register"]:
        if r["mode"] in single:
            out[("register", r["mem"], r["mode"])] = r["status"]
    for p in doc["profiles"]:
        out[("profile", p["name"])] = p["status"]
    return out


# --- a real node_exporter ---------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scrape(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.read().decode()


def _start(cmd: list[str], url: str) -> subprocess.Popen[bytes] | None:
    """Start node_exporter; None when it exited (its port was taken)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return None
        try:
            scrape(url)
            return proc
        except OSError:
            time.sleep(0.05)
    _stop(proc)
    raise AssertionError("node_exporter did not answer within 15 s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def node_exporter(textfile_dir: Path, wrap: list[str]) -> Iterator[str]:
    """Debian's node_exporter on 127.0.0.1 (a free port) with only the
    textfile collector, run under @wrap (e.g. setpriv as nobody); yields
    its /metrics URL and stops it afterwards, also on failure."""
    exe = shutil.which("prometheus-node-exporter")
    if not exe:
        pytest.skip("prometheus-node-exporter is not installed "
                    "(scripts/deps.sh fleet)")
    for _ in range(5):
        url = f"http://127.0.0.1:{_free_port()}/metrics"
        cmd = [*wrap, exe, f"--web.listen-address={url[7:-8]}",
               "--collector.disable-defaults", "--collector.textfile",
               f"--collector.textfile.directory={textfile_dir}"]
        proc = _start(cmd, url)
        if proc:
            break
    else:
        raise AssertionError("node_exporter exited at start 5 times")
    try:
        yield url
    finally:
        _stop(proc)
