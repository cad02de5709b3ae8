"""Google's Gemini API list prices, shipped as defaults (seeded once per model; operators change
them with SetPrice). Only the Gemini Developer API (`gemini`) is priced: Vertex AI is billed on
Google Cloud's own price list, not read here.

Figures are the paid tier for prompts up to 200k tokens; Gemini 2.5 Pro charges more above that
($2.50 input per 1M tokens), which one price per model cannot express, so longer prompts are
under-counted. Thinking tokens are billed as output (no reasoning figure: the output price
applies). Audio input to 2.5 Flash is billed higher ($1.00 per 1M tokens) than text, which the
record does not tell apart. Left out: cached input for 2.5 Pro (no figure two pages agree on;
cached tokens fall back to the input price).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from integration_api.providers.google.gemini import PROVIDER
from integration_api.store.usage_prices import PriceAmounts
from integration_api.usage.pricing import ShippedPrice

TAKEN = date(2026, 12, 6)
_TRANSCRIBED = (
    "ai.google.dev/gemini-api/docs/pricing as transcribed in "
    "https://raw.githubusercontent.com/api-evangelist/gemini/refs/heads/main/plans/"
    "gemini-plans-pricing.yml"
)


def _gemini(model: str, input_: str, cached: str | None, output: str, checked: str) -> ShippedPrice:
    return ShippedPrice(
        provider=PROVIDER,
        model=model,
        amounts=PriceAmounts(
            usd_per_million_input_tokens=Decimal(input_),
            usd_per_million_cached_input_tokens=None if cached is None else Decimal(cached),
            usd_per_million_output_tokens=Decimal(output),
        ),
        taken=TAKEN,
        note=f"Gemini API paid tier per 1M tokens (prompts <= 200k): {checked}, read 2026-12-06",
    )


PRICES: tuple[ShippedPrice, ...] = (
    _gemini(
        "gemini-2.5-pro",
        "1.25",
        None,
        "10.00",
        f"input from {_TRANSCRIBED}; input and output as reported by "
        "https://deploybase.ai/articles/gemini-api-pricing and "
        "https://github.com/schlebek/ai-wish-generator/releases/tag/v3.2.0",
    ),
    _gemini(
        "gemini-2.5-flash",
        "0.30",
        "0.075",
        "2.50",
        f"input from {_TRANSCRIBED}; input and output as reported by "
        "https://deploybase.ai/articles/gemini-2.5-pricing and "
        "https://github.com/schlebek/ai-wish-generator/releases/tag/v3.2.0; cached input as "
        "reported by https://jangwook.net/en/blog/en/gemini-25-flash-api-cost-optimization-guide/ "
        "and https://artifact.chat/models/gemini-2-5-flash",
    ),
    # Priced so that the `gemini-2.5-flash` family entry does not price it.
    _gemini(
        "gemini-2.5-flash-lite",
        "0.10",
        None,
        "0.40",
        f"output from {_TRANSCRIBED}; input and output as reported by "
        "https://jangwook.net/en/blog/en/gemini-25-flash-api-cost-optimization-guide/ and "
        "https://github.com/schlebek/ai-wish-generator/releases/tag/v3.2.0",
    ),
)
