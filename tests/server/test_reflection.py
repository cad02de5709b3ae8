"""Reflection lists every service of the contract, for Python clients and for `buf curl`."""

from __future__ import annotations

import asyncio
import shutil
import sys
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2
from grpc_reflection.v1alpha import reflection_pb2

from tests.support.service import RunningService

CONTRACT_SERVICES = {
    "integration.v1.CredentialService",
    "integration.v1.LlmService",
    "integration.v1.EmbeddingService",
    "integration.v1.OAuthService",
    "integration.v1.OperationsService",
}


def _buf() -> str:
    beside_python = Path(sys.executable).parent / "buf"
    found = str(beside_python) if beside_python.exists() else shutil.which("buf")
    assert found, "buf is installed by the project's dev dependencies"
    return found


REFLECTION_PROTOCOLS = ["grpc.reflection.v1", "grpc.reflection.v1alpha"]


async def _ask(
    service: RunningService, package: str, request: reflection_pb2.ServerReflectionRequest
) -> reflection_pb2.ServerReflectionResponse:
    # v1 and v1alpha messages are the same on the wire, so the v1alpha classes speak both.
    call = service.channel.stream_stream(
        f"/{package}.ServerReflection/ServerReflectionInfo",
        request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
        response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
    )
    replies = [reply async for reply in call(iter([request]))]
    assert len(replies) == 1
    return replies[0]


@pytest.mark.parametrize("package", REFLECTION_PROTOCOLS)
async def test_python_reflection_client_lists_the_services(
    service: RunningService, package: str
) -> None:
    reply = await _ask(service, package, reflection_pb2.ServerReflectionRequest(list_services=""))
    names = {s.name for s in reply.list_services_response.service}
    assert names >= CONTRACT_SERVICES
    assert {"grpc.health.v1.Health", *(f"{p}.ServerReflection" for p in REFLECTION_PROTOCOLS)} <= (
        names
    )


@pytest.mark.parametrize("package", REFLECTION_PROTOCOLS)
async def test_each_reflection_protocol_describes_itself(
    service: RunningService, package: str
) -> None:
    symbol = f"{package}.ServerReflection"
    request = reflection_pb2.ServerReflectionRequest(file_containing_symbol=symbol)
    reply = await _ask(service, package, request)
    files = [
        descriptor_pb2.FileDescriptorProto.FromString(raw)
        for raw in reply.file_descriptor_response.file_descriptor_proto
    ]
    described = {f"{file.package}.{s.name}" for file in files for s in file.service}
    assert symbol in described
    methods = [
        method
        for file in files
        if file.package == package
        for s in file.service
        for method in s.method
    ]
    assert [(m.input_type, m.output_type) for m in methods] == [
        (f".{package}.ServerReflectionRequest", f".{package}.ServerReflectionResponse")
    ]


@pytest.mark.parametrize("reflect_protocol", ["grpc-v1", "grpc-v1alpha"])
async def test_buf_curl_lists_every_method(service: RunningService, reflect_protocol: str) -> None:
    process = await asyncio.create_subprocess_exec(
        _buf(),
        "curl",
        "--protocol",
        "grpc",
        "--http2-prior-knowledge",
        "--reflect-protocol",
        reflect_protocol,
        "--list-methods",
        f"http://{service.address}",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, stderr.decode()
    methods = set(stdout.decode().split())
    assert "integration.v1.LlmService/Chat" in methods
    assert "integration.v1.CredentialService/CreateCredential" in methods
    assert "integration.v1.OperationsService/VerifyAuditLog" in methods
    assert {m.split("/")[0] for m in methods} >= CONTRACT_SERVICES
