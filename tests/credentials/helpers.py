"""Small builders for CredentialService requests and status assertions."""

from __future__ import annotations

import grpc
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status
from integration_api_proto.integration.v1 import (
    ApiKeySecret,
    CreateCredentialRequest,
    CredentialConfig,
    CredentialSecret,
)


def openai_request(
    key: str, base_url: str, name: str = "primary", skip_verification: bool = False
) -> CreateCredentialRequest:
    return CreateCredentialRequest(
        provider="openai",
        name=name,
        secret=CredentialSecret(api_key=ApiKeySecret(key=key)),
        config=CredentialConfig(base_url=base_url + "/v1", default_model="gpt-4o-mini"),
        skip_verification=skip_verification,
    )


def rich_status(error: grpc.aio.AioRpcError) -> status_pb2.Status | None:
    """The google.rpc.Status carried in the trailers, if any."""

    class _Call:
        def code(self) -> grpc.StatusCode:
            return error.code()

        def details(self) -> str | None:
            return error.details()

        def trailing_metadata(self) -> object:
            return error.trailing_metadata()

    return rpc_status.from_call(_Call())  # type: ignore[arg-type]


def field_violations(error: grpc.aio.AioRpcError) -> dict[str, str]:
    status = rich_status(error)
    assert status is not None
    found: dict[str, str] = {}
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad_request = error_details_pb2.BadRequest()
            detail.Unpack(bad_request)
            found.update({v.field: v.description for v in bad_request.field_violations})
    return found


def error_info(error: grpc.aio.AioRpcError) -> error_details_pb2.ErrorInfo:
    status = rich_status(error)
    assert status is not None
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            return info
    raise AssertionError("no ErrorInfo in the status")
