"""Cohere's list prices, shipped as defaults (seeded once per model; operators change them with
SetPrice). Embed 4 is priced for text input; image inputs are billed higher ($0.47 per 1M
tokens), which the record does not tell apart.

Left out: Rerank (per 1,000 search units). Only one page read states $2.00 per 1,000 searches
for Rerank 3.5, and another reports that cohere.com listed no pay-as-you-go Rerank price on
2026-10-18; operators set it with SetPrice (`usd_per_thousand_search_units`). Command models:
not asked for here, left to operators.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from integration_api.providers.cohere.verification import PROVIDER
from integration_api.store.usage_prices import PriceAmounts
from integration_api.usage.pricing import ShippedPrice

TAKEN = date(2026, 12, 6)

PRICES: tuple[ShippedPrice, ...] = (
    ShippedPrice(
        provider=PROVIDER,
        model="embed-v4.0",
        amounts=PriceAmounts(usd_per_million_input_tokens=Decimal("0.12")),
        taken=TAKEN,
        note=(
            "Cohere Embed 4 list price per 1M text tokens as reported by "
            "https://developer.puter.com/tutorials/cohere-api-pricing/ and "
            "https://toolstac.com/ai/tool/cohere-embed-api/overview, read 2026-12-06"
        ),
    ),
)
