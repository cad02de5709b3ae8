"""Routed calls read their route from the replica's memory, and every replica sees a change to a
route as soon as it commits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import pytest
from integration_api_proto.google.protobuf import FieldMask
from integration_api_proto.integration.v1 import (
    DeleteRouteRequest,
    RouteTarget,
    UpdateRouteRequest,
)
from integration_api_proto.integration.v1.grpc_aio import RouteServiceStub

from integration_api.errors import NotFound
from integration_api.principal import Tenant
from integration_api.routes.cache import RouteCache
from integration_api.routes.model import Route
from integration_api.routes.model import RouteTarget as DomainTarget
from integration_api.vault import generate_key
from tests.routes.conftest import create_route, stored_credential
from tests.support.service import (
    DEFAULT_ORGANIZATION,
    DEFAULT_PROJECT,
    RunningService,
    running_service,
)

TENANT = Tenant(DEFAULT_ORGANIZATION, DEFAULT_PROJECT)


@pytest.fixture
async def replicas(empty_database_dsn: str) -> AsyncIterator[tuple[RunningService, RunningService]]:
    # Replicas share the database, the keyring and the tokens' signing secret.
    shared = {"crypto_key": generate_key()}
    async with running_service(empty_database_dsn, **shared) as first:
        secret = first.settings.secret
        async with running_service(empty_database_dsn, secret=secret, **shared) as second:
            yield first, second


async def _eventually(check: Callable[[], Awaitable[bool]], seconds: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        try:
            assert await check()
            return
        except (AssertionError, NotFound):
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.02)


async def test_a_change_on_one_replica_reaches_the_other_replicas_cache(
    replicas: tuple[RunningService, RunningService],
) -> None:
    writer, reader = replicas
    first = await stored_credential(writer, "first")
    second = await stored_credential(writer, "second")
    created = await create_route(writer, "chat", [first])
    source = reader.app.runtime.route_ops

    cached = await source.route_for_use(TENANT, created.id)
    assert [target.credential_id for target in cached.targets] == [first]
    # Served from memory from now on: the very same object.
    assert await source.route_for_use(TENANT, created.id) is cached

    await RouteServiceStub(writer.channel).update_route(
        UpdateRouteRequest(
            id=created.id,
            targets=[RouteTarget(credential_id=second), RouteTarget(credential_id=first)],
            update_mask=FieldMask(paths=["targets"]),
        ),
        metadata=writer.auth(),
    )

    async def sees_the_new_targets() -> bool:
        route = await source.route_for_use(TENANT, created.id)
        return [target.credential_id for target in route.targets] == [second, first]

    await _eventually(sees_the_new_targets)

    await RouteServiceStub(writer.channel).delete_route(
        DeleteRouteRequest(id=created.id), metadata=writer.auth()
    )

    async def finds_it_gone() -> bool:
        try:
            await source.route_for_use(TENANT, created.id)
        except NotFound:
            return True
        return False

    await _eventually(finds_it_gone)


def _route(route_id: str, version: int) -> Route:
    now = datetime.now(UTC)
    return Route(
        id=route_id,
        tenant_id="org/project",
        name="chat",
        policy="failover",
        targets=(DomainTarget(credential_id="c"),),
        first_token_timeout=None,
        created_at=now,
        updated_at=now,
        created_by="subject:someone",
        version=version,
    )


async def test_a_read_that_started_before_a_change_does_not_fill_the_cache() -> None:
    cache = RouteCache()
    generation = cache.generation
    # The change commits (and its notification arrives) while the read is in flight ...
    await cache.forget("r1")
    # ... so the version the read loaded is stale and must not be kept.
    cache.put(TENANT, _route("r1", version=1), generation)
    assert cache.get(TENANT, "r1") is None

    cache.put(TENANT, _route("r1", version=2), cache.generation)
    assert cache.get(TENANT, "r1") is not None
    assert cache.get(Tenant("another", DEFAULT_PROJECT), "r1") is None


async def test_entries_expire_and_the_oldest_go_first() -> None:
    cache = RouteCache(ttl_seconds=0.05, max_entries=2)
    for route_id in ("a", "b", "c"):
        cache.put(TENANT, _route(route_id, 1), cache.generation)
    assert cache.get(TENANT, "a") is None
    assert cache.get(TENANT, "c") is not None
    await asyncio.sleep(0.06)
    assert cache.get(TENANT, "c") is None
