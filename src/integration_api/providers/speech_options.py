"""Refusals of a transcription option a provider has no equivalent for.

Every option of the contract is either sent to the provider as its own parameter or refused
before anything is sent, naming the field: an option is never dropped on the way.
"""

from __future__ import annotations

from integration_api.errors import InvalidArgument


def unsupported_option(field: str, provider: str, why: str) -> InvalidArgument:
    """The refusal of `field` (`config.diarize`) for `provider`, saying why."""
    return InvalidArgument.for_field(field, f"{provider} {why}")
