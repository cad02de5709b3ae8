"""Another tenant's route answers exactly like a missing one, and a route names only its own
tenant's credentials: another tenant's credential id is refused like an unknown one."""

from __future__ import annotations

import uuid

import grpc
import pytest
from integration_api_proto.google.protobuf import FieldMask
from integration_api_proto.integration.v1 import (
    DeleteRouteRequest,
    GetRouteRequest,
    RouteTarget,
    UpdateRouteRequest,
)
from integration_api_proto.integration.v1.grpc_aio import RouteServiceStub

from integration_api.errors import NotFound
from integration_api.principal import Tenant
from tests.credentials.helpers import error_info
from tests.routes.conftest import create_route, stored_credential
from tests.support.service import DEFAULT_ORGANIZATION, DEFAULT_PROJECT, RunningService

OTHER = {"organization_id": "org-other"}


async def test_another_tenants_credential_is_refused_like_an_unknown_one(
    service: RunningService, routes: RouteServiceStub
) -> None:
    own = await stored_credential(service)
    foreign = await stored_credential(service, **OTHER)
    answers: list[tuple[grpc.StatusCode, str, dict[str, str]]] = []
    for candidate in (foreign, str(uuid.uuid4()), "not-a-uuid"):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await create_route(service, "chat", [own, candidate])
        info = error_info(refused.value)
        metadata = {key: value for key, value in info.metadata.items() if key != "request_id"}
        answers.append((refused.value.code(), refused.value.details() or "", metadata))
    assert answers[0] == answers[1] == answers[2]
    code, details, metadata = answers[0]
    assert code == grpc.StatusCode.NOT_FOUND
    assert metadata == {"field": "targets[1].credential_id"}
    assert foreign not in details

    created = await create_route(service, "chat", [own])
    with pytest.raises(grpc.aio.AioRpcError) as refused_update:
        await routes.update_route(
            UpdateRouteRequest(
                id=created.id,
                targets=[RouteTarget(credential_id=foreign)],
                update_mask=FieldMask(paths=["targets"]),
            ),
            metadata=service.auth(),
        )
    assert refused_update.value.code() == grpc.StatusCode.NOT_FOUND
    assert error_info(refused_update.value).metadata["field"] == "targets[0].credential_id"


async def test_another_tenants_route_is_not_found_on_every_call(
    service: RunningService, routes: RouteServiceStub
) -> None:
    credential = await stored_credential(service, **OTHER)
    theirs = await create_route(service, "chat", [credential], organization_id="org-other")
    missing = str(uuid.uuid4())

    def calls(route_id: str) -> list[object]:
        mine = service.auth()
        rename = UpdateRouteRequest(id=route_id, name="x", update_mask=FieldMask(paths=["name"]))
        return [
            routes.get_route(GetRouteRequest(id=route_id), metadata=mine),
            routes.update_route(rename, metadata=mine),
            routes.delete_route(DeleteRouteRequest(id=route_id), metadata=mine),
        ]

    for foreign_call, missing_call in zip(calls(theirs.id), calls(missing), strict=True):
        with pytest.raises(grpc.aio.AioRpcError) as foreign_error:
            await foreign_call  # type: ignore[misc]
        with pytest.raises(grpc.aio.AioRpcError) as missing_error:
            await missing_call  # type: ignore[misc]
        assert foreign_error.value.code() == grpc.StatusCode.NOT_FOUND
        assert missing_error.value.code() == grpc.StatusCode.NOT_FOUND
        assert (foreign_error.value.details() or "").replace(theirs.id, "ID") == (
            missing_error.value.details() or ""
        ).replace(missing, "ID")

    # The owner still sees it unchanged, and the route source refuses it to anyone else.
    still = await routes.get_route(GetRouteRequest(id=theirs.id), metadata=service.auth(**OTHER))
    assert still.route == theirs
    route_source = service.app.runtime.route_ops
    with pytest.raises(NotFound):
        await route_source.route_for_use(Tenant(DEFAULT_ORGANIZATION, DEFAULT_PROJECT), theirs.id)
    used = await route_source.route_for_use(Tenant("org-other", DEFAULT_PROJECT), theirs.id)
    assert used.id == theirs.id
