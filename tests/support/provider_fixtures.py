"""Package-scoped fixtures for test packages that call providers through the real service:
one running service on the package's own database, and a replay server per provider with a
credential stored for each. A package's conftest imports them by name."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.llm.upstreams import Upstream, upstreams
from tests.support.service import RunningService, running_service


@pytest.fixture(scope="package")
async def service(package_database_dsn: str) -> AsyncIterator[RunningService]:
    async with running_service(package_database_dsn) as running:
        yield running


@pytest.fixture(scope="package")
async def all_upstreams(service: RunningService) -> AsyncIterator[dict[str, Upstream]]:
    async with upstreams(service) as found:
        yield found
