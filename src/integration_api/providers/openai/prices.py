"""OpenAI's published prices, shipped as defaults (seeded once per model; operators change
them with SetPrice). Only figures read on OpenAI's own pages are shipped."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from integration_api.providers.openai.family import OPENAI
from integration_api.store.usage_prices import PriceAmounts
from integration_api.usage.pricing import ShippedPrice

TAKEN = date(2026, 12, 6)


def _speech(model: str, per_million_characters: str) -> ShippedPrice:
    return ShippedPrice(
        provider=OPENAI.provider,
        model=model,
        amounts=PriceAmounts(usd_per_million_characters=Decimal(per_million_characters)),
        taken=TAKEN,
        note=(
            "OpenAI speech generation, cost per 1M characters, "
            "https://developers.openai.com/api/docs/models/tts-1, read 2026-12-06"
        ),
    )


PRICES: tuple[ShippedPrice, ...] = (
    _speech("tts-1", "15.00"),
    _speech("tts-1-hd", "30.00"),
)
