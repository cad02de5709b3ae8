"""grpcurl and `buf curl`, run for real against the service, show what an error carries.

Reflection serves the `google.rpc` detail types, so grpcurl decodes the ErrorInfo and BadRequest
of a failed call instead of printing their bytes, and `describe` resolves a method by name.
`buf curl` decodes details only with the types compiled into it; `integration-api error-details`
decodes what it prints.
"""

from __future__ import annotations

import asyncio
import base64
import json
import shutil
import sys
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2
from google.rpc import error_details_pb2
from grpc_reflection.v1alpha import reflection_pb2

from tests.support.service import RunningService

MISSING_CREDENTIAL = '{"id": "00000000-0000-0000-0000-000000000000"}'


def _tool(name: str) -> str:
    beside_python = Path(sys.executable).parent / name
    found = str(beside_python) if beside_python.exists() else shutil.which(name)
    assert found, f"{name} is installed by the project's dev dependencies"
    return found


async def _run(*command: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


async def _buf_curl(service: RunningService, method: str, body: str) -> tuple[int, str]:
    """`buf curl` of one CredentialService method with the service's token: exit code, stderr."""
    code, _stdout, stderr = await _run(
        _tool("buf"),
        "curl",
        "--protocol",
        "grpc",
        "--http2-prior-knowledge",
        "-H",
        f"authorization: Bearer {service.token()}",
        "-d",
        body,
        f"http://{service.address}/integration.v1.CredentialService/{method}",
    )
    return code, stderr


async def _grpcurl_describe(service: RunningService, symbol: str) -> tuple[int, str, str]:
    return await _run(_tool("grpcurl"), "-plaintext", service.address, "describe", symbol)


async def _grpcurl_call(
    service: RunningService, method: str, body: str, *flags: str
) -> tuple[int, str, str]:
    authorization = f"authorization: Bearer {service.token()}"
    return await _run(
        _tool("grpcurl"),
        "-plaintext",
        *flags,
        "-H",
        authorization,
        "-d",
        body,
        service.address,
        method,
    )


async def test_grpcurl_describe_resolves_a_method_by_its_full_name(
    service: RunningService,
) -> None:
    code, stdout, stderr = await _grpcurl_describe(service, "integration.v1.LlmService.Chat")
    assert code == 0, stderr
    assert "integration.v1.LlmService.Chat is a method" in stdout
    assert "returns ( stream .integration.v1.ChatChunk )" in stdout


async def test_grpcurl_describe_shows_the_error_info_type(service: RunningService) -> None:
    code, stdout, stderr = await _grpcurl_describe(service, "google.rpc.ErrorInfo")
    assert code == 0, stderr
    assert "google.rpc.ErrorInfo is a message" in stdout
    assert "map<string, string> metadata" in stdout


async def test_grpcurl_format_error_prints_the_error_info_decoded(
    service: RunningService,
) -> None:
    code, _stdout, stderr = await _grpcurl_call(
        service,
        "integration.v1.CredentialService/GetCredential",
        MISSING_CREDENTIAL,
        "-format-error",
    )
    assert code == 64 + 5, stderr  # grpcurl exits 64 + the status code
    status = json.loads(stderr)
    assert status["code"] == 5
    assert status["message"] == "credential 00000000-0000-0000-0000-000000000000 not found"
    [info] = status["details"]
    assert info["@type"] == "type.googleapis.com/google.rpc.ErrorInfo"
    assert info["reason"] == "CREDENTIAL_NOT_FOUND"
    assert info["domain"] == "integration-api"
    assert info["metadata"]["request_id"]


async def test_grpcurl_format_error_prints_field_violations(service: RunningService) -> None:
    code, _stdout, stderr = await _grpcurl_call(
        service,
        "integration.v1.CredentialService/CreateCredential",
        '{"provider": "openai"}',
        "-format-error",
    )
    assert code == 64 + 3, stderr
    details = {detail["@type"]: detail for detail in json.loads(stderr)["details"]}
    bad_request = details["type.googleapis.com/google.rpc.BadRequest"]
    fields = {violation["field"] for violation in bad_request["field_violations"]}
    assert fields == {"name", "secret"}
    assert details["type.googleapis.com/google.rpc.ErrorInfo"]["reason"] == "INVALID_ARGUMENT"


async def test_grpcurl_default_error_output_decodes_the_details(service: RunningService) -> None:
    code, _stdout, stderr = await _grpcurl_call(
        service, "integration.v1.CredentialService/GetCredential", MISSING_CREDENTIAL
    )
    assert code == 64 + 5
    assert "Code: NotFound" in stderr
    assert '"reason":"CREDENTIAL_NOT_FOUND"' in stderr
    assert "not recognized" not in stderr


async def test_buf_curl_prints_the_status_with_the_detail_type_and_its_bytes(
    service: RunningService,
) -> None:
    # buf decodes error details only with the types compiled into it, which do not include
    # google.rpc.ErrorInfo: it names the type and prints the message bytes in base64.
    code, stderr = await _buf_curl(service, "GetCredential", MISSING_CREDENTIAL)
    assert code == 5 << 3, stderr  # buf exits with the status code shifted three bits left
    status = json.loads(stderr)
    assert status["code"] == "not_found"
    assert status["message"] == "credential 00000000-0000-0000-0000-000000000000 not found"
    [detail] = status["details"]
    assert detail["type"] == "google.rpc.ErrorInfo"
    info = error_details_pb2.ErrorInfo.FromString(base64.b64decode(detail["value"] + "=="))
    assert info.reason == "CREDENTIAL_NOT_FOUND"


async def _file_containing(service: RunningService, symbol: str) -> list[str]:
    call = service.channel.stream_stream(
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
        request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
        response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
    )
    request = reflection_pb2.ServerReflectionRequest(file_containing_symbol=symbol)
    [reply] = [reply async for reply in call(iter([request]))]
    assert not reply.HasField("error_response"), reply.error_response.error_message
    return [
        descriptor_pb2.FileDescriptorProto.FromString(raw).name
        for raw in reply.file_descriptor_response.file_descriptor_proto
    ]


@pytest.mark.parametrize(
    "symbol",
    [
        *(f"google.rpc.{name}" for name in error_details_pb2.DESCRIPTOR.message_types_by_name),
    ],
)
async def test_reflection_serves_every_error_detail_type(
    service: RunningService, symbol: str
) -> None:
    files = await _file_containing(service, symbol)
    assert files[0] == "google/rpc/error_details.proto"
    assert "google/protobuf/duration.proto" in files


@pytest.mark.parametrize(
    ("symbol", "file"),
    [
        ("google.rpc.Status", "google/rpc/status.proto"),
        ("google.rpc.Code", "google/rpc/code.proto"),
        ("integration.v1.LlmService.Chat", "integration/v1/llm.proto"),
        ("integration.v1.ChatRequest.model", "integration/v1/llm.proto"),
    ],
)
async def test_reflection_finds_the_file_of_a_status_type_method_or_field(
    service: RunningService, symbol: str, file: str
) -> None:
    assert (await _file_containing(service, symbol))[0] == file


async def _error_details(text: str) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "integration_api.cli",
        "error-details",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    stdout, _ = await asyncio.wait_for(process.communicate(text.encode()), 60)
    assert process.returncode == 0
    return stdout.decode()


async def test_buf_curl_details_are_decoded_by_the_error_details_command(
    service: RunningService,
) -> None:
    code, stderr = await _buf_curl(service, "CreateCredential", '{"provider": "openai"}')
    assert code == 3 << 3, stderr

    status = json.loads(await _error_details(stderr))

    assert status["code"] == "invalid_argument"
    debug = {detail["type"]: detail["debug"] for detail in status["details"]}
    assert debug["google.rpc.ErrorInfo"]["reason"] == "INVALID_ARGUMENT"
    assert debug["google.rpc.ErrorInfo"]["metadata"]["request_id"]
    violations = debug["google.rpc.BadRequest"]["fieldViolations"]
    assert {violation["field"] for violation in violations} == {"name", "secret"}


async def test_error_details_passes_other_text_through() -> None:
    assert await _error_details('{"credential": {"id": "c-1"}}\n') == (
        '{\n   "credential": {\n      "id": "c-1"\n   }\n}\n'
    )
    assert await _error_details("not json\n") == "not json\n"
