"""One provider call as the ledger keeps it: who, through what, what it used, how it ended.

A pipeline makes one `UsageRecord` when its call ends (whatever the outcome) and hands it to the
`UsageLedger` port; pricing, batching and writing happen off the request path. A count the
provider did not report stays None: it is never confused with 0.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass

from integration_api.principal import Tenant

# Operations as recorded (usage.proto lists them).
CHAT = "chat"
EMBED = "embed"
RERANK = "rerank"
TRANSCRIBE = "transcribe"
SYNTHESIZE = "synthesize"
SYNTHESIZE_STREAM = "synthesize_stream"
PLACE_CALL = "place_call"
GET_CALL = "get_call"
UPDATE_CALL = "update_call"
HANG_UP = "hang_up"
OK = "ok"


# Tokens (input, cached input, cache write, output, reasoning), audio seconds in and out,
# characters and search units.
Quantities = tuple[
    int | None,
    int | None,
    int | None,
    int | None,
    int | None,
    float | None,
    float | None,
    int | None,
    int | None,
]


@dataclass(frozen=True, slots=True)
class RouteAttribution:
    """The route and target a call runs for; set by the route around each attempt."""

    route_id: str
    target: int


# Read by the pipelines when they make their record: the route sets it around each attempt, so
# a pipeline needs no parameter to know it runs for one.
ROUTE_ATTEMPT: contextvars.ContextVar[RouteAttribution | None] = contextvars.ContextVar(
    "route_attempt", default=None
)


@dataclass(frozen=True, slots=True)
class UsageRecord:
    tenant: Tenant
    operation: str
    provider: str
    # "ok", "cancelled", or the gRPC status name in lower case (llm.pipeline.outcome_of).
    outcome: str
    # Wall clock (seconds since the epoch) when the call started: the price in force then applies.
    started_at: float
    duration_seconds: float
    credential_id: str = ""
    model: str = ""
    voice: str = ""
    route: RouteAttribution | None = None
    input_tokens: int | None = None
    cached_input_tokens: int | None = None
    cache_write_input_tokens: int | None = None
    output_tokens: int | None = None
    reasoning_tokens: int | None = None
    audio_seconds_in: float | None = None
    audio_seconds_out: float | None = None
    characters: int | None = None
    search_units: int | None = None
    provider_request_id: str = ""

    @property
    def tokens(self) -> int:
        """What a token budget counts: input and output tokens, as reported."""
        return (self.input_tokens or 0) + (self.output_tokens or 0)

    @property
    def quantities(self) -> Quantities:
        """Every count a price can bill, in the order of the ledger's columns (None: not
        reported)."""
        return (
            self.input_tokens,
            self.cached_input_tokens,
            self.cache_write_input_tokens,
            self.output_tokens,
            self.reasoning_tokens,
            self.audio_seconds_in,
            self.audio_seconds_out,
            self.characters,
            self.search_units,
        )

    @property
    def billable(self) -> bool:
        """Whether the call used anything a price could bill (counts are never negative)."""
        return any(self.quantities)
