"""Voyage AI's list prices, shipped as defaults (seeded once per model; operators change them
with SetPrice). Embeddings and rerankers are both billed per token (a rerank's tokens are what
Voyage reports as `total_tokens`, which the record keeps as input tokens). Each account's free
tokens (200M for most models) are not modelled: the ledger counts list price from the first
token. Each family member is priced so that no shorter entry prices it (`voyage-4` would
otherwise price `voyage-4-lite`)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from integration_api.providers.voyage.verification import PROVIDER
from integration_api.store.usage_prices import PriceAmounts
from integration_api.usage.pricing import ShippedPrice

TAKEN = date(2026, 12, 6)
_CHECKED = (
    "Voyage AI list price per 1M tokens (docs.voyageai.com/docs/pricing) as reported by "
    "https://usagepricing.com/blueprint/voyage-ai and "
    "https://hivebook.wiki/wiki/voyage-ai-embeddings-rerankers-for-rag, read 2026-12-06"
)
_FIRST_PARTY = (
    "Voyage AI text embeddings, price per million tokens, https://docs.voyageai.com/pricing, "
    "read 2026-12-06"
)


def _voyage(model: str, per_million: str, note: str = _CHECKED) -> ShippedPrice:
    return ShippedPrice(
        provider=PROVIDER,
        model=model,
        amounts=PriceAmounts(usd_per_million_input_tokens=Decimal(per_million)),
        taken=TAKEN,
        note=note,
    )


PRICES: tuple[ShippedPrice, ...] = (
    _voyage("voyage-4-large", "0.12"),
    _voyage("voyage-4", "0.06"),
    _voyage("voyage-4-lite", "0.02"),
    _voyage("voyage-3-large", "0.18"),
    _voyage("voyage-3.5", "0.06"),
    _voyage("voyage-3.5-lite", "0.02"),
    _voyage("voyage-code-3", "0.18"),
    _voyage("voyage-3", "0.06", _FIRST_PARTY),
    _voyage("voyage-3-lite", "0.02", _FIRST_PARTY),
    _voyage("rerank-2.5", "0.05"),
    _voyage("rerank-2.5-lite", "0.02"),
)
