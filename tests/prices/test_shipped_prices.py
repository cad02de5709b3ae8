"""The shipped defaults: each prices something, and each model the service calls by a longer
name is priced by its own entry, not by a shorter family one."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from integration_api.providers.registry import DEFAULT_PRICES
from integration_api.store.usage_prices import AMOUNT_FIELDS, StoredPrice
from integration_api.usage.pricing import PriceTable

NOW = datetime.now(UTC).timestamp()


def _table() -> PriceTable:
    return PriceTable(
        StoredPrice(
            id=index,
            provider=item.provider,
            model=item.model,
            version=1,
            effective_from=item.effective_from,
            amounts=item.amounts,
            source="default",
            set_by="service:defaults",
            set_at=item.effective_from,
            note=item.note,
        )
        for index, item in enumerate(DEFAULT_PRICES, start=1)
    )


def test_every_shipped_default_bills_something() -> None:
    for item in DEFAULT_PRICES:
        assert any(getattr(item.amounts, name) is not None for name in AMOUNT_FIELDS), item.model


@pytest.mark.parametrize(
    ("provider", "model", "entry"),
    [
        ("openai", "gpt-4o-mini-2024-07-18", "gpt-4o-mini"),
        ("openai", "gpt-4o-2024-08-06", "gpt-4o"),
        ("openai", "gpt-4o-mini-transcribe", "gpt-4o-mini-transcribe"),
        ("openai", "gpt-4o-transcribe", "gpt-4o-transcribe"),
        ("openai", "gpt-4.1-nano-2025-04-14", "gpt-4.1-nano"),
        ("openai", "o3-mini", "o3-mini"),
        ("openai", "o3-2025-04-16", "o3"),
        ("anthropic", "claude-sonnet-4-20250514", "claude-sonnet-4"),
        ("anthropic", "claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
        ("anthropic", "claude-haiku-4-5-20251001", "claude-haiku-4-5"),
        ("gemini", "gemini-2.5-flash-lite", "gemini-2.5-flash-lite"),
        ("gemini", "gemini-2.5-flash", "gemini-2.5-flash"),
        ("voyageai", "voyage-4-lite", "voyage-4-lite"),
        ("voyageai", "voyage-3.5-lite", "voyage-3.5-lite"),
        ("voyageai", "rerank-2.5-lite", "rerank-2.5-lite"),
        ("deepgram", "nova-3", "nova-3"),
    ],
)
def test_a_model_is_priced_by_its_own_entry(provider: str, model: str, entry: str) -> None:
    found = _table().price_for(provider, model, NOW)
    assert found is not None and found.model == entry


def test_the_anthropic_cache_figures_follow_its_documented_rule() -> None:
    # 5-minute cache writes at 1.25x the base input price, cache hits at 0.1x.
    for item in DEFAULT_PRICES:
        if item.provider != "anthropic":
            continue
        base = item.amounts.usd_per_million_input_tokens
        assert base is not None
        assert item.amounts.usd_per_million_cache_write_input_tokens == base * Decimal("1.25")
        assert item.amounts.usd_per_million_cached_input_tokens == base * Decimal("0.1")
