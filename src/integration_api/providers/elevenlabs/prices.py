"""ElevenLabs' list prices: none shipped. The pages read disagree on the per-character price
of its API (Flash/Turbo at $0.05 or $0.06 per 1,000 characters, Multilingual v2 at $0.10 or
$0.12), and ElevenLabs' own pages were not in reach; operators set the price of their plan with
SetPrice (`usd_per_million_characters`), read 2026-12-06."""

from __future__ import annotations

from integration_api.usage.pricing import ShippedPrice

PRICES: tuple[ShippedPrice, ...] = ()
