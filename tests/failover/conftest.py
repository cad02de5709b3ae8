"""One running service for the package, and two fresh fake providers per test, each with a
stored key (a canary that must never come back in any answer, error or metric)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.failover.flaky_provider import FlakyProvider
from tests.failover.support import Target, store_key
from tests.support.provider_fixtures import service
from tests.support.service import RunningService


@pytest.fixture
async def first(service: RunningService) -> AsyncIterator[Target]:
    async with FlakyProvider("alpha") as provider:
        yield await store_key(service, provider)


@pytest.fixture
async def second(service: RunningService) -> AsyncIterator[Target]:
    async with FlakyProvider("bravo") as provider:
        yield await store_key(service, provider)


__all__ = ["service"]
