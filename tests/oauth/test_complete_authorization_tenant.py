"""CompleteAuthorization matches the caller's tenant before a state is consumed: another
tenant presenting a state learns nothing and leaves it for its owner."""

from __future__ import annotations

import grpc
import pytest
from integration_api_proto.integration.v1 import CompleteAuthorizationRequest

from tests.oauth.support import OAuthWorld, query_of


async def test_another_tenant_presenting_a_state_leaves_it_for_its_owner(
    oauth: OAuthWorld,
) -> None:
    started = await oauth.start("google", "kept-for-owner")
    callback = query_of(await oauth.authorize_code(started))
    request = CompleteAuthorizationRequest(state=callback["state"], code=callback["code"])
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await oauth.stub.complete_authorization(
            request, metadata=oauth.service.auth(organization_id="org-intruder")
        )
    assert raised.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "unknown" in (raised.value.details() or "")
    completed = await oauth.stub.complete_authorization(request, metadata=oauth.service.auth())
    assert completed.connection.name == "kept-for-owner"
    assert completed.connection.account_id == "4242"
