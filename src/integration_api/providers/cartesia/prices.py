"""Cartesia's list prices: none shipped. Cartesia sells plans of credits; no per-character or
per-minute list price was found on its pages or agreed on by two others (read 2026-12-06), so
operators set the price of their plan with SetPrice."""

from __future__ import annotations

from integration_api.usage.pricing import ShippedPrice

PRICES: tuple[ShippedPrice, ...] = ()
