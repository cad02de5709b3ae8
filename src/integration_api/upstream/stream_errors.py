"""Errors every provider's chat stream shares, whatever its wire format.

A stream that stops before the provider's end marker (`[DONE]`, Anthropic's `message_stop`, a
Gemini `finishReason`) is broken, never complete; an error the provider reports inside a 200
stream ends the call with `PROVIDER_STREAM_ERROR`. The chat pipeline raises `truncated` too,
when an adapter ends without a `Finish`, so it knows no provider module.
"""

from __future__ import annotations

from integration_api.errors import Unavailable

# A 2xx answer that is not what the provider documents (not JSON, a number out of range).
PROVIDER_BAD_RESPONSE = "PROVIDER_BAD_RESPONSE"
PROVIDER_STREAM_ERROR = "PROVIDER_STREAM_ERROR"
STREAM_TRUNCATED = "STREAM_TRUNCATED"


def truncated(provider: str) -> Unavailable:
    """The error for a stream from `provider` that ended before its end marker."""
    return Unavailable(
        f"the stream from {provider} ended before its end marker",
        reason=STREAM_TRUNCATED,
        provider=provider,
    )
