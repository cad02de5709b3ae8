"""What the probes of `serve --workers` answer: the fleet's state from its workers' reports.

The kernel hands each new connection on the shared port to any worker that listens, whatever
its health, so the fleet is ready only when every listening worker is SERVING (and at least one
listens): "ready" then means that any connection the pod accepts reaches a worker that serves
it. A worker counts from its first report, which it sends once it listens; one that is still
starting (not listening yet) or has died takes no connections and does not count. A worker
reports after each of its readiness checks, so one silent for longer than its own
`stall_after_seconds` has a stuck event loop: it counts as not serving (and the supervisor
replaces it). The supervisor process itself is alive until it begins to stop the fleet.
"""

from __future__ import annotations

from collections.abc import Mapping

from integration_api.server.metrics_port import ProbeState
from integration_api.server.readiness import Report

STARTING = ProbeState(alive=True, serving=False, reason="starting: no worker listens yet")
DRAINING = ProbeState(alive=False, serving=False, reason="draining")


def silent_for(report: Report, received_at: float, now: float) -> float | None:
    """How long a worker has been silent, when that is longer than its reports allow."""
    silent = now - received_at
    return silent if silent > report.stall_after_seconds else None


def stalled_workers(reports: Mapping[int, tuple[Report, float]], now: float) -> dict[int, float]:
    """The workers silent for longer than their reports allow, with how long (to replace)."""
    silences = {index: silent_for(*received, now) for index, received in reports.items()}
    return {index: silent for index, silent in silences.items() if silent is not None}


def worker_state(report: Report, received_at: float, now: float) -> ProbeState:
    silent = silent_for(report, received_at, now)
    if silent is None:
        return report.state
    reason = f"event loop stalled: no report for {silent:.0f} s"
    return ProbeState(alive=False, serving=False, reason=reason)


def fleet_state(
    reports: Mapping[int, tuple[Report, float]], stopping: bool, now: float
) -> ProbeState:
    """`reports`: the latest report of each worker that listens (by worker index), with the
    monotonic time it arrived."""
    if stopping:
        return DRAINING
    if not reports:
        return STARTING
    states = {index: worker_state(*received, now) for index, received in reports.items()}
    reasons = [
        f"worker {index}: {state.reason}"
        for index, state in sorted(states.items())
        if not state.serving
    ]
    return ProbeState(alive=True, serving=not reasons, reason="; ".join(reasons))
