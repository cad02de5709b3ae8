"""A Vertex AI access token whose `expires_in` is not a lifetime is refused as a bad provider
response: never cached forever, never a crash on `Infinity`."""

from __future__ import annotations

import grpc
import pytest
from integration_api_proto.integration.v1 import ChatRequest
from integration_api_proto.integration.v1.grpc_aio import LlmServiceStub

from tests.fakes.google_oauth import TOKEN_PATH, FakeServiceAccount, install_token_endpoint
from tests.fakes.server import FakeServer
from tests.llm.support import chat, user_says
from tests.llm.upstreams import Upstream, service_account_secret, store_credential
from tests.support.service import RunningService


@pytest.mark.parametrize("expires_in", [-1e12, 1e300, "abc", float("inf"), 0])
async def test_a_service_account_token_lifetime_out_of_range_is_a_bad_provider_response(
    llm: LlmServiceStub,
    service: RunningService,
    all_upstreams: dict[str, Upstream],
    expires_in: object,
) -> None:
    account = FakeServiceAccount.generate()
    async with FakeServer() as server:
        install_token_endpoint(
            server, [account], lambda: {"access_token": "ya29.odd", "expires_in": expires_in}
        )
        upstream = all_upstreams["vertex-ai"]
        secret = service_account_secret(account, server.url + TOKEN_PATH)
        credential_id = await store_credential(
            service, "vertex-ai", upstream.replay.base_url, "", secret=secret
        )
        answer = await chat(
            llm, service, ChatRequest(credential_id=credential_id, messages=user_says())
        )
    assert answer.code() == grpc.StatusCode.UNAVAILABLE
    assert answer.reason() == "PROVIDER_BAD_RESPONSE"
    assert upstream.replay.requests == []
