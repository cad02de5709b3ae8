from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.service import RunningService, running_service


@pytest.fixture
async def service(postgres_dsn: str) -> AsyncIterator[RunningService]:
    async with running_service(postgres_dsn) as running:
        yield running
