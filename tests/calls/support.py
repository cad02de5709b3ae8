"""Small helpers of the call tests: requests in the contract's shape and their outcomes."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

import grpc
from integration_api_proto.integration.v1 import (
    CallInstructions,
    GetCallRequest,
    HangUpRequest,
    MediaStream,
    PlaceCallRequest,
    UpdateCallRequest,
)
from integration_api_proto.integration.v1.grpc_aio import TelephonyServiceStub

from tests.calls.accounts import CallAccount
from tests.credentials.helpers import error_info
from tests.fakes.call_book import OWNED_NUMBER
from tests.support.service import RunningService

T = TypeVar("T")

AGENT_URL = "wss://agent.example.com/media?session=abc"
ANSWER_URL = "https://app.example.com/answer"
CALLBACK_URL = "https://app.example.com/call-events"
CALLEE = "+14155550123"
PARAMETERS = {"agent": "support-en", "tenant_ref": "acme & co <1>"}


def stream(url: str = AGENT_URL, **parameters: str) -> CallInstructions:
    return CallInstructions(media_stream=MediaStream(url=url, parameters=parameters or PARAMETERS))


def place_request(
    account: CallAccount, answer: CallInstructions, **fields: object
) -> PlaceCallRequest:
    request = PlaceCallRequest(
        credential_id=account.credential_id,
        from_number=OWNED_NUMBER,
        to_number=CALLEE,
        answer=answer,
    )
    for name, value in fields.items():
        setattr(request, name, value)
    return request


async def outcome(call: Awaitable[T]) -> T | grpc.aio.AioRpcError:
    try:
        return await call
    except grpc.aio.AioRpcError as error:
        return error


def refused(
    result: object, code: grpc.StatusCode, reason: str, provider_code: str | None = None
) -> grpc.aio.AioRpcError:
    """`result` is an error with this status and reason (and provider code, when given)."""
    assert isinstance(result, grpc.aio.AioRpcError), result
    assert result.code() == code, (result.code(), result.details())
    info = error_info(result)
    assert info.reason == reason, info
    if provider_code is not None:
        assert info.metadata["provider_code"] == provider_code, info.metadata
    return result


class Calls:
    """The four call RPCs for one tenant (the default one unless told)."""

    def __init__(self, telephony: TelephonyServiceStub, service: RunningService, **tenant: str):
        self._stub = telephony
        self._metadata = service.auth(**tenant)

    def place(self, request: PlaceCallRequest) -> Awaitable[object]:
        return outcome(self._stub.place_call(request, metadata=self._metadata, timeout=10))

    def get(self, account: CallAccount, call_id: str) -> Awaitable[object]:
        request = GetCallRequest(credential_id=account.credential_id, call_id=call_id)
        return outcome(self._stub.get_call(request, metadata=self._metadata, timeout=10))

    def update(self, account: CallAccount, call_id: str, **change: object) -> Awaitable[object]:
        request = UpdateCallRequest(credential_id=account.credential_id, call_id=call_id)
        for name, value in change.items():
            setattr(request, name, value)
        return outcome(self._stub.update_call(request, metadata=self._metadata, timeout=10))

    def hang_up(self, account: CallAccount, call_id: str) -> Awaitable[object]:
        request = HangUpRequest(credential_id=account.credential_id, call_id=call_id)
        return outcome(self._stub.hang_up(request, metadata=self._metadata, timeout=10))
