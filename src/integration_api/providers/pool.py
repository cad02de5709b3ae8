"""Tells a wait for a free pooled connection apart from a slow provider.

aiohttp bounds the wait for a slot in its pool and the TCP connect with one timeout and raises
the same error for both. Its tracing signals say when a request joins and leaves the queue of a
full pool; the flag they keep (in the request's own task context) lets the transport report
"waiting for a connection" instead of "did not answer in time".
"""

from __future__ import annotations

from contextvars import ContextVar
from types import SimpleNamespace

import aiohttp

_WAITING_FOR_CONNECTION: ContextVar[bool] = ContextVar("waiting_for_connection", default=False)


async def _request_started(
    session: aiohttp.ClientSession, context: SimpleNamespace, params: object
) -> None:
    _WAITING_FOR_CONNECTION.set(False)


async def _queued(session: aiohttp.ClientSession, context: SimpleNamespace, params: object) -> None:
    _WAITING_FOR_CONNECTION.set(True)


async def _dequeued(
    session: aiohttp.ClientSession, context: SimpleNamespace, params: object
) -> None:
    _WAITING_FOR_CONNECTION.set(False)


def pool_wait_tracing() -> aiohttp.TraceConfig:
    """The trace configuration a session needs for `waited_for_connection` to be right."""
    config = aiohttp.TraceConfig()
    config.on_request_start.append(_request_started)
    config.on_connection_queued_start.append(_queued)
    config.on_connection_queued_end.append(_dequeued)
    return config


def waited_for_connection() -> bool:
    """True when this task's last request failed while queued for a pooled connection."""
    return _WAITING_FOR_CONNECTION.get()
