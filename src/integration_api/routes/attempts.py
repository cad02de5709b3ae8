"""What every call through a route records of its attempts: each one in its report and in the
counters, and, when no target answered, the route and its attempts in the error that ends it."""

from __future__ import annotations

import time

from integration_api.errors import ServiceError
from integration_api.routes import metrics
from integration_api.routes.model import Attempt, AttemptOutcome, RouteTarget


def note_attempt(
    attempts: list[Attempt],
    *,
    label: str,
    operation: str,
    index: int,
    target: RouteTarget,
    outcome: AttemptOutcome,
    started: float,
    provider: str,
    requested_model: str,
    error: ServiceError | None,
) -> None:
    """Appends how target `index` fared (`started`: its `perf_counter` start) and counts it."""
    attempts.append(
        Attempt(
            target_index=index,
            credential_id=target.credential_id,
            provider=provider,
            model=target.model or requested_model,
            outcome=outcome,
            duration=time.perf_counter() - started,
            reason=error.reason if error is not None else "",
        )
    )
    metrics.count_attempt(label, index, operation, outcome)


def name_route_in(error: ServiceError, route_id: str, attempts: list[Attempt]) -> ServiceError:
    """`error`, its metadata saying which route the call took and how each target fared."""
    error.metadata["route_id"] = route_id
    error.metadata["route_attempts"] = ",".join(
        f"{attempt.target_index}:{attempt.outcome}" for attempt in attempts
    )
    return error
