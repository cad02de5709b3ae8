"""Remembering that Redis stopped answering, so a fleet-wide store falls back for a while.

A store that keeps fleet-wide state in Redis (tenant caps, credential limits and breakers) keeps
answering from this process while Redis is down. After a failure it does not ask Redis again for
`RETRY_AFTER_OUTAGE_SECONDS`, so an outage costs one timeout a second rather than one per call,
and it logs the outage once and the recovery once, not every failed call.
"""

from __future__ import annotations

import time

import structlog
from redis.exceptions import RedisError

log = structlog.get_logger("integration_api.cache")

RETRY_AFTER_OUTAGE_SECONDS = 1.0


class RedisOutage:
    """Whether Redis is to be left alone for now; `falls_back` and `recovers` are log lines."""

    def __init__(self, *, falls_back: str, recovers: str) -> None:
        self._falls_back = falls_back
        self._recovers = recovers
        self._down_until = 0.0

    @property
    def resting(self) -> bool:
        """Redis failed less than `RETRY_AFTER_OUTAGE_SECONDS` ago: answer from the process."""
        return time.monotonic() < self._down_until

    def failed(self, error: RedisError) -> None:
        if self._down_until == 0.0:
            log.warning(self._falls_back, error=type(error).__name__)
        self._down_until = time.monotonic() + RETRY_AFTER_OUTAGE_SECONDS

    def answered(self) -> None:
        if self._down_until != 0.0:
            self._down_until = 0.0
            log.info(self._recovers)
