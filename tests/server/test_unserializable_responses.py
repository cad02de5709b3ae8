"""A response that cannot be serialized ends as INTERNAL with a request id, never UNKNOWN.

Every method of every service of the contract is registered through its generated
`add_*_to_server` function, with a servicer that answers a real response message whose
serializer fails, on a real grpc.aio server with the service's interceptor.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import grpc.aio
import integration_api_proto.integration.v1 as contract
import pytest
from integration_api_proto.integration.v1 import grpc_aio

from integration_api.auth.tokens import TokenPolicy, mint_token
from integration_api.descriptor_set import load_descriptor_set
from integration_api.server.interceptor import ServiceInterceptor
from tests.credentials.helpers import error_info
from tests.support.raw_calls import raw_bidirectional_stream, raw_server_stream, raw_unary

PACKAGE = "integration.v1"
SECRET = secrets.token_urlsafe(48)


@dataclass(frozen=True)
class Method:
    service: str
    name: str
    response: str
    client_streaming: bool
    server_streaming: bool

    @property
    def path(self) -> str:
        return f"/{PACKAGE}.{self.service}/{self.name}"


def _methods() -> list[Method]:
    return [
        Method(
            service.name,
            method.name,
            method.output_type.rpartition(".")[2],
            method.client_streaming,
            method.server_streaming,
        )
        for file in load_descriptor_set().file
        if file.package == PACKAGE
        for service in file.service
        for method in service.method
    ]


METHODS = _methods()


def _snake_case(name: str) -> str:
    # The generator's spelling of Python names (scripts/tools/protoc_gen_grpc_aio.py).
    spaced = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name.replace("OAuth", "Oauth"))
    return re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", spaced).lower()


def _behavior(method: Method) -> Callable[..., Any]:
    response_class = getattr(contract, method.response)

    async def answer(_servicer: object, _request: object, _context: object) -> Any:
        return response_class()

    async def stream(_servicer: object, request: Any, _context: object) -> AsyncIterator[Any]:
        if method.client_streaming:
            async for _message in request:
                break
        yield response_class()

    return stream if method.server_streaming else answer


def _failing_serializer(_message: object) -> bytes:
    # What betterproto2 raises for an integer too large for its field.
    raise OverflowError("int too big to convert")


def _register(server: grpc.aio.Server, monkeypatch: pytest.MonkeyPatch) -> None:
    services = sorted({method.service for method in METHODS})
    with monkeypatch.context() as patched:
        # The generated registration reads each response class's serializer as it runs.
        for method in METHODS:
            response_class = getattr(contract, method.response)
            patched.setattr(response_class, "SerializeToString", _failing_serializer)
        for service in services:
            base = getattr(grpc_aio, f"{service}Base")
            overrides = {
                _snake_case(method.name): _behavior(method)
                for method in METHODS
                if method.service == service
            }
            servicer = type(f"Unserializable{service}", (base,), overrides)()
            getattr(grpc_aio, f"add_{_snake_case(service)}_to_server")(servicer, server)


@pytest.fixture(scope="module")
def module_monkeypatch() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.fixture(scope="module")
async def channel(module_monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[grpc.aio.Channel]:
    server = grpc.aio.server(interceptors=[ServiceInterceptor(TokenPolicy(secret=SECRET))])
    _register(server, module_monkeypatch)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as opened:
        yield opened
    await server.stop(grace=None)


def _metadata(request_id: str) -> tuple[tuple[str, str], ...]:
    token = mint_token(SECRET, organization_id="org-serialize", project_id="project-serialize")
    return (("authorization", f"Bearer {token}"), ("x-request-id", request_id))


async def _call(channel: grpc.aio.Channel, method: Method, request_id: str) -> None:
    metadata = _metadata(request_id)
    if method.client_streaming:
        call = raw_bidirectional_stream(channel, method.path)(iter([b""]), metadata=metadata)
        async for _response in call:
            pass
    elif method.server_streaming:
        async for _response in raw_server_stream(channel, method.path)(b"", metadata=metadata):
            pass
    else:
        await raw_unary(channel, method.path)(b"", metadata=metadata)


def test_every_generated_service_is_covered() -> None:
    generated = {name.removesuffix("Base") for name in dir(grpc_aio) if name.endswith("Base")}
    assert {method.service for method in METHODS} == generated
    assert any(method.client_streaming for method in METHODS)


@pytest.mark.parametrize("method", METHODS, ids=[m.path for m in METHODS])
async def test_a_response_that_cannot_be_serialized_is_internal_with_a_request_id(
    channel: grpc.aio.Channel, method: Method
) -> None:
    request_id = "req-" + uuid.uuid4().hex
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await _call(channel, method, request_id)
    assert raised.value.code() == grpc.StatusCode.INTERNAL
    assert raised.value.details() == f"internal error (request id {request_id})"
    assert error_info(raised.value).metadata["request_id"] == request_id


class _OutOfRangeEmbeddings(grpc_aio.EmbeddingServiceBase):
    async def embed(self, request: Any, context: Any) -> contract.EmbedResponse:
        # 1e300 does not fit a proto `float`: struct.pack raises OverflowError.
        return contract.EmbedResponse(embeddings=[contract.Embedding(values=[1e300])])


async def test_a_float_out_of_range_for_its_field_is_internal_not_unknown() -> None:
    server = grpc.aio.server(interceptors=[ServiceInterceptor(TokenPolicy(secret=SECRET))])
    grpc_aio.add_embedding_service_to_server(_OutOfRangeEmbeddings(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    request_id = "req-" + uuid.uuid4().hex
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as opened:
            embed = raw_unary(opened, f"/{PACKAGE}.EmbeddingService/Embed")
            with pytest.raises(grpc.aio.AioRpcError) as raised:
                await embed(b"", metadata=_metadata(request_id))
    finally:
        await server.stop(grace=None)
    assert raised.value.code() == grpc.StatusCode.INTERNAL
    assert "Overflow" not in str(raised.value.details())
    assert error_info(raised.value).metadata["request_id"] == request_id
