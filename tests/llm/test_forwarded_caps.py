"""Lists and names a chat, an embedding or a stored credential forwards upstream are capped."""

from __future__ import annotations

from typing import Any

import pytest
from integration_api_proto.integration.v1 import (
    ChatRequest,
    EmbedRequest,
    Message,
    ModelParameters,
    Role,
    Tool,
    ToolChoice,
    ToolChoiceMode,
)

from integration_api.credentials.model import CredentialConfig
from integration_api.embeddings.converters import embed_request_from_message
from integration_api.errors import InvalidArgument
from integration_api.llm.converters import chat_request_from_message
from integration_api.providers.registry import get_provider
from integration_api.request_caps import (
    MAX_MODEL_CHARACTERS,
    MAX_STOP_SEQUENCES,
    MAX_TOOL_NAME_CHARACTERS,
    MAX_TOOLS,
)


def _chat(**fields: Any) -> ChatRequest:
    return ChatRequest(credential_id="c", messages=[Message(role=Role.USER, text="hi")], **fields)


def _refused_field(request: ChatRequest) -> str:
    with pytest.raises(InvalidArgument) as raised:
        chat_request_from_message(request)
    return raised.value.violations[0].field


def test_a_chat_within_every_cap_converts() -> None:
    request = _chat(
        model="m" * MAX_MODEL_CHARACTERS,
        tools=[Tool(name="t" * MAX_TOOL_NAME_CHARACTERS)] * MAX_TOOLS,
        parameters=ModelParameters(stop=["."] * MAX_STOP_SEQUENCES),
    )
    assert len(chat_request_from_message(request).tools) == MAX_TOOLS


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"model": "m" * (MAX_MODEL_CHARACTERS + 1)}, "model"),
        ({"tools": [Tool(name="t")] * (MAX_TOOLS + 1)}, "tools"),
        ({"tools": [Tool(name="t" * (MAX_TOOL_NAME_CHARACTERS + 1))]}, "tools[0].name"),
        (
            {"tool_choice": ToolChoice(mode=ToolChoiceMode.TOOL, tool_name="t" * 100_000)},
            "tool_choice.tool_name",
        ),
        ({"parameters": ModelParameters(stop=["."] * (MAX_STOP_SEQUENCES + 1))}, "parameters.stop"),
        ({"parameters": ModelParameters(stop=["ok", "s" * 100_000])}, "parameters.stop[1]"),
    ],
    ids=["model", "tools", "tool-name", "tool-choice", "stop-count", "stop-length"],
)
def test_a_chat_past_a_cap_is_refused_naming_the_field(
    fields: dict[str, object], field: str
) -> None:
    assert _refused_field(_chat(**fields)) == field


def test_an_embedding_model_past_its_cap_is_refused() -> None:
    request = EmbedRequest(credential_id="c", model="m" * 100_000, inputs=["text"])
    with pytest.raises(InvalidArgument) as raised:
        embed_request_from_message(request)
    assert raised.value.violations[0].field == "model"


@pytest.mark.parametrize("name", ["default_model", "deployment", "api_version"])
def test_a_stored_name_that_ends_in_a_url_is_capped(name: str) -> None:
    values: dict[str, Any] = {name: "v" * 100_000}
    config = CredentialConfig(**values)
    problems = get_provider("azure-openai").config_violations(config)
    assert f"config.{name}" in [problem.field for problem in problems]
