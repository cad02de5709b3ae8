"""What the probes of `serve --workers` answer: the fleet's state from its workers' states.

The kernel hands each new connection on the shared port to any worker that listens, whatever
its health, so the fleet is ready only when every listening worker is SERVING (and at least one
listens): "ready" then means that any connection the pod accepts reaches a worker that serves
it. A worker counts from its first report, which it sends once it listens; one that is still
starting (not listening yet) or has died takes no connections and does not count. The
supervisor process itself is alive until it begins to stop the fleet.
"""

from __future__ import annotations

from collections.abc import Mapping

from integration_api.server.metrics_port import ProbeState

STARTING = ProbeState(alive=True, serving=False, reason="starting: no worker listens yet")
DRAINING = ProbeState(alive=False, serving=False, reason="draining")


def fleet_state(workers: Mapping[int, ProbeState], stopping: bool) -> ProbeState:
    """`workers`: the latest report of each worker that listens, by worker index."""
    if stopping:
        return DRAINING
    if not workers:
        return STARTING
    reasons = [
        f"worker {index}: {state.reason}"
        for index, state in sorted(workers.items())
        if not state.serving
    ]
    return ProbeState(alive=True, serving=not reasons, reason="; ".join(reasons))
