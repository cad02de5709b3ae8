"""Anthropic's published prices, shipped as defaults (seeded once per model; operators change
them with SetPrice). Cache writes are the 5-minute ones, the kind the service asks for."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from integration_api.providers.anthropic.verification import PROVIDER
from integration_api.store.usage_prices import PriceAmounts
from integration_api.usage.pricing import ShippedPrice

TAKEN = date(2026, 12, 6)
SOURCE = (
    "Anthropic model pricing table (base input, 5m cache writes, cache hits, output), "
    "https://platform.claude.com/docs/en/about-claude/pricing, read 2026-12-06"
)


def _claude(model: str, per_million: tuple[str, str, str, str]) -> ShippedPrice:
    base_input, cache_write, cache_hit, output = (Decimal(text) for text in per_million)
    return ShippedPrice(
        provider=PROVIDER,
        model=model,
        amounts=PriceAmounts(
            usd_per_million_input_tokens=base_input,
            usd_per_million_cache_write_input_tokens=cache_write,
            usd_per_million_cached_input_tokens=cache_hit,
            usd_per_million_output_tokens=output,
        ),
        taken=TAKEN,
        note=SOURCE,
    )


# Each entry is a family too: "claude-opus-4-5" prices "claude-opus-4-5-20251101".
PRICES: tuple[ShippedPrice, ...] = (
    _claude("claude-opus-5", ("5", "6.25", "0.50", "25")),
    _claude("claude-opus-4-8", ("5", "6.25", "0.50", "25")),
    _claude("claude-opus-4-7", ("5", "6.25", "0.50", "25")),
    _claude("claude-opus-4-6", ("5", "6.25", "0.50", "25")),
    _claude("claude-opus-4-5", ("5", "6.25", "0.50", "25")),
    _claude("claude-opus-4-1", ("15", "18.75", "1.50", "75")),
)
