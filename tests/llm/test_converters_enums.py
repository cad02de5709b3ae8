"""Enum values the service does not know are refused by field, never silently dropped, and
described as unknown values (an unset one is described as missing)."""

from __future__ import annotations

import pytest
from integration_api_proto.integration.v1 import (
    ChatRequest,
    EmbedRequest,
    ListCredentialsRequest,
    Message,
    Role,
)

from integration_api.api.credential_messages import status_from_message
from integration_api.embeddings.converters import embed_request_from_message
from integration_api.errors import InvalidArgument
from integration_api.llm.converters import chat_request_from_message

CREDENTIAL_ID = "00000000-0000-4000-8000-000000000000"
# Field 5 (tool_choice) holding field 1 (mode) = 9; field 6 (parameters) holding field 6
# (response_format) holding field 1 (type) = 9; field 4 (input_type / status) = 9;
# field 3 (messages) holding field 1 (role) = 9 and field 2 (text) = "hi".
UNKNOWN_TOOL_CHOICE = bytes([0x2A, 0x02, 0x08, 0x09])
UNKNOWN_RESPONSE_FORMAT = bytes([0x32, 0x04, 0x32, 0x02, 0x08, 0x09])
UNKNOWN_FIELD_FOUR = bytes([0x20, 0x09])
UNKNOWN_ROLE = bytes([0x1A, 0x06, 0x08, 0x09, 0x12, 0x02]) + b"hi"


def _chat(raw: bytes) -> ChatRequest:
    request = ChatRequest.FromString(raw)
    request.credential_id = CREDENTIAL_ID
    if not request.messages:
        request.messages = [Message(role=Role.USER, text="hi")]
    return request


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (UNKNOWN_TOOL_CHOICE, "tool_choice.mode"),
        (UNKNOWN_RESPONSE_FORMAT, "parameters.response_format.type"),
        (UNKNOWN_ROLE, "messages[0].role"),
    ],
)
def test_unknown_chat_enums_are_invalid_arguments_saying_so(raw: bytes, field: str) -> None:
    with pytest.raises(InvalidArgument) as raised:
        chat_request_from_message(_chat(raw))
    violation = raised.value.violations[0]
    assert (violation.field, violation.description) == (field, "is not a known value")


def test_an_unset_role_is_required() -> None:
    request = _chat(b"")
    request.messages = [Message(text="hi")]
    with pytest.raises(InvalidArgument) as raised:
        chat_request_from_message(request)
    violation = raised.value.violations[0]
    assert (violation.field, violation.description) == ("messages[0].role", "is required")


def test_unknown_input_type_is_an_invalid_argument_saying_so() -> None:
    request = EmbedRequest.FromString(UNKNOWN_FIELD_FOUR)
    request.inputs = ["hello"]
    request.credential_id = CREDENTIAL_ID
    with pytest.raises(InvalidArgument) as raised:
        embed_request_from_message(request)
    violation = raised.value.violations[0]
    assert (violation.field, violation.description) == ("input_type", "is not a known value")


def test_unknown_status_filter_is_an_invalid_argument_saying_so() -> None:
    with pytest.raises(InvalidArgument) as raised:
        status_from_message(ListCredentialsRequest.FromString(UNKNOWN_FIELD_FOUR).status)
    violation = raised.value.violations[0]
    assert (violation.field, violation.description) == ("status", "is not a known value")
