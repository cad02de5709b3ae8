"""Knows which message fields are secret, from the contract itself, and redacts them.

Fields marked `[(integration.v1.secret) = true]` in the protos are read from the descriptor set
once; `redact_message` turns a generated message into a dict with those values replaced, fit for
a log line. Log fields whose names say they carry a secret are masked too, as a second net.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Mapping, MutableMapping
from functools import cache, lru_cache
from typing import Any

from google.protobuf import descriptor_pb2
from google.protobuf.unknown_fields import UnknownFieldSet

from integration_api.descriptor_set import load_descriptor_set

REDACTED = "<redacted>"
SECRET_OPTION_NUMBER = 50001
# Credentials typed into a URL (`https://user:key@host`) are secret wherever the URL appears.
URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s]+@")
SENSITIVE_LOG_KEYS = ("secret", "password", "authorization", "api_key", "token", "credential_key")


def _is_marked_secret(options: descriptor_pb2.FieldOptions) -> bool:
    unknown = UnknownFieldSet(options)
    return any(
        unknown[index].field_number == SECRET_OPTION_NUMBER and unknown[index].data == 1
        for index in range(len(unknown))
    )


@cache
def secret_fields() -> Mapping[str, frozenset[str]]:
    """Message name (as generated, e.g. `ApiKeySecret`) → names of its secret fields."""
    table: dict[str, set[str]] = {}
    for file in load_descriptor_set().file:
        for message in file.message_type:
            for field in message.field:
                if field.HasField("options") and _is_marked_secret(field.options):
                    table.setdefault(message.name, set()).add(field.name)
    return {name: frozenset(fields) for name, fields in table.items()}


def redact_message(message: Any) -> Any:
    """A JSON-able picture of a generated message with every secret field replaced."""
    if not dataclasses.is_dataclass(message) or isinstance(message, type):
        return _plain(message)
    hidden = secret_fields().get(type(message).__name__, frozenset())
    picture: dict[str, Any] = {}
    for field in dataclasses.fields(message):
        value = getattr(message, field.name)
        if field.name in hidden:
            picture[field.name] = REDACTED if value else value
        elif value not in (None, "", 0, [], {}, b"", False):
            picture[field.name] = redact_message(value)
    return picture


def _plain(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [redact_message(item) for item in value]
    if isinstance(value, dict):
        return {str(key): redact_message(item) for key, item in value.items()}
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, str):
        return URL_USERINFO.sub(rf"\1{REDACTED}@", value)
    if isinstance(value, int | float | bool) or value is None:
        return value
    return str(value)


@lru_cache(maxsize=1024)
def _is_sensitive_key(key: str) -> bool:
    # Field names come from the code, a few dozen in all: each is judged once, not per line.
    lowered = key.lower()
    return any(marker in lowered for marker in SENSITIVE_LOG_KEYS)


def mask_sensitive_keys(
    _logger: object, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: a log field named like a secret never shows its value."""
    for key in list(event):
        value = event[key]
        if _is_sensitive_key(key) and value:
            event[key] = REDACTED
        elif isinstance(value, str) and "@" in value:
            event[key] = URL_USERINFO.sub(rf"\1{REDACTED}@", value)
    return event
