"""Reflection lists every service of the contract, for Python clients and for `buf curl`."""

from __future__ import annotations

import asyncio
import shutil
import sys
from pathlib import Path

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


async def test_python_reflection_client_lists_the_services(service: RunningService) -> None:
    call = service.channel.stream_stream(
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
        request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
        response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
    )
    names: set[str] = set()
    stream = call(iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
    async for reply in stream:
        names.update(s.name for s in reply.list_services_response.service)
    assert names >= CONTRACT_SERVICES
    assert "grpc.health.v1.Health" in names


async def test_buf_curl_lists_every_method(service: RunningService) -> None:
    process = await asyncio.create_subprocess_exec(
        _buf(),
        "curl",
        "--protocol",
        "grpc",
        "--http2-prior-knowledge",
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
