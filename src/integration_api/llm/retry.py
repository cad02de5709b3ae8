"""When a provider call that produced nothing yet may be tried again, and after how long.

Retried: errors marked retryable (rate limits, 408/409, 5xx, 529, connection failures), before
anything reached the caller, at most `max_attempts` times in all. The wait is a jittered
exponential backoff, lengthened to the provider's `Retry-After` when it asks for more. No retry
when the provider asks for more than `max_retry_after_seconds`, or when the wait would not end
before the caller's deadline: the caller then gets the error at once, with the provider's hint.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from integration_api.errors import ResourceExhausted, ServiceError


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 3
    base_delay_seconds: float = 0.2
    max_delay_seconds: float = 4.0
    max_retry_after_seconds: float = 10.0

    def backoff(self, attempts_made: int) -> float:
        """The jittered wait after `attempts_made` failures: half fixed, half random."""
        ceiling = min(self.max_delay_seconds, self.base_delay_seconds * 2 ** (attempts_made - 1))
        return float(ceiling / 2 + random.uniform(0, ceiling / 2))

    def delay_before_retry(
        self, error: ServiceError, attempts_made: int, remaining_seconds: float | None
    ) -> float | None:
        """Seconds to wait before the next attempt, or None to give up with `error`."""
        if not error.retryable or attempts_made >= self.max_attempts:
            return None
        delay = self.backoff(attempts_made)
        hinted = error.retry_after_seconds if isinstance(error, ResourceExhausted) else None
        if hinted is not None:
            if hinted > self.max_retry_after_seconds:
                return None
            delay = max(delay, hinted)
        if remaining_seconds is not None and delay >= remaining_seconds:
            return None
        return delay

    def give_up(self, error: ServiceError, attempts_made: int) -> ServiceError:
        """`error` as the caller gets it: a rate limit always says when to come back."""
        if (
            isinstance(error, ResourceExhausted)
            and error.retryable
            and error.retry_after_seconds is None
        ):
            error.retry_after_seconds = round(self.backoff(attempts_made + 1), 3)
        if attempts_made > 1:
            error.metadata.setdefault("attempts", str(attempts_made))
        return error
