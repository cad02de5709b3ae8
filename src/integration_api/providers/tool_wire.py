"""Tool definitions and calls as every provider's request carries them: one JSON schema per
tool, and a call's arguments as a JSON object (the contract carries them as a JSON string)."""

from __future__ import annotations

import json

from integration_api.errors import InvalidArgument
from integration_api.llm.contract import ToolDefinition

JsonObject = dict[str, object]


def parameters_schema(tool: ToolDefinition) -> JsonObject:
    """The tool's JSON schema; a tool without parameters takes an empty object."""
    if tool.parameters is None:
        return {"type": "object", "properties": {}}
    return dict(tool.parameters)


def arguments_object(arguments_json: str, field_path: str) -> JsonObject:
    """A call's arguments as the object providers that take them parsed want ('' is `{}`).

    Raises:
        InvalidArgument: on `field_path` when the arguments are not a JSON object.
    """
    if not arguments_json.strip():
        return {}
    try:
        arguments = json.loads(arguments_json)
    except ValueError:
        arguments = None
    if not isinstance(arguments, dict):
        raise InvalidArgument.for_field(field_path, "must be a JSON object")
    return arguments
