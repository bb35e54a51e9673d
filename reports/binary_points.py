# SPDX-License-Identifier: GPL-2.0
"""One binary's points, from its TAP payload and how it ended: a cut,
timeout, crash or early exit turns the running point and the rest of the
plan into error/timeout/notrun points; kernel alerts become one failing
`<binary>.kernel_log` point (kernel_log.py)."""
from __future__ import annotations

from .kernel_log import attribute, kernel_log_point
from .model import Binary, Point
from .tapparse import MAX_POINTS, implausible_plan, missing_numbers, parse_tap


def _cut_reason(b: Binary, cut_cause: str | None) -> tuple[str, str, str]:
    """(status, reason) for the point running when the binary stopped, and
    the reason given to the points after it."""
    if not b.complete:
        why = f"the stream was cut: {cut_cause}"
        return "error", f"{why} (this point was running)", why
    if b.timed_out:
        why = "binary killed by the runner's per-binary timeout"
        return "timeout", f"{why} (this point was running)", why
    if b.interrupted:
        why = f"the run was interrupted (signal {b.interrupted})"
        return "error", f"{why} (this point was running)", why
    if b.signal:
        why = f"binary killed by signal {b.signal}"
        return "error", f"{why} (this point was running)", why
    why = f"binary exited (code {b.exit}) before reporting a result"
    return "error", why, why


def finish_binary(b: Binary, payload: list[str],
                  cut_cause: str | None = None,
                  marks: list[tuple[int, int]] | None = None,
                  jobs: int | None = None) -> None:
    """Turn one binary's payload and end frame into its points. `marks`:
    the runner's read times ((payload index, time_us)) when the stream has
    them; `jobs`: how many binaries ran at once."""
    tap = parse_tap(payload, b.name)
    b.plan = tap.plan
    b.diagnostics = tap.diagnostics
    b.points = tap.points
    status, running_why, why = _cut_reason(b, cut_cause)
    missing = missing_numbers(tap)
    if tap.running is not None:
        num = missing.pop(0) if missing else None
        b.points.append(Point(id=tap.running, status=status, reason=running_why,
                              number=num, diagnostics=tap.pending))
    elif b.complete and not missing and b.points and (
            b.timed_out or b.signal or b.interrupted):
        # every point reported, then it hung or crashed (teardown, exit)
        b.points.append(Point(id=f"{b.name}.exit", status=status,
                              reason=f"{why} after its last point",
                              diagnostics=tap.pending))
    elif not b.complete and b.points:
        # Its end never came: whatever it reported, it is not whole.
        b.points.append(Point(id=f"{b.name}.end", status="error",
                              reason=f"{why} (after its last reported point)",
                              diagnostics=tap.pending))
    if implausible_plan(tap):
        b.points.append(Point(id=f"{b.name}.plan", status="error",
                              reason=f"implausible TAP plan 1..{tap.plan} (more "
                              f"than {MAX_POINTS} points): the points it did "
                              "not report are not listed"))
    if tap.bail:
        why = f"Bail out! {tap.bail}"
    for n in missing:
        b.points.append(Point(id=f"{b.name}.#{n}", status="notrun",
                              number=n, reason=f"not run: {why}"))
    if not b.points:
        if tap.plan == 0 and tap.plan_skip:
            b.points.append(Point(id=b.name, status="skip",
                                  reason=tap.plan_skip))
        else:
            tail = [ln for ln in payload if ln.strip()][-10:]
            abnormal = not b.complete or b.timed_out or b.signal or b.exit
            b.points.append(Point(id=b.name, status="error",
                                  reason=b.error or "no TAP test points"
                                  + (f" ({why})" if abnormal else ""),
                                  diagnostics=tail))
    attribute(b, tap, payload, marks or [])
    if b.kmsg_alert:
        b.points.append(kernel_log_point(b, jobs))
