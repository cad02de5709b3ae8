"""A route never names a credential that is gone: a credential a route names cannot be deleted,
and a credential deleted while a route is being written to name it is caught either way."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from integration_api_proto.google.protobuf import FieldMask
from integration_api_proto.integration.v1 import (
    DeleteCredentialRequest,
    DisableCredentialRequest,
    GetRouteRequest,
    RouteTarget,
    UpdateRouteRequest,
)
from integration_api_proto.integration.v1.grpc_aio import CredentialServiceStub, RouteServiceStub

from tests.credentials.helpers import error_info
from tests.routes.conftest import create_route, stored_credential
from tests.support.service import RunningService


async def test_a_routed_credential_cannot_be_deleted_until_no_route_names_it(
    service: RunningService, routes: RouteServiceStub
) -> None:
    kept = await stored_credential(service, "kept")
    doomed = await stored_credential(service, "doomed")
    # Named in upper case: stored as the credential's own (canonical) id all the same.
    route = await create_route(service, "chat", [kept, doomed.upper()])
    assert [target.credential_id for target in route.targets] == [kept, doomed]
    credentials = CredentialServiceStub(service.channel)

    with pytest.raises(grpc.aio.AioRpcError) as in_use:
        await credentials.delete_credential(
            DeleteCredentialRequest(id=doomed), metadata=service.auth()
        )
    assert in_use.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_info(in_use.value).reason == "CREDENTIAL_IN_USE"
    assert "'chat'" in (in_use.value.details() or "")
    # Disabling it is the way to stop its use at once; the route keeps it.
    await credentials.disable_credential(
        DisableCredentialRequest(id=doomed, reason="leaked"), metadata=service.auth()
    )

    await routes.update_route(
        UpdateRouteRequest(
            id=route.id,
            targets=[RouteTarget(credential_id=kept)],
            update_mask=FieldMask(paths=["targets"]),
        ),
        metadata=service.auth(),
    )
    await credentials.delete_credential(DeleteCredentialRequest(id=doomed), metadata=service.auth())
    still = await routes.get_route(GetRouteRequest(id=route.id), metadata=service.auth())
    assert still.route is not None
    assert [target.credential_id for target in still.route.targets] == [kept]


async def test_a_route_written_while_its_credential_is_deleted_never_dangles(
    service: RunningService,
) -> None:
    credentials = CredentialServiceStub(service.channel)
    kept = await stored_credential(service, "kept")
    for attempt in range(12):
        contested = await stored_credential(service, f"contested-{attempt}")
        created, deleted = await asyncio.gather(
            create_route(service, f"race-{attempt}", [kept, contested]),
            credentials.delete_credential(
                DeleteCredentialRequest(id=contested), metadata=service.auth()
            ),
            return_exceptions=True,
        )
        # Exactly one of the two writes wins.
        if isinstance(created, BaseException):
            assert isinstance(created, grpc.aio.AioRpcError), created
            assert created.code() == grpc.StatusCode.NOT_FOUND
            assert not isinstance(deleted, BaseException), deleted
        else:
            assert isinstance(deleted, grpc.aio.AioRpcError), deleted
            assert deleted.code() == grpc.StatusCode.FAILED_PRECONDITION

    pool = service.app.runtime.database.pool
    dangling = await pool.fetchval(
        """
        SELECT count(*) FROM routes, jsonb_array_elements(routes.targets) AS target
        WHERE NOT EXISTS (
            SELECT 1 FROM credentials WHERE credentials.id = (target->>'credential_id')::uuid)
        """
    )
    assert dangling == 0
