# SPDX-License-Identifier: GPL-2.0
"""uffd-probe in a fleet: --format prometheus checked by the real promtool
and served by a real node_exporter, --format nfd read by nfd-worker's
rules, and --output's atomic replacement."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any, Iterator

import pytest

from fleet_util import (SAMPLE, answers, node_exporter, parse_exposition,
                        parse_labels, parse_nfd, scrape, tri)
from test_probe_util import as_nobody, probe_json, public_dir, run

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="compares root's view, runs as nobody")

FAMILIES = {"path": ("uffd_path", "path"), "access": ("uffd_access", "name"),
            "feature": ("uffd_feature", "name"),
            "ioctl": ("uffd_ioctl", "name"),
            "register": ("uffd_register_mode", "mem"),
            "profile": ("uffd_profile_ok", "profile")}


@pytest.fixture(scope="module")
def pub(build_dir: Path) -> Iterator[Path]:
    """A world-accessible directory with the probe and the test tools."""
    with public_dir(build_dir, "uffd-probe", "tools/seccomp-exec",
                    "tools/uffd-fake-api") as d:
        yield d


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """An empty directory under /tmp that nobody can read (mode 0755)."""
    d = Path(tempfile.mkdtemp(prefix="uffd-fleet-out-", dir="/tmp"))
    d.chmod(0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


# Setups: how the probe is run, and what is unknown there.
NO_MEMFD = ["seccomp-exec", "--syscall", "memfd_create", "--errno", "ENOSYS",
            "--"]
SETUPS = {"root": [], "no-memfd": NO_MEMFD}


def probe_cmd(pub: Path, setup: str, *args: str) -> list[str]:
    wrap = SETUPS[setup]
    return [str(pub / w) if i == 0 else w for i, w in enumerate(wrap)] + \
        [str(pub / "uffd-probe"), *args]


def rendered(pub: Path, setup: str, fmt: str) -> tuple[str, dict[str, Any]]:
    res = run(probe_cmd(pub, setup, "--format", fmt))
    assert res.returncode == 0, res.stderr
    return res.stdout, probe_json(probe_cmd(pub, setup))


def promtool(text: str) -> subprocess.CompletedProcess[str]:
    if not shutil.which("promtool"):
        pytest.skip("promtool is not installed (scripts/deps.sh fleet)")
    return subprocess.run(["promtool", "check", "metrics"], input=text,
                          capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize("setup", SETUPS)
def test_prometheus_passes_promtool(pub: Path, setup: str) -> None:
    text, _ = rendered(pub, setup, "prometheus")
    res = promtool(text)
    assert res.returncode == 0, res.stdout + res.stderr
    assert not res.stdout.strip() and not res.stderr.strip(), res.stdout


@pytest.mark.parametrize("setup", SETUPS)
def test_prometheus_says_what_json_says(pub: Path, setup: str) -> None:
    text, doc = rendered(pub, setup, "prometheus")
    exp = parse_exposition(text)
    uid = str(doc["process"]["euid"])
    info = exp.series("uffd_probe_info")
    assert list(info.values()) == [1]
    assert dict(next(iter(info))) == {
        "version": doc["probe_version"], "kernel": doc["kernel"]["release"],
        "machine": doc["kernel"]["machine"], "view": "caller", "uid": uid,
        "gid": str(doc["process"]["egid"])}
    want = answers(doc)
    unknown = exp.series("uffd_unknown")
    for key, status in want.items():
        metric, label = FAMILIES[key[0]]
        labels = {label: key[1], "uid": uid}
        if len(key) == 3:
            labels["mode"] = key[2]
        got = exp.value(metric, **labels)
        if status == "unknown":
            # No sample: a 0 would claim "no". uffd_unknown says it instead.
            assert got is None, (key, got)
            ukey = frozenset({**labels, "metric": metric}.items())
            assert unknown.get(ukey) == 1, key
            assert any(c.startswith(f"# {metric} {key[1]}: ")
                       for c in exp.comments), key
        else:
            assert got == (1 if status == "yes" else 0), (key, got)
    # Nothing beyond the answers: every family sample is one of them.
    counted = sum(len(exp.series(m)) for m, _ in FAMILIES.values())
    assert counted + len(unknown) == len(want)
    assert (setup == "no-memfd") == bool(unknown)


def test_prometheus_unnamed_bits(pub: Path) -> None:
    """Bits a newer kernel reports that this build cannot name."""
    fake = [str(pub / "uffd-fake-api"), "--features", hex(1 << 17),
            "--ioctls", hex(1 << 9), "--", str(pub / "uffd-probe"),
            "--format", "prometheus"]
    res = run(fake)
    assert res.returncode == 0, res.stderr
    exp = parse_exposition(res.stdout)
    bits = {tuple(sorted(lab)) for lab in exp.series("uffd_unnamed_bit")}
    assert bits == {(("bit", "17"), ("mask", "features"), ("uid", "0")),
                    (("bit", "9"), ("mask", "ioctls"), ("uid", "0"))}
    assert promtool(res.stdout).returncode == 0


@pytest.mark.parametrize("setup", SETUPS)
def test_nfd_labels_follow_nfd_rules_and_json(pub: Path, setup: str) -> None:
    text, doc = rendered(pub, setup, "nfd")
    labels, comments = parse_nfd(text)
    prefix = {"path": "uffd.path.", "access": "uffd.", "feature": "uffd.",
              "ioctl": "uffd.ioctl.", "register": "uffd.register.",
              "profile": "uffd.profile."}
    want = {(prefix[k[0]] + ".".join(k[1:])).lower(): tri(v)
            for k, v in answers(doc).items()}
    assert labels == want
    # The issue's own examples.
    assert "uffd.move" in labels and "uffd.profile.firecracker" in labels
    for name, value in labels.items():
        if value == "unknown":
            assert any(c.startswith(f"# {name} unknown: ") for c in comments)
    assert (setup == "no-memfd") == ("unknown" in labels.values())
    assert f"uid {doc['process']['euid']} " in comments[0]


def test_output_replaces_atomically(pub: Path, shared_dir: Path) -> None:
    """A reader polling the file while it is rewritten sees whole reports
    only; no temporary file is left; the file is readable by others."""
    target = shared_dir / "uffd.prom"
    target.write_text("old\n")
    # Held open: the old file is neither rewritten nor its inode reused.
    old = target.open()
    seen: list[str] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            seen.append(target.read_text())
    t = threading.Thread(target=reader)
    t.start()
    try:
        for _ in range(30):
            res = run([str(pub / "uffd-probe"), "--format", "prometheus",
                       "--output", str(target)])
            assert res.returncode == 0 and res.stdout == "", res.stderr
    finally:
        stop.set()
        t.join()
    last = target.read_text()
    assert len(seen) > 30
    for text in seen:
        assert text in ("old\n", last), text[-200:]
    with old:
        assert os.fstat(old.fileno()).st_ino != target.stat().st_ino
        assert old.read() == "old\n"
    assert target.stat().st_mode & 0o777 == 0o644
    assert os.listdir(shared_dir) == ["uffd.prom"]
    assert last.endswith("# TYPE uffd_unnamed_bit gauge\n")


def test_output_keeps_old_file_on_failure(pub: Path, shared_dir: Path) -> None:
    """The child cannot become the user (nobody is not root): exit 2, the
    old report stays, the temporary file is gone."""
    shared_dir.chmod(0o777)
    target = shared_dir / "uffd.prom"
    target.write_text("old\n")
    res = run(as_nobody([str(pub / "uffd-probe"), "--as-user", "65534",
                         "--output", str(target)]))
    assert res.returncode == 2, res.stderr
    assert "needs root" in res.stderr
    assert target.read_text() == "old\n"
    assert os.listdir(shared_dir) == ["uffd.prom"]


def test_output_errors(pub: Path, shared_dir: Path) -> None:
    probe = str(pub / "uffd-probe")
    missing = shared_dir / "no" / "uffd.prom"
    res = run([probe, "--output", str(missing)])
    assert res.returncode == 2 and str(missing) in res.stderr
    res = run([probe, "--output", str(shared_dir)])
    assert res.returncode == 2 and "not a file" in res.stderr
    res = run([probe, "--format", "yaml"])
    assert res.returncode == 2 and "prometheus" in res.stderr
    res = run([probe, "--format", "nfd", "--json"])
    assert res.returncode == 2 and "one format" in res.stderr


def test_output_with_require_and_every_format(pub: Path,
                                              shared_dir: Path) -> None:
    """The report goes to the file, --require's lines to stdout."""
    probe = str(pub / "uffd-probe")
    for fmt in ("text", "json", "header", "shell", "prometheus", "nfd"):
        target = shared_dir / f"report.{fmt}"
        res = run([probe, "--format", fmt, "--output", str(target),
                   "--require", "MOVE"])
        direct = run([probe, "--format", fmt, "--no-color"])
        assert res.returncode == direct.returncode == 0, res.stderr
        assert res.stdout == "ok: MOVE\n"
        assert target.read_text()[:12] == direct.stdout[:12], fmt
    nfd, _ = parse_nfd((shared_dir / "report.nfd").read_text())
    assert nfd["uffd.move"] == "true"


def test_node_exporter_serves_two_identities(pub: Path,
                                             shared_dir: Path) -> None:
    """Two probes (root, and --as-user nobody) in one textfile directory,
    scraped from a node_exporter that runs as nobody: both identities'
    series are there, and the collector reports no error."""
    probe = str(pub / "uffd-probe")
    for who, extra in (("root", []), ("nobody", ["--as-user", "65534"])):
        res = run([probe, "--format", "prometheus", "--output",
                   str(shared_dir / f"uffd-{who}.prom"), *extra])
        assert res.returncode == 0, res.stderr
    shared_dir.joinpath("notes.txt").write_text("not a .prom file\n")
    with node_exporter(shared_dir, as_nobody([])) as url:
        text = scrape(url)
    exp = samples_by_metric(text)
    assert exp["node_textfile_scrape_error"] == [({}, 0.0)]
    files = {Path(lab["file"]).name
             for lab, _ in exp["node_textfile_mtime_seconds"]}
    assert files == {"uffd-root.prom", "uffd-nobody.prom"}
    for name in files:
        mine = parse_exposition((shared_dir / name).read_text())
        for (metric, labels), value in mine.samples.items():
            assert (dict(labels), value) in exp[metric], (name, metric)
    uid = {lab["uid"]: v for lab, v in exp["uffd_profile_ok"]
           if lab["profile"] == "android-art"}
    assert set(uid) == {"0", "65534"}


def samples_by_metric(text: str) -> dict[str, list[tuple[dict, float]]]:
    """node_exporter's own output, samples by metric name (its HELP/TYPE
    layout, e.g. of summaries, is its business)."""
    out: dict[str, list[tuple[dict, float]]] = {}
    for line in text.splitlines():
        if line.startswith("#") or not line:
            continue
        m = SAMPLE.match(line)
        assert m, line
        out.setdefault(m.group(1), []).append(
            (dict(parse_labels(m.group(2) or "")), float(m.group(3))))
    return out
