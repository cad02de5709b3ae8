"""Another tenant's credential id answers exactly like an id that does not exist, on every RPC,
whether or not the owner's use has put the row in the cache."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import grpc
import pytest
from aiohttp import web
from integration_api_proto.integration.v1 import (
    ApiKeySecret,
    ChatRequest,
    CredentialSecret,
    DeleteCredentialRequest,
    DisableCredentialRequest,
    EmbedRequest,
    EnableCredentialRequest,
    GetCredentialRequest,
    Message,
    Role,
    RotateCredentialRequest,
    UpdateCredentialRequest,
    VerifyCredentialRequest,
)
from integration_api_proto.integration.v1.grpc_aio import (
    CredentialServiceStub,
    EmbeddingServiceStub,
    LlmServiceStub,
)

from tests.credentials.conftest import new_openai_key
from tests.credentials.helpers import field_violations, openai_request, rich_status
from tests.fakes.server import FakeServer, json_response
from tests.support.service import RunningService, running_service

Metadata = tuple[tuple[str, str], ...]
Call = Callable[[RunningService, str, Metadata], Awaitable[object]]


async def _embeddings(_request: web.Request) -> web.Response:
    return json_response(
        200,
        {
            "object": "list",
            "data": [{"object": "embedding", "index": 0, "embedding": [0.25, 0.5]}],
            "model": "text-embedding-3-small",
            "usage": {"prompt_tokens": 1, "total_tokens": 1},
        },
    )


def _credentials(service: RunningService) -> CredentialServiceStub:
    return CredentialServiceStub(service.channel)


async def _chat(service: RunningService, credential_id: str, metadata: Metadata) -> object:
    request = ChatRequest(
        credential_id=credential_id, messages=[Message(role=Role.USER, text="hi")]
    )
    call = LlmServiceStub(service.channel).chat(request, metadata=metadata, timeout=10)
    return await call.read()


async def _embed(service: RunningService, credential_id: str, metadata: Metadata) -> object:
    request = EmbedRequest(
        credential_id=credential_id, model="text-embedding-3-small", inputs=["hi"]
    )
    return await EmbeddingServiceStub(service.channel).embed(request, metadata=metadata, timeout=10)


NEW_SECRET = CredentialSecret(api_key=ApiKeySecret(key="sk-proj-" + "r" * 40))
CALLS: dict[str, Call] = {
    "Get": lambda s, i, m: _credentials(s).get_credential(GetCredentialRequest(id=i), metadata=m),
    "Update": lambda s, i, m: _credentials(s).update_credential(
        UpdateCredentialRequest(id=i, name="renamed"), metadata=m
    ),
    "Rotate": lambda s, i, m: _credentials(s).rotate_credential(
        RotateCredentialRequest(id=i, secret=NEW_SECRET, skip_verification=True), metadata=m
    ),
    "Delete": lambda s, i, m: _credentials(s).delete_credential(
        DeleteCredentialRequest(id=i), metadata=m
    ),
    "Verify": lambda s, i, m: _credentials(s).verify_credential(
        VerifyCredentialRequest(id=i), metadata=m
    ),
    "Disable": lambda s, i, m: _credentials(s).disable_credential(
        DisableCredentialRequest(id=i), metadata=m
    ),
    "Enable": lambda s, i, m: _credentials(s).enable_credential(
        EnableCredentialRequest(id=i), metadata=m
    ),
    "Chat": _chat,
    "Embed": _embed,
}


@dataclass(frozen=True)
class Answer:
    """Everything a caller can see of a refusal, with the id it asked about written as `<id>`."""

    code: grpc.StatusCode
    message: str
    details: tuple[str, ...]
    violations: dict[str, str]


async def _answer(call: Call, service: RunningService, credential_id: str, who: Metadata) -> Answer:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call(service, credential_id, (*who, ("x-request-id", "same-request-id")))
    error = raised.value
    status = rich_status(error)
    assert status is not None
    return Answer(
        code=error.code(),
        message=(error.details() or "").replace(credential_id, "<id>"),
        details=tuple(detail.SerializeToString().hex() for detail in status.details),
        violations=field_violations(error),
    )


@pytest.fixture(scope="module")
async def shared_service(package_database_dsn: str) -> AsyncIterator[RunningService]:
    async with running_service(package_database_dsn) as running:
        yield running


@pytest.fixture(scope="module")
async def provider() -> AsyncIterator[FakeServer]:
    async with FakeServer() as server:
        server.route("POST", "/v1/embeddings", _embeddings)
        yield server


@pytest.mark.parametrize("owner_used_it", [False, True], ids=["cold", "after-owner-use"])
@pytest.mark.parametrize("rpc", CALLS.keys())
async def test_another_tenants_id_answers_exactly_like_a_missing_one(
    shared_service: RunningService, provider: FakeServer, rpc: str, owner_used_it: bool
) -> None:
    owner = shared_service.auth(organization_id=f"org-{uuid.uuid4().hex[:8]}")
    stranger = shared_service.auth(organization_id=f"org-{uuid.uuid4().hex[:8]}")
    request = openai_request(new_openai_key(), provider.url, skip_verification=True)
    created = await _credentials(shared_service).create_credential(request, metadata=owner)
    credential_id = created.credential.id
    if owner_used_it:
        await _embed(shared_service, credential_id, owner)  # the row is now cached
    call = CALLS[rpc]
    foreign = await _answer(call, shared_service, credential_id, stranger)
    missing = await _answer(call, shared_service, str(uuid.uuid4()), stranger)
    assert foreign.code == grpc.StatusCode.NOT_FOUND
    assert foreign == missing
    still = await _credentials(shared_service).get_credential(
        GetCredentialRequest(id=credential_id), metadata=owner
    )
    assert still.credential.version == created.credential.version
