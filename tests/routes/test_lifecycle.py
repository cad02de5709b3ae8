"""A route through its whole life: created, read, listed, changed, deleted, every change audited."""

from __future__ import annotations

from datetime import timedelta

import grpc
import pytest
from integration_api_proto.google.protobuf import FieldMask
from integration_api_proto.integration.v1 import (
    CreateRouteRequest,
    DeleteRouteRequest,
    GetRouteRequest,
    ListRoutesRequest,
    RoutePolicy,
    RouteTarget,
    UpdateRouteRequest,
)
from integration_api_proto.integration.v1.grpc_aio import RouteServiceStub

from tests.credentials.helpers import error_info, field_violations
from tests.routes.conftest import create_route, stored_credential
from tests.support.service import RunningService


async def test_create_get_update_delete_round_trip(
    service: RunningService, routes: RouteServiceStub
) -> None:
    first = await stored_credential(service, "first")
    second = await stored_credential(service, "second")
    request = CreateRouteRequest(
        name="chat-primary",
        policy=RoutePolicy.BALANCE,
        targets=[
            RouteTarget(credential_id=first, model="gpt-4o-mini", weight=3),
            RouteTarget(credential_id=second, model="gpt-4o", voice="alloy"),
        ],
        first_token_timeout=timedelta(milliseconds=1500),
    )
    created = (await routes.create_route(request, metadata=service.auth())).route
    assert created is not None
    assert created.name == "chat-primary"
    assert created.policy == RoutePolicy.BALANCE
    assert [(t.credential_id, t.model, t.weight, t.voice) for t in created.targets] == [
        (first, "gpt-4o-mini", 3, ""),
        # Weight 0 in the request means the default share of 1.
        (second, "gpt-4o", 1, "alloy"),
    ]
    assert created.first_token_timeout == timedelta(milliseconds=1500)
    assert created.version == 1
    assert created.created_by == "subject:user-1"
    assert created.created_at is not None

    fetched = (
        await routes.get_route(GetRouteRequest(id=created.id), metadata=service.auth())
    ).route
    assert fetched == created

    updated = (
        await routes.update_route(
            UpdateRouteRequest(
                id=created.id,
                policy=RoutePolicy.FAILOVER,
                update_mask=FieldMask(paths=["policy", "first_token_timeout"]),
                expected_version=1,
            ),
            metadata=service.auth(),
        )
    ).route
    assert updated is not None
    assert updated.policy == RoutePolicy.FAILOVER
    # In the mask but unset: the deadline is cleared. Not in the mask: unchanged.
    assert updated.first_token_timeout is None
    assert updated.name == "chat-primary"
    assert updated.targets == created.targets
    assert updated.version == 2

    await routes.delete_route(DeleteRouteRequest(id=created.id), metadata=service.auth())
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await routes.get_route(GetRouteRequest(id=created.id), metadata=service.auth())
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    assert error_info(missing.value).reason == "ROUTE_NOT_FOUND"

    pool = service.app.runtime.database.pool
    rows = await pool.fetch(
        "SELECT action, actor, target_id, details FROM audit_events"
        " WHERE target_type = 'route' ORDER BY id"
    )
    assert [row["action"] for row in rows] == ["route.create", "route.update", "route.delete"]
    assert {row["target_id"] for row in rows} == {created.id}
    assert {row["actor"] for row in rows} == {"subject:user-1"}
    assert rows[0]["details"]["credential_ids"] == [first, second]
    assert rows[1]["details"]["changed"] == ["first_token_timeout", "policy"]


async def test_an_update_without_a_mask_replaces_every_field(
    service: RunningService, routes: RouteServiceStub
) -> None:
    first = await stored_credential(service, "first")
    second = await stored_credential(service, "second")
    created = await create_route(service, "speech", [first])
    updated = (
        await routes.update_route(
            UpdateRouteRequest(
                id=created.id,
                name="speech-eu",
                policy=RoutePolicy.FAILOVER,
                targets=[RouteTarget(credential_id=second), RouteTarget(credential_id=first)],
                first_token_timeout=timedelta(seconds=2),
            ),
            metadata=service.auth(),
        )
    ).route
    assert updated is not None
    assert updated.name == "speech-eu"
    assert [target.credential_id for target in updated.targets] == [second, first]
    assert updated.first_token_timeout == timedelta(seconds=2)


async def test_a_stale_expected_version_is_aborted(
    service: RunningService, routes: RouteServiceStub
) -> None:
    credential = await stored_credential(service)
    created = await create_route(service, "chat", [credential])
    rename = UpdateRouteRequest(
        id=created.id, name="chat-2", update_mask=FieldMask(paths=["name"]), expected_version=1
    )
    await routes.update_route(rename, metadata=service.auth())
    with pytest.raises(grpc.aio.AioRpcError) as stale:
        await routes.update_route(rename, metadata=service.auth())
    assert stale.value.code() == grpc.StatusCode.ABORTED
    assert error_info(stale.value).metadata["current_version"] == "2"

    # Versions start at 1: a negative one is no version the route ever had, not a race.
    negative = UpdateRouteRequest(
        id=created.id, name="chat-3", update_mask=FieldMask(paths=["name"]), expected_version=-1
    )
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await routes.update_route(negative, metadata=service.auth())
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(field_violations(refused.value)) == {"expected_version"}


async def test_a_taken_name_is_already_exists(
    service: RunningService, routes: RouteServiceStub
) -> None:
    credential = await stored_credential(service)
    await create_route(service, "chat", [credential])
    with pytest.raises(grpc.aio.AioRpcError) as taken:
        await create_route(service, "chat", [credential])
    assert taken.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert error_info(taken.value).metadata["field"] == "name"
    # Another tenant may use the same name.
    other = await stored_credential(service, organization_id="org-other")
    await create_route(service, "chat", [other], organization_id="org-other")


async def test_routes_are_listed_by_name_in_pages(
    service: RunningService, routes: RouteServiceStub
) -> None:
    credential = await stored_credential(service)
    names = ["epsilon", "alpha", "delta", "beta", "gamma"]
    for name in names:
        await create_route(service, name, [credential])
    other = await stored_credential(service, organization_id="org-other")
    await create_route(service, "aardvark", [other], organization_id="org-other")

    seen: list[str] = []
    token = ""
    pages = 0
    while True:
        page = await routes.list_routes(
            ListRoutesRequest(page_size=2, page_token=token), metadata=service.auth()
        )
        seen += [route.name for route in page.routes]
        pages += 1
        token = page.next_page_token
        if not token:
            break
    assert seen == sorted(names)
    assert pages == 3

    first_page = await routes.list_routes(ListRoutesRequest(page_size=2), metadata=service.auth())
    with pytest.raises(grpc.aio.AioRpcError) as foreign_token:
        await routes.list_routes(
            ListRoutesRequest(page_token=first_page.next_page_token),
            metadata=service.auth(organization_id="org-other"),
        )
    assert foreign_token.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "page_token" in field_violations(foreign_token.value)

    with pytest.raises(grpc.aio.AioRpcError) as too_big:
        await routes.list_routes(ListRoutesRequest(page_size=101), metadata=service.auth())
    assert "page_size" in field_violations(too_big.value)


async def test_routes_with_the_longest_names_are_listed_in_pages(
    service: RunningService, routes: RouteServiceStub
) -> None:
    # 64 characters outside the Basic Multilingual Plane: the longest name a route may have, in
    # the most bytes its page token can hold.
    credential = await stored_credential(service)
    names = [chr(0x1F600 + index) * 64 for index in range(3)]
    for name in names:
        await create_route(service, name, [credential])

    seen: list[str] = []
    token = ""
    while True:
        page = await routes.list_routes(
            ListRoutesRequest(page_size=1, page_token=token), metadata=service.auth()
        )
        seen += [route.name for route in page.routes]
        token = page.next_page_token
        if not token:
            break
    assert seen == names
