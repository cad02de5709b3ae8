"""What each provider was used for in a period, from the ledger's hourly sums (for Opstage)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from integration_api.store.database import ConnectionPool


@dataclass(frozen=True, slots=True)
class ProviderUsage:
    calls: int
    # Input and output tokens.
    tokens: int
    # Transcribed and synthesized.
    audio_seconds: float
    characters: int
    cost_micros: Decimal


_BY_PROVIDER = """
SELECT provider,
       sum(calls)::bigint AS calls,
       sum(input_tokens + output_tokens)::bigint AS tokens,
       sum(audio_seconds_in + audio_seconds_out) AS audio_seconds,
       sum(characters)::bigint AS characters,
       sum(cost_micros) AS cost_micros
FROM usage_hourly
WHERE hour >= $1 AND hour < $2
GROUP BY provider"""


async def usage_by_provider(
    pool: ConnectionPool, start: datetime, end: datetime
) -> dict[str, ProviderUsage]:
    """Sums over whole hours in [start, end) (the period's bounds are whole hours)."""
    records = await pool.fetch(_BY_PROVIDER, start, end)
    return {
        record["provider"]: ProviderUsage(
            calls=record["calls"],
            tokens=record["tokens"],
            audio_seconds=float(record["audio_seconds"]),
            characters=record["characters"],
            cost_micros=Decimal(record["cost_micros"]),
        )
        for record in records
    }
