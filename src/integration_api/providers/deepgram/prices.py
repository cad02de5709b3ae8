"""Deepgram's list prices, shipped as defaults (seeded once per model; operators change them
with SetPrice). Nova-3 is priced at the pay-as-you-go streaming rate for monolingual (English)
audio, what the service's streaming transcription sends by default. The model name does not say
whether a call was multilingual ($0.0058 per minute) or pre-recorded (the pages read disagree:
$0.0043 or $0.0077), so those are priced at the same figure; operators change it with SetPrice.

Left out: Aura-2 (per 1M characters). No page read states an Aura-2 figure; the ones found are
resellers' Aura-1 prices.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from integration_api.providers.deepgram.verification import PROVIDER
from integration_api.store.usage_prices import PriceAmounts
from integration_api.usage.pricing import ShippedPrice

TAKEN = date(2026, 12, 6)

PRICES: tuple[ShippedPrice, ...] = (
    ShippedPrice(
        provider=PROVIDER,
        model="nova-3",
        amounts=PriceAmounts(usd_per_audio_minute_in=Decimal("0.0048")),
        taken=TAKEN,
        note=(
            "Deepgram Nova-3 monolingual streaming, pay as you go, per audio minute "
            "(deepgram.com/pricing) as reported by "
            "https://raw.githubusercontent.com/hail-hq/hail/main/costs/stt.json and "
            "https://raw.githubusercontent.com/D3velop-llc/open-gauntlet-leaderboard/main/"
            "data/asr.json, read 2026-12-06"
        ),
    ),
)
