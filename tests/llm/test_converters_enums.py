"""Enum values the service does not know are refused by field, never silently dropped."""

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

# Field 5 (tool_choice) holding field 1 (mode) = 9; field 6 (parameters) holding field 6
# (response_format) holding field 1 (type) = 9; field 4 (input_type / status) = 9.
UNKNOWN_TOOL_CHOICE = bytes([0x2A, 0x02, 0x08, 0x09])
UNKNOWN_RESPONSE_FORMAT = bytes([0x32, 0x04, 0x32, 0x02, 0x08, 0x09])
UNKNOWN_FIELD_FOUR = bytes([0x20, 0x09])


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (UNKNOWN_TOOL_CHOICE, "tool_choice.mode"),
        (UNKNOWN_RESPONSE_FORMAT, "parameters.response_format.type"),
    ],
)
def test_unknown_chat_enums_are_invalid_arguments(raw: bytes, field: str) -> None:
    request = ChatRequest.FromString(raw)
    request.credential_id = "00000000-0000-4000-8000-000000000000"
    request.messages = [Message(role=Role.USER, text="hi")]
    with pytest.raises(InvalidArgument) as raised:
        chat_request_from_message(request)
    assert raised.value.violations[0].field == field


def test_unknown_input_type_is_an_invalid_argument() -> None:
    request = EmbedRequest.FromString(UNKNOWN_FIELD_FOUR)
    request.inputs = ["hello"]
    request.credential_id = "00000000-0000-4000-8000-000000000000"
    with pytest.raises(InvalidArgument) as raised:
        embed_request_from_message(request)
    assert raised.value.violations[0].field == "input_type"


def test_unknown_status_filter_is_an_invalid_argument() -> None:
    with pytest.raises(InvalidArgument):
        status_from_message(ListCredentialsRequest.FromString(UNKNOWN_FIELD_FOUR).status)
