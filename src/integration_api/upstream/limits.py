"""How much an upstream may make the service hold, and for how long: one place for every bound.

A provider (or whatever a `base_url` points at) is not trusted to be small or quick. Each bound
ends the call with a status that names it, instead of letting one answer grow the process's
memory or hold a connection for ever. The values come from the environment (see `config` and
the README's configuration table); `UpstreamLimits()` holds the defaults.
"""

from __future__ import annotations

from dataclasses import dataclass

from integration_api.errors import DeadlineExceeded, ResourceExhausted, Unavailable

# ErrorInfo reasons, one per bound, so a caller (and a dashboard) can tell which one ended a call.
RESPONSE_TOO_LARGE = "UPSTREAM_RESPONSE_TOO_LARGE"
SSE_LINE_TOO_LARGE = "UPSTREAM_SSE_LINE_TOO_LARGE"
SSE_EVENT_TOO_LARGE = "UPSTREAM_SSE_EVENT_TOO_LARGE"
TOO_MANY_TOOL_CALLS = "UPSTREAM_TOO_MANY_TOOL_CALLS"
TOOL_ARGUMENTS_TOO_LARGE = "UPSTREAM_TOOL_ARGUMENTS_TOO_LARGE"
ANSWER_TOO_SLOW = "UPSTREAM_ANSWER_TOO_SLOW"
EVENT_GAP_TOO_LONG = "UPSTREAM_EVENT_GAP_TOO_LONG"
TENANT_CALL_LIMIT = "TENANT_CONCURRENT_CALL_LIMIT"

_MIB = 1024 * 1024


@dataclass(frozen=True)
class UpstreamLimits:
    """Bounds on what one upstream answer may cost, and on how many calls run at once.

    Attributes:
        max_body_bytes: a non-streamed answer (verification, embeddings), decoded.
        max_error_body_bytes: an error answer is read this far and no further (not an error).
        max_sse_line_bytes: one line of an event stream.
        max_sse_event_bytes: one event of an event stream (all its lines).
        max_tool_calls: tool calls in one answer.
        max_tool_arguments_bytes: the arguments of all tool calls of one answer together.
        max_answer_seconds: one upstream answer from request to its last byte.
        max_event_gap_seconds: the wait for the next event of a stream (comments do not count).
        max_connections: connections of the process to all providers together.
        max_connections_per_host: connections to one host and port.
        max_calls_per_tenant: Chat streams and Embed calls one tenant has in flight at once,
            fleet-wide with Redis (`llm.tenant_calls`), else a share per process.
        max_embed_inputs: texts in one Embed request.
        max_embed_characters: characters of all texts of one Embed request together.
    """

    max_body_bytes: int = 32 * _MIB
    max_error_body_bytes: int = 64 * 1024
    max_sse_line_bytes: int = 1 * _MIB
    max_sse_event_bytes: int = 4 * _MIB
    max_tool_calls: int = 128
    max_tool_arguments_bytes: int = 4 * _MIB
    max_answer_seconds: float = 600.0
    max_event_gap_seconds: float = 120.0
    max_connections: int = 1024
    max_connections_per_host: int = 256
    max_calls_per_tenant: int = 256
    max_embed_inputs: int = 8192
    max_embed_characters: int = 1_000_000


DEFAULT_LIMITS = UpstreamLimits()


def too_large(provider: str, what: str, limit: int, reason: str) -> Unavailable:
    """`what` of `provider`'s answer passed `limit`; nothing of it is quoted.

    UNAVAILABLE and retryable like any broken answer: each attempt is bounded, and a proxy
    that garbled one answer may deliver the next.
    """
    return Unavailable(
        f"{provider} sent {what} larger than the limit of {limit} bytes",
        reason=reason,
        provider=provider,
    )


def answer_too_slow(provider: str, limit: float) -> DeadlineExceeded:
    return DeadlineExceeded(
        f"{provider} took longer than the limit of {limit:g} s for one answer",
        reason=ANSWER_TOO_SLOW,
        provider=provider,
    )


def event_gap_too_long(provider: str, limit: float) -> DeadlineExceeded:
    return DeadlineExceeded(
        f"{provider} sent no event for longer than the limit of {limit:g} s",
        reason=EVENT_GAP_TOO_LONG,
        provider=provider,
    )


def tenant_call_limit(limit: int) -> ResourceExhausted:
    return ResourceExhausted(
        f"this tenant already has {limit} provider calls in flight, its limit",
        reason=TENANT_CALL_LIMIT,
        retry_after_seconds=1.0,
    )
