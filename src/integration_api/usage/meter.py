"""What one provider call used, gathered while it runs and recorded once when it ends.

A pipeline opens a `UsageMeter` when its call starts (the wall clock then is the time the call
is priced at, and the route attempt it runs for is read then), fills it in as it learns (the
credential, the model, what the provider reported) and ends it exactly once, in its `finally`.
A call the service refused itself before any provider request (a budget, a cap, an open breaker)
is never marked `sent` and leaves no record: it is a metric, not usage.

Ending costs one record and one append to the ledger's buffer; nothing is done per chunk.
"""

from __future__ import annotations

import time

from integration_api.principal import Tenant
from integration_api.usage.ports import NO_LEDGER, UsageLedger
from integration_api.usage.record import OK, ROUTE_ATTEMPT, UsageRecord

CANCELLED = "cancelled"


class UsageMeter:
    """One call's record in the making."""

    __slots__ = (
        "_ended",
        "_ledger",
        "_started",
        "audio_seconds_in",
        "audio_seconds_out",
        "cache_write_input_tokens",
        "cached_input_tokens",
        "characters",
        "completed",
        "credential_id",
        "input_tokens",
        "model",
        "operation",
        "outcome",
        "output_tokens",
        "provider",
        "provider_request_id",
        "reasoning_tokens",
        "route",
        "search_units",
        "sent",
        "started_at",
        "tenant",
        "voice",
    )

    def __init__(self, ledger: UsageLedger, tenant: Tenant, operation: str) -> None:
        self._ledger = ledger
        self._ended = False
        self._started = time.perf_counter()
        self.started_at = time.time()
        self.route = ROUTE_ATTEMPT.get()
        self.tenant = tenant
        self.operation = operation
        self.provider = ""
        self.credential_id = ""
        self.model = ""
        self.voice = ""
        self.outcome = OK
        # The call's final answer has been produced: a caller leaving after it does not cancel.
        self.completed = False
        # A provider request was (being) made: only then is the call usage.
        self.sent = False
        self.provider_request_id = ""
        self.input_tokens: int | None = None
        self.cached_input_tokens: int | None = None
        self.cache_write_input_tokens: int | None = None
        self.output_tokens: int | None = None
        self.reasoning_tokens: int | None = None
        self.audio_seconds_in: float | None = None
        self.audio_seconds_out: float | None = None
        self.characters: int | None = None
        self.search_units: int | None = None

    def through(self, provider: str, credential_id: str) -> None:
        """The credential the call resolved to."""
        self.provider = provider
        self.credential_id = credential_id

    def fail(self, outcome: str) -> None:
        """The call ended with `outcome` (a status name, or "cancelled") — unless its answer was
        complete already and only the caller's leaving came after it."""
        if self.completed and outcome == CANCELLED:
            return
        self.outcome = outcome

    def add_input_tokens(self, count: int | None) -> None:
        """Input tokens of one of several provider requests (embedding batches)."""
        if count is not None:
            self.input_tokens = (self.input_tokens or 0) + count

    def end(self) -> None:
        """Records the call once (a second end, or a call never sent, records nothing)."""
        if self._ended:
            return
        self._ended = True
        if not self.sent or self._ledger is NO_LEDGER:
            return
        self._ledger.record(self._record())

    def _record(self) -> UsageRecord:
        return UsageRecord(
            tenant=self.tenant,
            operation=self.operation,
            provider=self.provider,
            outcome=self.outcome,
            started_at=self.started_at,
            duration_seconds=time.perf_counter() - self._started,
            credential_id=self.credential_id,
            model=self.model,
            voice=self.voice,
            route=self.route,
            input_tokens=self.input_tokens,
            cached_input_tokens=self.cached_input_tokens,
            cache_write_input_tokens=self.cache_write_input_tokens,
            output_tokens=self.output_tokens,
            reasoning_tokens=self.reasoning_tokens,
            audio_seconds_in=self.audio_seconds_in,
            audio_seconds_out=self.audio_seconds_out,
            characters=self.characters,
            search_units=self.search_units,
            provider_request_id=self.provider_request_id,
        )
