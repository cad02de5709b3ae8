"""AssemblyAI's list prices, shipped as defaults (seeded once per model; operators change them
with SetPrice). AssemblyAI bills a stream for as long as its session is open, while the record
counts the audio sent: a session held open in silence costs more than the ledger shows.

Left out: Universal-3 Pro Streaming and Universal-Streaming Multilingual (no figure from
AssemblyAI's own pages, nor two others that agree).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from integration_api.providers.assemblyai.verification import PROVIDER
from integration_api.store.usage_prices import PriceAmounts
from integration_api.usage.pricing import ShippedPrice

TAKEN = date(2026, 12, 6)

PRICES: tuple[ShippedPrice, ...] = (
    ShippedPrice(
        provider=PROVIDER,
        model="universal-streaming-english",
        # $0.15 per hour.
        amounts=PriceAmounts(usd_per_audio_minute_in=Decimal("0.0025")),
        taken=TAKEN,
        note=(
            "AssemblyAI Universal-Streaming, $0.15 per hour, "
            "https://www.assemblyai.com/blog/introducing-universal-streaming, read 2026-12-06"
        ),
    ),
)
