"""Credentials whose circuit breaker is open, shown as such in the inventory and in Opstage.

A breaker lives in the call gate (fleet-wide in Redis), not in the database, so it is laid over
the status a credential's last check gives it: an open (or half-open, trying one call) breaker
shows as `circuit_open`, except on a disabled credential, which is refused before its breaker
matters.
"""

from __future__ import annotations

import dataclasses

from integration_api.credentials.call_gate import CallGate
from integration_api.store.inventory import InventoryRow

CIRCUIT_OPEN_STATUS = "circuit_open"


async def with_breakers(rows: list[InventoryRow], gate: CallGate | None) -> list[InventoryRow]:
    if gate is None or not rows:
        return rows
    open_ids = await gate.breaker_states([row.credential.id for row in rows])
    if not open_ids:
        return rows
    return [
        dataclasses.replace(row, effective_status=CIRCUIT_OPEN_STATUS)
        if row.credential.id in open_ids and row.effective_status != "disabled"
        else row
        for row in rows
    ]
