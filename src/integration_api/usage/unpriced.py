"""The pricer used until a price table is wired in: nothing costs anything, and a record that
used something billable says so (`unpriced`), so it can be found and priced later."""

from __future__ import annotations

from decimal import Decimal

from integration_api.usage.ports import FREE, Cost
from integration_api.usage.record import UsageRecord

UNPRICED = Cost(micros=Decimal(0), unpriced=True)


def billable(record: UsageRecord) -> bool:
    """Whether the record used any unit a price could apply to."""
    return any(
        (amount or 0) > 0
        for amount in (
            record.input_tokens,
            record.output_tokens,
            record.audio_seconds_in,
            record.audio_seconds_out,
            record.characters,
            record.search_units,
        )
    )


class UnpricedPricer:
    def cost(self, record: UsageRecord) -> Cost:
        return UNPRICED if billable(record) else FREE


UNPRICED_PRICER = UnpricedPricer()
