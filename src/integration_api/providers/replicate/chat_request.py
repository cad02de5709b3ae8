"""Writes a normalized chat request as a Replicate prediction for a chat model.

The model is `owner/name` (the model's current version, `POST /v1/models/{owner}/{name}/
predictions`) or a version: 64 hex digits, alone or after `owner/name:` (`POST /v1/predictions`
with `version`). Chat models on Replicate take a prompt, not messages; what is sent as `input`:

| normalized                       | input                                                   |
| -------------------------------- | ------------------------------------------------------- |
| system messages                  | `system_prompt` (joined by blank lines)                 |
| one user message                 | `prompt`: its text                                      |
| a conversation                   | `prompt`: the turns as `User: …` / `Assistant: …`, each |
|                                  | apart by a blank line, ending with `Assistant:`         |
| max_tokens                       | `max_tokens` and `max_new_tokens` (models use either;   |
|                                  | Replicate ignores the input a model does not define)    |
| temperature, top_p, seed, stop   | `temperature`, `top_p`, `seed`, `stop_sequences`        |
|                                  | (comma-separated)                                       |

Replicate has no tool protocol: tools, a tool choice that asks for a call, and tool calls or
results in history are refused by name, as are images and the parameters no chat model takes
(response format, reasoning, penalties, parallel tool calls).

See: https://replicate.com/docs/reference/http#predictions.create,
https://replicate.com/docs/topics/predictions/streaming.
"""

from __future__ import annotations

import re

from integration_api.errors import InvalidArgument
from integration_api.llm.contract import ChatMessage, ChatRequest, ImageContent, Role
from integration_api.providers.replicate.verification import PROVIDER

JsonObject = dict[str, object]
Route = tuple[str, JsonObject]

_NAME = r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}"
_MODEL = re.compile(rf"({_NAME})/({_NAME})")
_VERSION = re.compile(rf"(?:{_NAME}/{_NAME}:)?([0-9a-f]{{64}})")
_REFUSED_PARAMETERS = (
    "response_format",
    "reasoning_effort",
    "reasoning_budget_tokens",
    "frequency_penalty",
    "presence_penalty",
    "parallel_tool_calls",
)
_NO_TOOLS = f"{PROVIDER} has no tool protocol"


def prediction_route(model: str) -> Route:
    """The path (after the base URL) that creates a prediction, and the body's routing fields."""
    version = _VERSION.fullmatch(model)
    if version is not None:
        return "v1/predictions", {"version": version.group(1)}
    named = _MODEL.fullmatch(model)
    if named is None:
        raise InvalidArgument.for_field(
            "model", "must be owner/name or a version (64 hex digits, or owner/name:version)"
        )
    return f"v1/models/{named.group(1)}/{named.group(2)}/predictions", {}


def prediction_input(request: ChatRequest) -> JsonObject:
    """The `input` of the prediction; refuses what Replicate's chat models cannot take."""
    _refuse_tools(request)
    for name in _REFUSED_PARAMETERS:
        if getattr(request.parameters, name) is not None:
            raise InvalidArgument.for_field(
                f"parameters.{name}", f"{PROVIDER} chat models do not take this parameter"
            )
    system = [message.text() for message in request.messages if message.role is Role.SYSTEM]
    turns = [message for message in request.messages if message.role is not Role.SYSTEM]
    for index, message in enumerate(request.messages):
        _check_message(message, index)
    written: JsonObject = {"prompt": _prompt(turns)}
    if system:
        written["system_prompt"] = "\n\n".join(system)
    parameters = request.parameters
    if parameters.max_tokens is not None:
        written["max_tokens"] = parameters.max_tokens
        written["max_new_tokens"] = parameters.max_tokens
    for name, value in (
        ("temperature", parameters.temperature),
        ("top_p", parameters.top_p),
        ("seed", parameters.seed),
    ):
        if value is not None:
            written[name] = value
    if parameters.stop:
        written["stop_sequences"] = ",".join(parameters.stop)
    return written


def _refuse_tools(request: ChatRequest) -> None:
    if request.tools:
        raise InvalidArgument.for_field("tools", _NO_TOOLS)
    choice = request.tool_choice
    if choice is not None and choice.mode.value not in ("auto", "none"):
        raise InvalidArgument.for_field("tool_choice.mode", _NO_TOOLS)


def _check_message(message: ChatMessage, index: int) -> None:
    if message.role is Role.TOOL or message.tool_calls:
        raise InvalidArgument.for_field(f"messages[{index}]", f"{_NO_TOOLS}: no tool turns")
    for position, item in enumerate(message.content):
        if isinstance(item, ImageContent):
            raise InvalidArgument.for_field(
                f"messages[{index}].parts[{position}].image",
                f"{PROVIDER} chat models take text only",
            )


def _prompt(turns: list[ChatMessage]) -> str:
    if not turns:
        raise InvalidArgument.for_field("messages", "must contain a user message")
    if len(turns) == 1 and turns[0].role is Role.USER:
        return turns[0].text()
    speakers = {Role.USER: "User", Role.ASSISTANT: "Assistant"}
    lines = [f"{speakers[turn.role]}: {turn.text()}" for turn in turns]
    return "\n\n".join([*lines, "Assistant:"])
