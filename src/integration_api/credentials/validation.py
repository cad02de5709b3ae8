"""Checks of caller input that do not depend on the provider (those live in the registry)."""

from __future__ import annotations

import unicodedata

from integration_api.errors import FieldViolation

MAX_NAME_LENGTH = 128
MAX_REASON_LENGTH = 512
MAX_EXTRA_ENTRIES = 32
MAX_EXTRA_VALUE_LENGTH = 1024


def name_violations(name: str, field: str = "name") -> list[FieldViolation]:
    stripped = name.strip()
    if not stripped:
        return [FieldViolation(field, "is required")]
    if len(stripped) > MAX_NAME_LENGTH:
        return [FieldViolation(field, f"must be at most {MAX_NAME_LENGTH} characters")]
    if stripped != name:
        return [FieldViolation(field, "must not start or end with white space")]
    if any(unicodedata.category(character).startswith("C") for character in name):
        return [FieldViolation(field, "must not contain control characters")]
    return []


def reason_violations(reason: str, field: str = "reason") -> list[FieldViolation]:
    if len(reason) > MAX_REASON_LENGTH:
        return [FieldViolation(field, f"must be at most {MAX_REASON_LENGTH} characters")]
    return []


def extra_violations(extra: dict[str, str]) -> list[FieldViolation]:
    if len(extra) > MAX_EXTRA_ENTRIES:
        return [FieldViolation("config.extra", f"at most {MAX_EXTRA_ENTRIES} entries")]
    return [
        FieldViolation(f"config.extra[{key!r}]", f"at most {MAX_EXTRA_VALUE_LENGTH} characters")
        for key, value in extra.items()
        if len(value) > MAX_EXTRA_VALUE_LENGTH
    ]
