"""Finds a NUL character in any string field of a decoded request, by the field's path.

PostgreSQL text cannot hold NUL (U+0000), and no provider expects one: a NUL in a provider name,
a reason or a filter would otherwise surface as an INTERNAL from deep inside the store. The check
runs on every request, so it is kept cheap: the raw bytes are searched first (a UTF-8 string
holding NUL contains a zero byte, so a request without one needs no walk), bytes fields are
never read, and messages that hold no string anywhere below them are skipped; which messages
those are is worked out once per message type.

The path names fields the way errors do elsewhere (`messages[2].content`, `extra.version`),
never the value: a secret field with a NUL in it is named, not quoted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

# A map key is shown in the path only when it is a plain name; anything else is caller text.
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def nul_field_path(data: bytes, message: Message) -> str | None:
    """The path of the first string field of `message` (decoded from `data`) holding a NUL."""
    if b"\x00" not in data:
        return None
    return _search(message, "")


@cache
def _holds_strings(descriptor: Descriptor) -> bool:
    """Whether a message of this type can hold a string anywhere in it (recursive types: yes)."""
    return _reaches_string(descriptor, frozenset())


def _reaches_string(descriptor: Descriptor, seen: frozenset[str]) -> bool:
    if descriptor.full_name in seen:
        return True
    inner = seen | {descriptor.full_name}
    for field in descriptor.fields:
        if field.type == FieldDescriptor.TYPE_STRING:
            return True
        if field.message_type is not None and _reaches_string(field.message_type, inner):
            return True
    return False


def _search(message: Message, prefix: str) -> str | None:
    for field, value in message.ListFields():
        path = f"{prefix}{field.name}"
        if field.type == FieldDescriptor.TYPE_STRING:
            found = _in_strings(path, value, repeated=_is_repeated(field))
        elif field.message_type is None or not _holds_strings(field.message_type):
            continue
        elif field.message_type.GetOptions().map_entry:
            found = _in_map(path, field.message_type, value)
        elif _is_repeated(field):
            found = _in_messages(path, value)
        else:
            found = _search(value, f"{path}.")
        if found is not None:
            return found
    return None


def _is_repeated(field: FieldDescriptor) -> bool:
    return bool(field.is_repeated)


def _in_strings(path: str, value: str | Iterable[str], *, repeated: bool) -> str | None:
    if not repeated:
        return path if "\x00" in value else None
    for index, item in enumerate(value):
        if "\x00" in item:
            return f"{path}[{index}]"
    return None


def _in_messages(path: str, messages: Iterable[Message]) -> str | None:
    for index, item in enumerate(messages):
        found = _search(item, f"{path}[{index}].")
        if found is not None:
            return found
    return None


def _in_map(path: str, entry: Descriptor, mapping: dict[object, object]) -> str | None:
    value_field = entry.fields_by_name["value"]
    for key, value in mapping.items():
        if isinstance(key, str) and "\x00" in key:
            return path
        where = f"{path}.{key}" if isinstance(key, str) and _PLAIN_KEY.fullmatch(key) else path
        if isinstance(value, str) and "\x00" in value:
            return where
        if isinstance(value, Message) and _holds_strings(value_field.message_type):
            found = _search(value, f"{where}.")
            if found is not None:
                return found
    return None
