"""Caps on the caller's values that the service forwards to a provider.

gRPC bounds a whole request (`GRPC_MAX_MESSAGE_BYTES`), but not what one value may hold once it
is placed in a URL, a query string or a header, where a provider or the HTTP stack refuses it in
ways that do not say which field was too large (or where it multiplies, term by term, into a
handshake line). Every such value is checked here first and refused as INVALID_ARGUMENT naming
its field. The caps are far above what any provider accepts for the value, so they never refuse
a request a provider would take; they are constants, documented in docs/threat-model.md.
"""

from __future__ import annotations

from collections.abc import Sequence

from integration_api.errors import InvalidArgument

# Names that end in URL paths or query strings: models, deployments, voices, versions.
MAX_MODEL_CHARACTERS = 256
MAX_VOICE_CHARACTERS = 256
MAX_LANGUAGE_CHARACTERS = 64
MAX_API_VERSION_CHARACTERS = 64
# Speech keyterms travel in the socket's URL (Deepgram `keyterm`, AssemblyAI `keyterms_prompt`,
# Cartesia `keyterm`; Cartesia takes at most 100 terms of 1,200 characters in all).
MAX_KEYTERMS = 100
MAX_KEYTERM_CHARACTERS = 100
MAX_KEYTERMS_TOTAL_CHARACTERS = 2000
# Lists that every provider takes in a JSON body, each far below the request's own cap.
MAX_TOOLS = 256
MAX_TOOL_NAME_CHARACTERS = 256
MAX_STOP_SEQUENCES = 64
MAX_STOP_SEQUENCE_CHARACTERS = 1000


def cap_text(field: str, value: str, limit: int) -> str:
    """`value`, when it holds at most `limit` characters."""
    if len(value) > limit:
        raise InvalidArgument.for_field(field, f"must be at most {limit} characters")
    return value


def cap_texts(
    field: str, values: Sequence[str], *, count: int, each: int, total: int | None = None
) -> Sequence[str]:
    """`values`, when there are at most `count`, each of at most `each` characters (and at most
    `total` characters in all)."""
    if len(values) > count:
        raise InvalidArgument.for_field(field, f"at most {count} entries")
    for index, value in enumerate(values):
        cap_text(f"{field}[{index}]", value, each)
    if total is not None and sum(len(value) for value in values) > total:
        raise InvalidArgument.for_field(field, f"at most {total} characters in all")
    return values
