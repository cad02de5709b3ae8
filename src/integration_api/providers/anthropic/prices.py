"""Anthropic's published prices, shipped as defaults (seeded once per model; operators change
them with SetPrice). Cache writes are the 5-minute ones, the kind the service asks for; the
figures are Anthropic's own (its table states them, and they follow its rule: 5-minute cache
writes at 1.25x the base input price, cache hits at 0.1x). Sonnet 5 and later models are left
to operators: a `claude-sonnet-5` entry would also price `claude-sonnet-5-5`, whose cache-hit
price differs."""

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
# The Sonnet and Haiku rows, as the same page's localized edition lists them.
SOURCE_SONNET_HAIKU = (
    "Anthropic model pricing table (base input, 5m cache writes, cache hits, output), "
    "https://platform.claude.com/docs/zh-CN/about-claude/pricing, read 2026-12-06"
)


def _claude(
    model: str, per_million: tuple[str, str, str, str], source: str = SOURCE
) -> ShippedPrice:
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
        note=source,
    )


def _sonnet_haiku(model: str, per_million: tuple[str, str, str, str]) -> ShippedPrice:
    return _claude(model, per_million, SOURCE_SONNET_HAIKU)


# Each entry is a family too: "claude-opus-4-5" prices "claude-opus-4-5-20251101".
PRICES: tuple[ShippedPrice, ...] = (
    _claude("claude-opus-5", ("5", "6.25", "0.50", "25")),
    _claude("claude-opus-4-8", ("5", "6.25", "0.50", "25")),
    _claude("claude-opus-4-7", ("5", "6.25", "0.50", "25")),
    _claude("claude-opus-4-6", ("5", "6.25", "0.50", "25")),
    _claude("claude-opus-4-5", ("5", "6.25", "0.50", "25")),
    _claude("claude-opus-4-1", ("15", "18.75", "1.50", "75")),
    _sonnet_haiku("claude-sonnet-4-6", ("3", "3.75", "0.30", "15")),
    _sonnet_haiku("claude-sonnet-4-5", ("3", "3.75", "0.30", "15")),
    # Also the family of the dated Sonnet 4 ("claude-sonnet-4-20250514").
    _sonnet_haiku("claude-sonnet-4", ("3", "3.75", "0.30", "15")),
    _sonnet_haiku("claude-haiku-4-5", ("1", "1.25", "0.10", "5")),
)
