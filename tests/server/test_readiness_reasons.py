"""Readiness says why a dependency is not ready in words, not as an exception's type."""

from __future__ import annotations

import asyncio

from grpc_health.v1._async import HealthServicer

from integration_api.server.readiness import Readiness, ReadinessCheck
from tests.fleet.processes import free_port


async def test_a_probe_that_raises_is_reported_by_its_cause() -> None:
    port = free_port()

    async def unreachable() -> str | None:
        await asyncio.open_connection("127.0.0.1", port)
        return None

    readiness = Readiness(
        HealthServicer(), [], [ReadinessCheck("upstream", unreachable)], interval_seconds=60
    )
    assert not await readiness.check_once()
    assert readiness.failures == {"upstream": "connection refused"}
