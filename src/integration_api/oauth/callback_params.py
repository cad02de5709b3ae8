"""The query of a callback, checked before anything is looked up.

A parameter sent twice is refused rather than resolved (which copy wins is how parameter
pollution attacks work), and every value has a ceiling far above what a provider sends
(Google's codes are at most 256 bytes, GitHub's 20 characters; our states are 43).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from integration_api.oauth.errors import CallbackParameterRefused

MAX_LENGTHS = {"state": 128, "code": 1024, "error": 128, "error_description": 1024}
MAX_QUERY_LENGTH = 4096


@dataclass(frozen=True)
class CallbackParams:
    state: str
    code: str = field(default="", repr=False)
    error: str = ""
    error_description: str = ""


def callback_params(pairs: Iterable[tuple[str, str]], raw_length: int = 0) -> CallbackParams:
    """The known parameters of a callback; unknown ones (Google's `scope`, `authuser`) are
    ignored but still count towards the length ceiling."""
    if raw_length > MAX_QUERY_LENGTH:
        raise CallbackParameterRefused("parameter_too_long", "the callback query is too long")
    values: dict[str, str] = {}
    for name, value in pairs:
        if name not in MAX_LENGTHS:
            continue
        if name in values:
            raise CallbackParameterRefused("parameter_repeated", f"{name}: sent more than once")
        if len(value.encode()) > MAX_LENGTHS[name]:
            raise CallbackParameterRefused("parameter_too_long", f"{name}: longer than allowed")
        if "\x00" in value:
            # No provider sends one, and PostgreSQL text (the audit details) cannot hold it.
            raise CallbackParameterRefused("parameter_invalid", f"{name}: holds a NUL character")
        values[name] = value
    return CallbackParams(
        state=values.get("state", ""),
        code=values.get("code", ""),
        error=values.get("error", ""),
        error_description=values.get("error_description", ""),
    )
