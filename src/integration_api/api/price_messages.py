"""Price messages to and from the price table's values."""

from __future__ import annotations

from decimal import Decimal

from integration_api_proto.integration.v1 import Price

from integration_api.ops.prices import PriceDraft, amount_text
from integration_api.store.usage_prices import AMOUNT_FIELDS, StoredPrice


def price_draft(message: Price | None) -> PriceDraft:
    price = message or Price()
    return PriceDraft(
        provider=price.provider,
        model=price.model,
        amounts={name: getattr(price, name) for name in AMOUNT_FIELDS},
        effective_from=price.effective_from,
        note=price.note,
    )


def price_message(stored: StoredPrice) -> Price:
    # Amounts as stored (numeric(20, 10)) read back with ten fractional digits.
    amounts = {name: _plain(getattr(stored.amounts, name)) for name in AMOUNT_FIELDS}
    return Price(
        provider=stored.provider,
        model=stored.model,
        effective_from=stored.effective_from,
        version=stored.version,
        source=stored.source,
        set_by=stored.set_by,
        set_at=stored.set_at,
        note=stored.note,
        **amounts,
    )


def _plain(amount: Decimal | None) -> str:
    return "" if amount is None else amount_text(amount)
