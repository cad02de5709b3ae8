"""The pricer used until a price table is wired in: nothing costs anything, and a record that
used something billable says so (`unpriced`), so it can be found and priced later."""

from __future__ import annotations

from integration_api.usage.ports import FREE, UNPRICED, Cost
from integration_api.usage.record import UsageRecord


class UnpricedPricer:
    def cost(self, record: UsageRecord) -> Cost:
        return UNPRICED if record.billable else FREE


UNPRICED_PRICER = UnpricedPricer()
