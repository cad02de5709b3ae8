"""Errors every provider's stream reader shares: a stream cut short, a stream that reported one.

A provider marks the end of a complete answer in its own way (`[DONE]`, `message_stop`, a
Gemini `finishReason`); a body that ends before that mark is a broken answer, never a short
complete one. These are the typed errors for both cases, whatever the provider.
"""

from __future__ import annotations

from integration_api.errors import Unavailable

PROVIDER_STREAM_ERROR = "PROVIDER_STREAM_ERROR"
STREAM_TRUNCATED = "STREAM_TRUNCATED"


def truncated(provider: str) -> Unavailable:
    """The error for a stream that ended before the provider marked its end."""
    return Unavailable(
        f"the stream from {provider} ended before its end marker",
        reason=STREAM_TRUNCATED,
        provider=provider,
    )
