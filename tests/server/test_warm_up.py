"""One-off set-up is done before serving, not by the first calls while other streams wait."""

from __future__ import annotations

import grpc
import pytest
from integration_api_proto.integration import v1 as contract
from integration_api_proto.integration.v1 import ChatChunk, ChatRequest
from integration_api_proto.integration.v1.grpc_aio import LlmServiceStub

from integration_api.assembly.warm_up import method_paths, prepare_message_classes
from integration_api.descriptor_set import load_descriptor_set
from integration_api.providers.http_client import ProviderClient
from tests.fakes.replay import ReplayServer, Reply
from tests.llm.support import user_says
from tests.llm.upstreams import key_for, store_credential
from tests.support.service import running_service


def test_every_message_class_has_its_metadata_built() -> None:
    # As if never used: the metadata betterproto builds on first use is gone.
    for message_class in (contract.ChatChunk, contract.EmbedRequest):
        if "_betterproto_meta" in vars(message_class):
            delattr(message_class, "_betterproto_meta")

    prepared = prepare_message_classes(contract)

    assert prepared > 100
    assert "_betterproto_meta" in vars(contract.ChatChunk)
    assert "_betterproto_meta" in vars(contract.EmbedRequest)


def test_every_method_of_the_contract_is_named() -> None:
    paths = method_paths(load_descriptor_set())

    assert "/integration.v1.LlmService/Chat" in paths
    assert "/integration.v1.SpeechService/Transcribe" in paths


async def test_the_first_chat_finds_the_provider_session_made(
    empty_database_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    sessions = []
    make_session = ProviderClient._new_session

    def counted(client: ProviderClient) -> object:
        sessions.append(client)
        return make_session(client)

    monkeypatch.setattr(ProviderClient, "_new_session", counted)
    async with (
        ReplayServer("openai") as replay,
        running_service(empty_database_dsn) as service,
    ):
        made_at_start = len(sessions)
        credential_id = await store_credential(
            service, "openai", replay.base_url, key_for("openai")
        )
        replay.play(Reply("text.sse"))
        call = LlmServiceStub(service.channel).chat(
            ChatRequest(credential_id=credential_id, messages=user_says()),
            metadata=service.auth(),
        )
        chunks = [chunk async for chunk in call]
        assert await call.code() == grpc.StatusCode.OK

    assert made_at_start == 1
    assert len(sessions) == 1
    assert isinstance(chunks[-1], ChatChunk)
    assert chunks[-1].finish is not None
