"""Callbacks refused before they matched a pending authorization: counted, logged sampled,
never audited.

Anyone on the internet can send the shim a callback, so an unknown state says nothing about a
tenant; appending each to the audit chain would let a flood grow it forever and contend for
its lock. They are counted by reason in Prometheus and logged at most once per reason per
`LOG_INTERVAL_SECONDS`, with how many lines were held back since the last one. Only callbacks
whose state matched a pending authorization are audited (by the flow).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import structlog
from prometheus_client import Counter

log = structlog.get_logger("integration_api.oauth.callback")

LOG_INTERVAL_SECONDS = 60.0

CALLBACK_REFUSALS = Counter(
    "integration_api_oauth_callback_refusals_total",
    "OAuth callbacks refused before matching a pending authorization, by reason "
    "(state_unknown, state_missing, parameter_repeated, parameter_too_long, rate_limited, "
    "connection_limit, body_not_allowed).",
    ["reason"],
)


class SampledLog:
    """One log line per reason per interval; the lines held back are counted in the next."""

    def __init__(
        self,
        event: str,
        interval_seconds: float = LOG_INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._event = event
        self._interval = interval_seconds
        self._clock = clock
        self._last: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}

    def __call__(self, reason: str, **fields: object) -> bool:
        """Log (True) or hold back (False) one occurrence of `reason`."""
        now = self._clock()
        last = self._last.get(reason)
        if last is not None and now - last < self._interval:
            self._suppressed[reason] = self._suppressed.get(reason, 0) + 1
            return False
        self._last[reason] = now
        suppressed = self._suppressed.pop(reason, 0)
        log.warning(self._event, reason=reason, suppressed=suppressed, **fields)
        return True


_unmatched_log = SampledLog("oauth_callback_refused")


def count_unmatched(reason: str, **fields: object) -> None:
    """Record one callback refused before (or without) matching a pending authorization;
    `reason` is one of the service's own codes, never the caller's text."""
    CALLBACK_REFUSALS.labels(reason).inc()
    _unmatched_log(reason, **fields)
