"""What a route may say: every field checked before anything is stored, all faults at once."""

from __future__ import annotations

from datetime import timedelta

import grpc
import pytest
from integration_api_proto.google.protobuf import FieldMask
from integration_api_proto.integration.v1 import (
    CreateRouteRequest,
    RoutePolicy,
    RouteTarget,
    UpdateRouteRequest,
)
from integration_api_proto.integration.v1.grpc_aio import RouteServiceStub

from tests.credentials.helpers import field_violations
from tests.routes.conftest import create_route, stored_credential
from tests.support.service import RunningService


async def _refused(
    service: RunningService, routes: RouteServiceStub, request: CreateRouteRequest
) -> dict[str, str]:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await routes.create_route(request, metadata=service.auth())
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    return field_violations(refused.value)


async def test_every_field_is_checked(service: RunningService, routes: RouteServiceStub) -> None:
    credential = await stored_credential(service)
    target = RouteTarget(credential_id=credential)

    assert set(await _refused(service, routes, CreateRouteRequest())) == {
        "name",
        "policy",
        "targets",
    }
    nine = [RouteTarget(credential_id=credential, model=f"m{index}") for index in range(9)]
    violations = await _refused(
        service,
        routes,
        CreateRouteRequest(name="x" * 65, policy=RoutePolicy.FAILOVER, targets=nine),
    )
    assert set(violations) == {"name", "targets"}
    assert "at most 8" in violations["targets"]

    violations = await _refused(
        service,
        routes,
        CreateRouteRequest(
            name=" padded",
            policy=RoutePolicy(7),
            targets=[
                RouteTarget(),
                RouteTarget(credential_id=credential, model="m\n", weight=1001),
                target,
                target,
            ],
            first_token_timeout=timedelta(milliseconds=10),
        ),
    )
    assert set(violations) == {
        "name",
        "policy",
        "targets[0].credential_id",
        "targets[1].model",
        "targets[1].weight",
        "targets[3]",
        "first_token_timeout",
    }

    too_long = CreateRouteRequest(
        name="slow",
        policy=RoutePolicy.FAILOVER,
        targets=[target],
        first_token_timeout=timedelta(minutes=11),
    )
    assert set(await _refused(service, routes, too_long)) == {"first_token_timeout"}


async def test_an_update_checks_only_what_it_changes(
    service: RunningService, routes: RouteServiceStub
) -> None:
    credential = await stored_credential(service)
    created = await create_route(service, "chat", [credential])
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await routes.update_route(
            UpdateRouteRequest(id=created.id, update_mask=FieldMask(paths=["targets"])),
            metadata=service.auth(),
        )
    assert set(field_violations(refused.value)) == {"targets"}

    with pytest.raises(grpc.aio.AioRpcError) as unknown_path:
        await routes.update_route(
            UpdateRouteRequest(id=created.id, update_mask=FieldMask(paths=["version"])),
            metadata=service.auth(),
        )
    assert set(field_violations(unknown_path.value)) == {"update_mask"}

    renamed = await routes.update_route(
        UpdateRouteRequest(id=created.id, name="chat-eu", update_mask=FieldMask(paths=["name"])),
        metadata=service.auth(),
    )
    assert renamed.route is not None
    assert renamed.route.name == "chat-eu"
